#include <dagflow/nodes/table.hpp>

// Tests of the table functions behind the select, filter, derive, sort, join and to_rows ops,
// and of the ops themselves (called as a pipeline node calls them, load-time checks included).
// Rows are compared as compact JSON, which keeps an int apart from a double ("1" vs "1.0") and
// shows a failure readably.
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/csv.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/ops.hpp"
#include "support/text.hpp"

namespace {

using dagflow::Comparison;
using dagflow::JoinKind;
using dagflow::Value;
using dagflow::test::builtin_ops;
using dagflow::test::call_op;
using dagflow::test::thrown_message;
using Rows = std::vector<Value::Map>;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::string json(const Rows& rows) {
  Value::List list(rows.begin(), rows.end());
  return dagflow::to_json(Value(std::move(list)));
}

Rows rows_of(const char* json_text) {
  Rows rows;
  const Value list = dagflow::from_json(json_text);
  for (const Value& v : list.as_list()) rows.push_back(v.as_map());
  return rows;
}

// The message of the dagflow::Error `f` throws, or "(no error)".
template <class F>
std::string error_of(F&& f) {
  return thrown_message<dagflow::Error>(std::forward<F>(f));
}

// Three sales.
Rows sales() {
  return rows_of(R"([
    {"region": "east", "units": 3, "price": 2.5},
    {"region": "west", "units": 10, "price": 1},
    {"region": "east", "units": 4, "price": 2}])");
}

std::string filtered(const Rows& rows, const char* column, Comparison op, const Value& value) {
  return json(dagflow::filter_rows(rows, column, op, value));
}

std::string derived(const Rows& rows, const char* expr) {
  return json(dagflow::derive_column(rows, "x", expr));
}

// The problem a built-in op's node check finds in `args`, if any.
std::optional<dagflow::NodeProblem> node_problem(const char* op, const Value::Map& args) {
  const dagflow::OpInfo* info = builtin_ops().find(op);
  REQUIRE(info != nullptr);
  REQUIRE(info->node_check() != nullptr);
  return info->node_check()(dagflow::OpContext{}, args, dagflow::NodeShape{.inputs = 1});
}

}  // namespace

// select keeps exactly the columns listed; a row without one is an error that names it.
TEST_CASE("select_columns: keeps exactly the columns listed", "[nodes][table]") {
  const Rows rows = sales();
  CHECK(json(dagflow::select_columns(rows, {"units", "region"})) ==
        R"([{"region":"east","units":3},{"region":"west","units":10},)"
        R"({"region":"east","units":4}])");
  CHECK(json(dagflow::select_columns(rows, {})) == "[{},{},{}]");
  CHECK(json(dagflow::select_columns({}, {"a"})) == "[]");
  const Rows ragged = rows_of(R"([{"a": 1, "b": 2}, {"a": 3}])");
  CHECK(error_of([&] {
          (void)dagflow::select_columns(ragged, {"a", "b"});
        }) == "row 1 has no column 'b'");
}

// Each comparison, on numbers (by value, int against double) and on strings (byte order).
TEST_CASE("filter_rows: each comparison on numbers and strings", "[nodes][table]") {
  const Rows rows = rows_of(R"([{"n": 1, "s": "b"}, {"n": 2.5, "s": "a"}, {"n": 3, "s": "c"}])");
  CHECK(filtered(rows, "n", Comparison::kEqual, 3) == R"([{"n":3,"s":"c"}])");
  CHECK(filtered(rows, "n", Comparison::kEqual, 3.0) == R"([{"n":3,"s":"c"}])");
  CHECK(filtered(rows, "n", Comparison::kNotEqual, 3) == R"([{"n":1,"s":"b"},{"n":2.5,"s":"a"}])");
  CHECK(filtered(rows, "n", Comparison::kLess, 2.5) == R"([{"n":1,"s":"b"}])");
  CHECK(filtered(rows, "n", Comparison::kLessEqual, 2.5) ==
        R"([{"n":1,"s":"b"},{"n":2.5,"s":"a"}])");
  CHECK(filtered(rows, "n", Comparison::kGreater, 2) == R"([{"n":2.5,"s":"a"},{"n":3,"s":"c"}])");
  CHECK(filtered(rows, "n", Comparison::kGreaterEqual, 3) == R"([{"n":3,"s":"c"}])");
  CHECK(filtered(rows, "s", Comparison::kEqual, "a") == R"([{"n":2.5,"s":"a"}])");
  CHECK(filtered(rows, "s", Comparison::kNotEqual, "a") == R"([{"n":1,"s":"b"},{"n":3,"s":"c"}])");
  CHECK(filtered(rows, "s", Comparison::kLess, "b") == R"([{"n":2.5,"s":"a"}])");
  CHECK(filtered(rows, "s", Comparison::kLessEqual, "b") ==
        R"([{"n":1,"s":"b"},{"n":2.5,"s":"a"}])");
  CHECK(filtered(rows, "s", Comparison::kGreater, "b") == R"([{"n":3,"s":"c"}])");
  CHECK(filtered(rows, "s", Comparison::kGreaterEqual, "c") == R"([{"n":3,"s":"c"}])");
}

