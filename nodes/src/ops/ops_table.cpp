// Table ops: select, filter, derive, sort, join, to_rows (all calling <dagflow/nodes/table.hpp>),
// with the checks that find a bad comparison, join kind or expression when a pipeline loads.
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <dagflow/nodes/table.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

using Rows = std::vector<Value::Map>;

// The string argument `name` of a node, or null when it is absent or no string (then the types
// are checked, and reported, elsewhere).
const std::string* string_arg(const Value::Map& args, const char* name) {
  const auto it = args.find(name);
  if (it == args.end() || it->second.kind() != ValueKind::kString) return nullptr;
  return &it->second.as_string();
}

// A node's list argument `name` must not be empty.
std::optional<NodeProblem> check_not_empty(const Value::Map& args, const char* name,
                                           const char* why) {
  const auto it = args.find(name);
  if (it == args.end() || it->second.kind() != ValueKind::kList || !it->second.as_list().empty()) {
    return std::nullopt;
  }
  return NodeProblem{name, fmt::format("{} is empty: {}", name, why)};
}

std::optional<NodeProblem> check_filter(const OpContext& /*ctx*/, const Value::Map& args,
                                        NodeShape /*shape*/) {
  if (const std::string* op = string_arg(args, "op"); op != nullptr && !parse_comparison(*op)) {
    return NodeProblem{"op", fmt::format("unknown comparison '{}' (one of == != < <= > >=)", *op)};
  }
  const auto value = args.find("value");
  if (value != args.end() && !value->second.is_number() &&
      value->second.kind() != ValueKind::kString) {
    return NodeProblem{"value", fmt::format("value must be a number or a string to compare "
                                            "with, not a {}",
                                            kind_name(value->second.kind()))};
  }
  return std::nullopt;
}

std::optional<NodeProblem> check_derive(const OpContext& /*ctx*/, const Value::Map& args,
                                        NodeShape /*shape*/) {
  const std::string* expr = string_arg(args, "expr");
  if (expr == nullptr) return std::nullopt;
  try {
    check_expression(*expr);
  } catch (const ExpressionError& e) {
    return NodeProblem{.arg = "expr",
                       .message = fmt::format("syntax error in the expression: {}", e.what()),
                       .offset = e.offset()};
  }
  return std::nullopt;
}

std::optional<NodeProblem> check_sort(const OpContext& /*ctx*/, const Value::Map& args,
                                      NodeShape /*shape*/) {
  return check_not_empty(args, "by", "name the columns to sort by");
}

std::optional<NodeProblem> check_join(const OpContext& /*ctx*/, const Value::Map& args,
                                      NodeShape /*shape*/) {
  if (const std::string* how = string_arg(args, "how"); how != nullptr && !parse_join_kind(*how)) {
    return NodeProblem{"how", fmt::format("unknown join '{}' (inner or left)", *how)};
  }
  return check_not_empty(args, "on", "name the columns to join on");
}

// The ops' own reading of an argument the node check has seen (a direct call is checked here).
Comparison comparison(const std::string& op) {
  const std::optional<Comparison> c = parse_comparison(op);
  if (!c) throw Error(fmt::format("unknown comparison '{}' (one of == != < <= > >=)", op));
  return *c;
}

JoinKind join_kind(const std::string& how) {
  const std::optional<JoinKind> kind = parse_join_kind(how);
  if (!kind) throw Error(fmt::format("unknown join '{}' (inner or left)", how));
  return *kind;
}

}  // namespace

void add_table_ops(OpRegistry& ops) {
  ops.add("select",
          [](const Rows& rows, const std::vector<std::string>& columns) {
            return select_columns(rows, columns);
          },
          "Keeps the listed columns of each row (a list of maps), and only those; a row without "
          "one of them is an error. Columns have no order of their own: write_csv writes them "
          "sorted by name.",
          {arg("columns")});

  ops.add("filter",
          [](const Rows& rows, const std::string& column, const std::string& op,
             const Value& value) { return filter_rows(rows, column, comparison(op), value); },
          "Keeps the rows whose `column` compares with `value` as `op` says (== != < <= > >=): "
          "numbers by value, strings byte by byte. A value of the other kind, or a row without "
          "the column, is an error naming the row.",
          {arg("column"), arg("op"), arg("value")})
      .set_node_check(&check_filter);

  ops.add("derive",
          [](Rows rows, const std::string& column, const std::string& expr) {
            return derive_column(std::move(rows), column, expr);
          },
          "Sets the column `column` of each row to `expr`, an expression over its numeric "
          "columns and numbers with + - * /, unary minus and parentheses (\"units * price\"; a "
          "name in backticks may hold any character but a backtick). Ints stay ints for + - * "
          "(int64 overflow is an error), / always gives a double; division by zero is an error. "
          "The expression is checked when the pipeline loads.",
          {arg("column"), arg("expr")})
      .set_node_check(&check_derive);

  ops.add("sort",
          [](Rows rows, const std::vector<std::string>& by, bool descending) {
            return sort_rows(std::move(rows), by, descending);
          },
          "Sorts rows by the columns `by` (the first, ties by the next...), stable. Numbers "
          "compare by value, strings byte by byte; across kinds null < bool < number < string.",
          {arg("by"), arg("descending", false)})
      .set_node_check(&check_sort);

  ops.add("join",
          [](const Rows& left, const Rows& right, const std::vector<std::string>& on,
             const std::string& how) { return join_rows(left, right, on, join_kind(how)); },
          "Joins the rows of its first input with those of its second whose `on` columns are "
          "equal (numbers by value): each left row in order, once per match in the right rows' "
          "order, with the right row's other columns added (named NAME_right when the left row "
          "has NAME). `how`: inner drops a left row without a match, left keeps it as it is.",
          {arg("on"), arg("how", "inner")})
      .set_node_check(&check_join);

  ops.add(
      "to_rows",
      [](const Value::Map& rollup, const std::string& key) { return rollup_to_rows(rollup, key); },
      "Turns a roll-up (rollup's map group -> {count, sum, mean, min, max}) into rows, one per "
      "group, its name in the column `key` (read as a CSV field: numbers become numbers), "
      "sorted by it: ready for write_csv.",
      {arg("key")});
}

}  // namespace dagflow
