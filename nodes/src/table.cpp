// Table functions (<dagflow/nodes/table.hpp>): select, filter, derive, sort, join and to_rows over
// rows of Values, shared by the table ops and C++ callers.
#include <dagflow/nodes/table.hpp>
// (the header this file implements first)

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "expression.hpp"
#include "rows.hpp"

namespace dagflow {

namespace {

// An int and a double compared exactly (no rounding of the int to a double).
std::partial_ordering compare_int_double(std::int64_t i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  constexpr double kTwo63 = 9223372036854775808.0;
  if (d >= kTwo63) return std::partial_ordering::less;
  if (d < -kTwo63) return std::partial_ordering::greater;
  const double whole = std::trunc(d);  // within int64 now
  const auto w = static_cast<std::int64_t>(whole);
  if (i != w) return i <=> w;
  const double fraction = d - whole;  // exact
  return 0.0 <=> fraction;
}

// b <=> a from a <=> b.
std::partial_ordering reversed(std::partial_ordering c) {
  if (std::is_lt(c)) return std::partial_ordering::greater;
  if (std::is_gt(c)) return std::partial_ordering::less;
  return c;
}

// Two numbers by value; unordered when either is a NaN.
std::partial_ordering compare_numbers(const Value& a, const Value& b) {
  const bool a_int = a.kind() == ValueKind::kInt;
  const bool b_int = b.kind() == ValueKind::kInt;
  if (a_int && b_int) return a.as_int() <=> b.as_int();
  if (a_int) return compare_int_double(a.as_int(), b.as_double());
  if (b_int) return reversed(compare_int_double(b.as_int(), a.as_double()));
  return a.as_double() <=> b.as_double();
}

bool holds(Comparison op, std::partial_ordering c) {
  switch (op) {
    case Comparison::kEqual:
      return std::is_eq(c);
    case Comparison::kNotEqual:
      return std::is_neq(c);
    case Comparison::kLess:
      return std::is_lt(c);
    case Comparison::kLessEqual:
      return std::is_lteq(c);
    case Comparison::kGreater:
      return std::is_gt(c);
    case Comparison::kGreaterEqual:
      return std::is_gteq(c);
  }
  return false;
}

// Where a kind sorts among the others: null < bool < number < string < path.
int kind_rank(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return 0;
    case ValueKind::kBool:
      return 1;
    case ValueKind::kInt:
    case ValueKind::kDouble:
      return 2;
    case ValueKind::kString:
      return 3;
    default:
      return 4;
  }
}

bool is_nan(const Value& v) { return v.kind() == ValueKind::kDouble && std::isnan(v.as_double()); }

// The order of sort_rows (a total order: a NaN after every other number, equal to a NaN).
std::weak_ordering sort_order(const Value& a, const Value& b) {
  if (const auto c = kind_rank(a) <=> kind_rank(b); std::is_neq(c)) return c;
  switch (a.kind()) {
    case ValueKind::kNull:
      return std::weak_ordering::equivalent;
    case ValueKind::kBool:
      return a.as_bool() <=> b.as_bool();
    case ValueKind::kString:
      return a.as_string() <=> b.as_string();
    case ValueKind::kPath:
      return a.as_path().shown <=> b.as_path().shown;
    default:
      break;
  }
  if (is_nan(a) || is_nan(b)) return is_nan(a) <=> is_nan(b);
  const std::partial_ordering c = compare_numbers(a, b);
  return std::is_lt(c)   ? std::weak_ordering::less
         : std::is_gt(c) ? std::weak_ordering::greater
                         : std::weak_ordering::equivalent;
}

// A cell that sort_rows can order: anything but a list or a map.
const Value& sortable_cell(const Value::Map& row, std::size_t r, const std::string& column) {
  const Value& v = detail::row_cell(row, r, column);
  if (v.kind() == ValueKind::kList || v.kind() == ValueKind::kMap) {
    throw Error(fmt::format("row {}: the column '{}' is a {}, which does not sort", r, column,
                            kind_name(v.kind())));
  }
  return v;
}

// Join keys equal: numbers by value, anything else by Value equality.
bool same_key(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return std::is_eq(compare_numbers(a, b));
  return a == b;
}

// A text that equal keys (same_key) share, for the hash index: a number that is whole as an int,
// other numbers by their shortest text, strings length-prefixed, anything else as JSON.
void append_key_text(std::string& out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kInt:
      fmt::format_to(std::back_inserter(out), "i{}", v.as_int());
      break;
    case ValueKind::kDouble: {
      const double d = v.as_double();
      constexpr double kTwo63 = 9223372036854775808.0;
      if (std::trunc(d) == d && d >= -kTwo63 && d < kTwo63) {
        fmt::format_to(std::back_inserter(out), "i{}", static_cast<std::int64_t>(d));
      } else {
        fmt::format_to(std::back_inserter(out), "d{}", d);
      }
      break;
    }
    case ValueKind::kString:
      fmt::format_to(std::back_inserter(out), "s{}:{}", v.as_string().size(), v.as_string());
      break;
    case ValueKind::kPath:
      fmt::format_to(std::back_inserter(out), "p{}", to_json(Value(v.as_path().resolved.string())));
      break;
    default:
      out += 'j';
      out += to_json(v);
  }
  out += '\x1f';
}