// Ints and doubles compare exactly, even where a double cannot hold the int.
TEST_CASE("filter_rows: an int and a double compare exactly", "[nodes][table]") {
  const Rows big = {Value::Map{{"n", kMax}}};
  // 2^63 as a double is more than every int64; kMax as a double rounds up to it.
  CHECK(filtered(big, "n", Comparison::kLess, 9223372036854775808.0) ==
        R"([{"n":)" + std::to_string(kMax) + "}]");
  CHECK(filtered(big, "n", Comparison::kEqual, 9223372036854775808.0) == "[]");
  const Rows small = {Value::Map{{"n", 2}}};
  CHECK(filtered(small, "n", Comparison::kGreater, 1.5) == R"([{"n":2}])");
  CHECK(filtered(small, "n", Comparison::kLess, 2.0000001) == R"([{"n":2}])");
  CHECK(filtered(small, "n", Comparison::kEqual, -2) == "[]");
}

// A number compared with a string (either way), or a missing column, names the row.
TEST_CASE("filter_rows: numbers against strings and missing columns are errors naming the row",
          "[nodes][table][errors]") {
  const Rows rows = rows_of(R"([{"n": 1, "s": "a"}, {"n": "x", "s": 2}, {"m": 1}])");
  CHECK(error_of([&] { (void)dagflow::filter_rows(rows, "n", Comparison::kLess, 5); }) ==
        R"(row 1: the column 'n' is not a number: "x")");
  CHECK(error_of([&] { (void)dagflow::filter_rows(rows, "s", Comparison::kEqual, "a"); }) ==
        "row 1: the column 's' is not a string: 2");
  const Rows missing = rows_of(R"([{"n": 1}, {"m": 1}])");
  CHECK(error_of([&] { (void)dagflow::filter_rows(missing, "n", Comparison::kEqual, 1); }) ==
        "row 1 has no column 'n'");
  CHECK_THROWS_AS(dagflow::filter_rows(rows, "n", Comparison::kEqual, Value(true)),
                  std::invalid_argument);
}

TEST_CASE("parse_comparison and parse_join_kind: the written forms", "[nodes][table]") {
  CHECK(dagflow::parse_comparison("==") == Comparison::kEqual);
  CHECK(dagflow::parse_comparison("!=") == Comparison::kNotEqual);
  CHECK(dagflow::parse_comparison("<") == Comparison::kLess);
  CHECK(dagflow::parse_comparison("<=") == Comparison::kLessEqual);
  CHECK(dagflow::parse_comparison(">") == Comparison::kGreater);
  CHECK(dagflow::parse_comparison(">=") == Comparison::kGreaterEqual);
  CHECK_FALSE(dagflow::parse_comparison("="));
  CHECK_FALSE(dagflow::parse_comparison("=>"));
  CHECK(dagflow::parse_join_kind("inner") == JoinKind::kInner);
  CHECK(dagflow::parse_join_kind("left") == JoinKind::kLeft);
  CHECK_FALSE(dagflow::parse_join_kind("outer"));
}