// The `on` values of a row of a join, and their key text.
struct JoinKey {
  std::vector<const Value*> values;
  std::string text;
};

JoinKey join_key(const Value::Map& row, std::size_t r, const std::vector<std::string>& on,
                 std::string_view side) {
  JoinKey key;
  key.values.reserve(on.size());
  for (const std::string& column : on) {
    key.values.push_back(&detail::row_cell(row, r, column, side));
    append_key_text(key.text, *key.values.back());
  }
  return key;
}

}  // namespace

std::vector<Value::Map> select_columns(const std::vector<Value::Map>& rows,
                                       const std::vector<std::string>& columns) {
  std::vector<Value::Map> out;
  out.reserve(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    Value::Map row;
    for (const std::string& column : columns) {
      row.insert_or_assign(column, detail::row_cell(rows[r], r, column));
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<Comparison> parse_comparison(std::string_view text) noexcept {
  if (text == "==") return Comparison::kEqual;
  if (text == "!=") return Comparison::kNotEqual;
  if (text == "<") return Comparison::kLess;
  if (text == "<=") return Comparison::kLessEqual;
  if (text == ">") return Comparison::kGreater;
  if (text == ">=") return Comparison::kGreaterEqual;
  return std::nullopt;
}

std::vector<Value::Map> filter_rows(const std::vector<Value::Map>& rows, const std::string& column,
                                    Comparison op, const Value& value) {
  const bool number = value.is_number();
  if (!number && value.kind() != ValueKind::kString) {
    throw std::invalid_argument(
        fmt::format("filter_rows: the value to compare with must be a number or a string, not a {}",
                    kind_name(value.kind())));
  }
  std::vector<Value::Map> out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::partial_ordering c = std::partial_ordering::unordered;
    if (number) {
      c = compare_numbers(detail::row_number(rows[r], r, column), value);
    } else {
      const Value& cell = detail::row_cell(rows[r], r, column);
      if (cell.kind() != ValueKind::kString) {
        throw Error(
            fmt::format("row {}: the column '{}' is not a string: {}", r, column, to_json(cell)));
      }
      c = cell.as_string() <=> value.as_string();
    }
    if (holds(op, c)) out.push_back(rows[r]);
  }
  return out;
}

void check_expression(std::string_view expression) { (void)detail::Expression(expression); }

std::vector<Value::Map> derive_column(std::vector<Value::Map> rows, const std::string& column,
                                      std::string_view expression) {
  const detail::Expression parsed(expression);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    Value v = parsed.evaluate(rows[r], r);
    rows[r].insert_or_assign(column, std::move(v));
  }
  return rows;
}

std::vector<Value::Map> sort_rows(std::vector<Value::Map> rows, const std::vector<std::string>& by,
                                  bool descending) {
  // Each row's sort values, looked up (and checked) once.
  std::vector<std::vector<const Value*>> keys(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    keys[r].reserve(by.size());
    for (const std::string& column : by) keys[r].push_back(&sortable_cell(rows[r], r, column));
  }
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (std::size_t c = 0; c < by.size(); ++c) {
      const std::weak_ordering o = sort_order(*keys[a][c], *keys[b][c]);
      if (std::is_neq(o)) return descending ? std::is_gt(o) : std::is_lt(o);
    }
    return false;
  });
  std::vector<Value::Map> out;
  out.reserve(rows.size());
  for (const std::size_t r : order) out.push_back(std::move(rows[r]));
  return out;
}