// Ints stay ints for + - *, anything with a double is a double, / is true division.
TEST_CASE("derive_column: ints stay ints, doubles spread, / divides truly", "[nodes][table]") {
  const Rows rows = rows_of(R"([{"a": 7, "b": 2, "d": 0.5}])");
  CHECK(derived(rows, "a * b") == R"([{"a":7,"b":2,"d":0.5,"x":14}])");
  CHECK(derived(rows, "a - b - 1") == R"([{"a":7,"b":2,"d":0.5,"x":4}])");
  CHECK(derived(rows, "a + d") == R"([{"a":7,"b":2,"d":0.5,"x":7.5}])");
  CHECK(derived(rows, "a / b") == R"([{"a":7,"b":2,"d":0.5,"x":3.5}])");
  CHECK(derived(rows, "4 / b") == R"([{"a":7,"b":2,"d":0.5,"x":2.0}])");
  CHECK(derived(rows, "-(a + b) * 2") == R"([{"a":7,"b":2,"d":0.5,"x":-18}])");
  CHECK(derived(rows, "a + b * 2") == R"([{"a":7,"b":2,"d":0.5,"x":11}])");
  CHECK(derived(rows, "2.") == R"([{"a":7,"b":2,"d":0.5,"x":2.0}])");
  // An existing column is replaced.
  CHECK(json(dagflow::derive_column(rows, "a", "a * 10")) == R"([{"a":70,"b":2,"d":0.5}])");
  // Backticks name a column with any characters.
  const Rows spaced = rows_of(R"([{"unit price": 3, "units": 2}])");
  CHECK(json(dagflow::derive_column(spaced, "r", "`unit price` * units")) ==
        R"([{"r":6,"unit price":3,"units":2}])");
}

// Overflow, division by zero and non-numbers fail, naming the row (and the column).
TEST_CASE("derive_column: overflow, division by zero and non-numbers name the row",
          "[nodes][table][errors]") {
  const Rows rows = {Value::Map{{"a", 1}, {"b", 0}}, Value::Map{{"a", kMax}, {"b", 0.0}}};
  CHECK(error_of([&] { (void)dagflow::derive_column(rows, "x", "a + 1"); }) ==
        "row 1: int64 overflow: 9223372036854775807 + 1");
  CHECK(error_of([&] { (void)dagflow::derive_column(rows, "x", "a * 2"); }) ==
        "row 1: int64 overflow: 9223372036854775807 * 2");
  CHECK(error_of([&] { (void)dagflow::derive_column(rows, "x", "0 - a - 2"); }) ==
        "row 1: int64 overflow: -9223372036854775807 - 2");
  CHECK(error_of([&] { (void)dagflow::derive_column(rows, "x", "a / b"); }) ==
        "row 0: division by zero: 1 / 0");
  CHECK(error_of([&] {
          (void)dagflow::derive_column({Value::Map{{"a", 1}, {"b", 0.0}}}, "x", "a / b");
        }) == "row 0: division by zero: 1 / 0.0");
  const Rows min = {Value::Map{{"a", kMin}}};
  CHECK(error_of([&] { (void)dagflow::derive_column(min, "x", "-a"); }) ==
        "row 0: int64 overflow: -(-9223372036854775808)");
  const Rows text = rows_of(R"([{"a": 1, "b": 2}, {"a": 1, "b": ""}])");
  CHECK(error_of([&] { (void)dagflow::derive_column(text, "x", "a * b"); }) ==
        R"(row 1: the column 'b' is not a number: "")");
  CHECK(error_of([&] { (void)dagflow::derive_column(text, "x", "a * c"); }) ==
        "row 0 has no column 'c'");
  const Rows huge = {Value::Map{{"a", 1e300}}};
  CHECK(error_of([&] { (void)dagflow::derive_column(huge, "x", "a * a"); }) ==
        "row 0: the result is not a finite number: 1e+300 * 1e+300");
  CHECK_THROWS_AS(dagflow::derive_column(text, "x", "a *"), dagflow::ExpressionError);
}

// Stable: rows equal on every sort column keep their order, ascending and descending.
TEST_CASE("sort_rows: stable, by several columns, either direction", "[nodes][table]") {
  const Rows rows = rows_of(R"([
    {"k": 2, "id": "a"}, {"k": 1, "id": "b"}, {"k": 2.0, "id": "c"}, {"k": 1.5, "id": "d"},
    {"k": 1, "id": "e"}])");
  const auto ids = [](const Rows& sorted) {
    std::string out;
    for (const Value::Map& row : sorted) out += row.at("id").as_string();
    return out;
  };
  CHECK(ids(dagflow::sort_rows(rows, {"k"})) == "bedac");
  CHECK(ids(dagflow::sort_rows(rows, {"k"}, true)) == "acdbe");
  CHECK(ids(dagflow::sort_rows(rows, {"k", "id"}, true)) == "cadeb");
  CHECK(ids(dagflow::sort_rows(rows, {})) == "abcde");
}

// Across kinds: null < bool < number < string; a NaN after the other numbers.
TEST_CASE("sort_rows: mixed kinds have a fixed order", "[nodes][table]") {
  Rows rows = rows_of(R"([{"k": "b"}, {"k": 3}, {"k": null}, {"k": "a"}, {"k": true},
                          {"k": -1.5}, {"k": false}])");
  rows.push_back(Value::Map{{"k", std::numeric_limits<double>::quiet_NaN()}});
  rows.push_back(Value::Map{{"k", 100}});
  CHECK(json(dagflow::sort_rows(rows, {"k"})) ==
        R"([{"k":null},{"k":false},{"k":true},{"k":-1.5},{"k":3},{"k":100},{"k":null},)"
        R"({"k":"a"},{"k":"b"}])");  // the NaN prints as null, after 100
}

TEST_CASE("sort_rows: a missing or unsortable column names the row", "[nodes][table][errors]") {
  const Rows rows = rows_of(R"([{"k": 1}, {"j": 1}])");
  CHECK(error_of([&] { (void)dagflow::sort_rows(rows, {"k"}); }) == "row 1 has no column 'k'");
  const Rows lists = rows_of(R"([{"k": 1}, {"k": [1]}])");
  CHECK(error_of([&] { (void)dagflow::sort_rows(lists, {"k"}); }) ==
        "row 1: the column 'k' is a list, which does not sort");
}

// Inner drops unmatched left rows; left keeps them bare; several matches come in right order.
TEST_CASE("join_rows: inner and left, several matches in right order", "[nodes][table]") {
  const Rows left = rows_of(R"([{"id": 1, "l": "a"}, {"id": 2, "l": "b"}, {"id": 3, "l": "c"}])");
  const Rows right = rows_of(R"([{"id": 3, "r": "x"}, {"id": 1, "r": "y"}, {"id": 3, "r": "z"}])");
  CHECK(json(dagflow::join_rows(left, right, {"id"})) ==
        R"([{"id":1,"l":"a","r":"y"},{"id":3,"l":"c","r":"x"},{"id":3,"l":"c","r":"z"}])");
  CHECK(json(dagflow::join_rows(left, right, {"id"}, JoinKind::kLeft)) ==
        R"([{"id":1,"l":"a","r":"y"},{"id":2,"l":"b"},{"id":3,"l":"c","r":"x"},)"
        R"({"id":3,"l":"c","r":"z"}])");
  CHECK(json(dagflow::join_rows(left, {}, {"id"})) == "[]");
  CHECK(json(dagflow::join_rows({}, right, {"id"})) == "[]");
}

// A right column whose name the left row has gets _right; `on` columns appear once.
TEST_CASE("join_rows: shared names get _right, keys of several columns", "[nodes][table]") {
  const Rows left = rows_of(R"([{"k": "a", "n": 1, "v": 10}, {"k": "a", "n": 2, "v": 20}])");
  const Rows right = rows_of(R"([{"k": "a", "n": 2, "v": 7, "w": 0}])");
  CHECK(json(dagflow::join_rows(left, right, {"k", "n"})) ==
        R"([{"k":"a","n":2,"v":20,"v_right":7,"w":0}])");
  CHECK(json(dagflow::join_rows(left, right, {"k"})) ==
        R"([{"k":"a","n":1,"n_right":2,"v":10,"v_right":7,"w":0},)"
        R"({"k":"a","n":2,"n_right":2,"v":20,"v_right":7,"w":0}])");
  const Rows taken = rows_of(R"([{"k": 1, "v": 1, "v_right": 2}])");
  CHECK(error_of([&] {
          (void)dagflow::join_rows(taken, rows_of(R"([{"k": 1, "v": 3}])"), {"k"});
        }) == "left row 0 and right row 0: the joined row would have the column 'v_right' twice");
}