std::optional<JoinKind> parse_join_kind(std::string_view text) noexcept {
  if (text == "inner") return JoinKind::kInner;
  if (text == "left") return JoinKind::kLeft;
  return std::nullopt;
}

std::vector<Value::Map> join_rows(const std::vector<Value::Map>& left,
                                  const std::vector<Value::Map>& right,
                                  const std::vector<std::string>& on, JoinKind how) {
  if (on.empty()) throw std::invalid_argument("join_rows: no column to join on");
  std::vector<JoinKey> right_keys;
  right_keys.reserve(right.size());
  std::unordered_map<std::string, std::vector<std::size_t>> index;
  for (std::size_t r = 0; r < right.size(); ++r) {
    right_keys.push_back(join_key(right[r], r, on, "right row"));
    index[right_keys.back().text].push_back(r);
  }
  const auto is_on = [&](const std::string& name) {
    return std::find(on.begin(), on.end(), name) != on.end();
  };
  std::vector<Value::Map> out;
  out.reserve(left.size());
  for (std::size_t l = 0; l < left.size(); ++l) {
    const JoinKey key = join_key(left[l], l, on, "left row");
    bool matched = false;
    if (const auto it = index.find(key.text); it != index.end()) {
      for (const std::size_t r : it->second) {
        const std::vector<const Value*>& other = right_keys[r].values;
        bool same = true;
        for (std::size_t c = 0; c < on.size() && same; ++c)
          same = same_key(*key.values[c], *other[c]);
        if (!same) continue;
        matched = true;
        Value::Map row = left[l];
        for (const auto& [name, v] : right[r]) {
          if (is_on(name)) continue;
          std::string joined = left[l].contains(name) ? name + "_right" : name;
          if (!row.contains(joined)) {
            row.emplace(std::move(joined), v);
            continue;
          }
          throw Error(
              fmt::format("left row {} and right row {}: the joined row would have the "
                          "column '{}' twice",
                          l, r, joined));
        }
        out.push_back(std::move(row));
      }
    }
    if (!matched && how == JoinKind::kLeft) out.push_back(left[l]);
  }
  return out;
}

std::vector<Value::Map> rollup_to_rows(const Value::Map& rollup, const std::string& key) {
  std::vector<Value::Map> rows;
  rows.reserve(rollup.size());
  for (const auto& [group, stats] : rollup) {
    if (stats.kind() != ValueKind::kMap) {
      throw Error(fmt::format("group '{}' is not a map: {}", group, to_json(stats)));
    }
    Value::Map row = stats.as_map();
    if (!row.emplace(key, detail::unquoted_field(group)).second) {
      throw Error(fmt::format("group '{}' has a column '{}' already", group, key));
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const Value::Map& a, const Value::Map& b) {
    return std::is_lt(sort_order(a.at(key), b.at(key)));
  });
  return rows;
}

}  // namespace dagflow