// Numbers match by value across int and double; other kinds only by equality.
TEST_CASE("join_rows: numbers match by value, kinds never mix", "[nodes][table]") {
  const Rows left = rows_of(R"([{"k": 1}, {"k": "1"}, {"k": 2.5}, {"k": null}])");
  const Rows right = rows_of(R"([{"k": 1.0, "r": "d"}, {"k": "1", "r": "s"}, {"k": 2.5, "r": "h"},
                                 {"k": 2, "r": "i"}, {"k": null, "r": "n"}])");
  CHECK(json(dagflow::join_rows(left, right, {"k"})) ==
        R"([{"k":1,"r":"d"},{"k":"1","r":"s"},{"k":2.5,"r":"h"},{"k":null,"r":"n"}])");
}

TEST_CASE("join_rows: a missing key column names the side and the row", "[nodes][table][errors]") {
  const Rows good = rows_of(R"([{"k": 1}])");
  const Rows bad = rows_of(R"([{"k": 1}, {"j": 2}])");
  CHECK(error_of([&] { (void)dagflow::join_rows(bad, good, {"k"}); }) ==
        "left row 1 has no column 'k'");
  CHECK(error_of([&] { (void)dagflow::join_rows(good, bad, {"k"}); }) ==
        "right row 1 has no column 'k'");
  CHECK_THROWS_AS(dagflow::join_rows(good, good, {}), std::invalid_argument);
}

// A roll-up's groups become rows sorted by their key, read back as numbers where they are.
TEST_CASE("rollup_to_rows: one row per group, sorted by key", "[nodes][table]") {
  const Rows regions = rows_of(R"([{"region": "west", "v": 2}, {"region": "east", "v": 3},
                                 {"region": "west", "v": 4}])");
  CHECK(json(dagflow::rollup_to_rows(dagflow::rollup(regions, "region", "v"), "region")) ==
        R"([{"count":1,"max":3,"mean":3.0,"min":3,"region":"east","sum":3},)"
        R"({"count":2,"max":4,"mean":3.0,"min":2,"region":"west","sum":6}])");
  // Groups of numbers sort by value (9 before 10), before any string.
  const Rows years = rows_of(R"([{"y": 10, "v": 1}, {"y": "n/a", "v": 1}, {"y": 9, "v": 1}])");
  const Rows by_year = dagflow::rollup_to_rows(dagflow::rollup(years, "y", "v"), "y");
  REQUIRE(by_year.size() == 3);
  CHECK(by_year[0].at("y") == Value(9));
  CHECK(by_year[1].at("y") == Value(10));
  CHECK(by_year[2].at("y") == Value("n/a"));
  CHECK(dagflow::format_csv(by_year) ==
        "count,max,mean,min,sum,y\n1,1,1.0,1,1,9\n1,1,1.0,1,1,10\n1,1,1.0,1,1,n/a\n");
}

TEST_CASE("rollup_to_rows: a group that is no map, or has the key, is an error",
          "[nodes][table][errors]") {
  CHECK(error_of([] {
          (void)dagflow::rollup_to_rows(Value::Map{{"g", 3}}, "k");
        }) == "group 'g' is not a map: 3");
  CHECK(error_of([] {
          (void)dagflow::rollup_to_rows(Value::Map{{"g", Value::Map{{"count", 1}}}}, "count");
        }) == "group 'g' has a column 'count' already");
}

// The ops call the functions with their arguments, as a pipeline node does.
TEST_CASE("table ops: select, filter, derive, sort, join and to_rows as nodes", "[nodes][table]") {
  const Rows rows = sales();
  const Value table(Value::List(rows.begin(), rows.end()));
  const Value derived =
      call_op("derive", {table}, {{"column", "revenue"}, {"expr", "units * price"}});
  const Value east =
      call_op("filter", {derived}, {{"column", "region"}, {"op", "=="}, {"value", "east"}});
  const Value sorted =
      call_op("sort", {east}, {{"by", Value::List{"revenue"}}, {"descending", true}});
  CHECK(dagflow::to_json(
            call_op("select", {sorted}, {{"columns", Value::List{"revenue", "units"}}})) ==
        R"([{"revenue":8,"units":4},{"revenue":7.5,"units":3}])");
  const Value names = Value::List{Value::Map{{"region", "east"}, {"name", "East"}}};
  CHECK(dagflow::to_json(call_op("join", {east, names}, {{"on", Value::List{"region"}}})) ==
        R"([{"name":"East","price":2.5,"region":"east","revenue":7.5,"units":3},)"
        R"({"name":"East","price":2,"region":"east","revenue":8,"units":4}])");
  const Value rollup = call_op("rollup", {derived}, {{"key", "region"}, {"value", "units"}});
  CHECK(dagflow::to_json(call_op("to_rows", {rollup}, {{"key", "region"}})) ==
        R"([{"count":2,"max":4,"mean":3.5,"min":3,"region":"east","sum":7},)"
        R"({"count":1,"max":10,"mean":10.0,"min":10,"region":"west","sum":10}])");
  // A bad comparison or join kind that reaches the op (no loader in between) still fails.
  CHECK_THROWS_WITH(call_op("filter", {table}, {{"column", "units"}, {"op", "="}, {"value", 1}}),
                    "unknown comparison '=' (one of == != < <= > >=)");
  CHECK_THROWS_WITH(
      call_op("join", {table, table}, {{"on", Value::List{"region"}}, {"how", "full"}}),
      "unknown join 'full' (inner or left)");
}

// The types `dagflow ops` shows and the loader checks come from the functions.
TEST_CASE("table ops: registered with their types and load-time checks", "[nodes][table]") {
  const dagflow::OpRegistry& ops = builtin_ops();
  for (const char* name : {"select", "filter", "derive", "sort", "join"}) {
    INFO(name);
    REQUIRE(ops.find(name) != nullptr);
    CHECK(ops.find(name)->result_type() == "list of map");
    CHECK(ops.find(name)->inputs().front() == "list of map");
  }
  CHECK(ops.find("join")->inputs().size() == 2);
  CHECK(ops.find("to_rows")->inputs() == std::vector<std::string>{"map"});
  CHECK(ops.find("to_rows")->result_type() == "list of map");
  CHECK(ops.find("filter")->node_check() != nullptr);
  CHECK(ops.find("derive")->node_check() != nullptr);
  CHECK(ops.find("join")->node_check() != nullptr);
  CHECK(ops.find("write_json")->has_keyed_inputs());
  CHECK_FALSE(ops.find("write_csv")->has_keyed_inputs());
}

// What the node checks find, at which argument, and where inside a derive expression.
TEST_CASE("table ops: node checks find bad comparisons, joins and expressions",
          "[nodes][table][errors]") {
  auto problem = node_problem("filter", {{"column", "a"}, {"op", "=<"}, {"value", 1}});
  REQUIRE(problem);
  CHECK(problem->arg == "op");
  CHECK(problem->message == "unknown comparison '=<' (one of == != < <= > >=)");
  CHECK_FALSE(node_problem("filter", {{"column", "a"}, {"op", "<="}, {"value", 1}}));
  problem = node_problem("filter", {{"column", "a"}, {"op", "<="}, {"value", Value::List{}}});
  REQUIRE(problem);
  CHECK(problem->arg == "value");

  problem = node_problem("join", {{"on", Value::List{"k"}}, {"how", "outer"}});
  REQUIRE(problem);
  CHECK(problem->arg == "how");
  CHECK(problem->message == "unknown join 'outer' (inner or left)");
  CHECK_FALSE(node_problem("join", {{"on", Value::List{"k"}}, {"how", "left"}}));
  problem = node_problem("join", {{"on", Value::List{}}, {"how", "left"}});
  REQUIRE(problem);
  CHECK(problem->arg == "on");

  problem = node_problem("derive", {{"column", "x"}, {"expr", "units * (price + )"}});
  REQUIRE(problem);
  CHECK(problem->arg == "expr");
  CHECK(problem->offset == 17u);
  CHECK(problem->message ==
        "syntax error in the expression: expected a number, a column name or '(', got ')'");
  CHECK_FALSE(node_problem("derive", {{"column", "x"}, {"expr", "units * (price + 1)"}}));

  problem = node_problem("sort", {{"by", Value::List{}}, {"descending", false}});
  REQUIRE(problem);
  CHECK(problem->arg == "by");
}
