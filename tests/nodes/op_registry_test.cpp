#include <dagflow/nodes/op_registry.hpp>

// Tests of OpRegistry: registering typed functions as ops, the Value conversions of their
// parameters and results, calls with wrong inputs, registration mistakes, flags, and the
// did-you-mean suggestions.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using dagflow::arg;
using dagflow::OpContext;
using dagflow::OpRegistry;
using dagflow::Value;

namespace {
Value call(const OpRegistry& ops, std::string_view name, std::vector<Value> inputs,
           Value::Map args = {}) {
  std::vector<const Value*> pointers;
  for (const Value& v : inputs) pointers.push_back(&v);
  return ops.find(name)->call(OpContext{}, pointers, args);
}
}  // namespace

// add() derives an op's inputs and argument types from the function's parameters.
TEST_CASE(
    "OpRegistry: registers a typed function in one line, with inputs and argument types from it",
    "[nodes][registry]") {
  OpRegistry ops;
  ops.add("scale", [](double x, double by) { return x * by; }, "x times `by`", {arg("by", 2.0)});
  const dagflow::OpInfo* scale = ops.find("scale");
  REQUIRE(scale != nullptr);
  CHECK(scale->doc() == "x times `by`");
  CHECK(scale->inputs() == std::vector<std::string>{"number"});
  CHECK(scale->result_type() == "number");
  REQUIRE(scale->args().size() == 1);
  CHECK(scale->args()[0].name == "by");
  CHECK(scale->args()[0].type == "number");
  CHECK(scale->args()[0].accepts(Value(3)));
  CHECK_FALSE(scale->args()[0].accepts(Value("x")));
  CHECK(call(ops, "scale", {Value(3)}).as_double() == 6.0);  // the default
  CHECK(call(ops, "scale", {Value(3)}, {{"by", Value(0.5)}}).as_double() == 1.5);
}

// Parameters and results of std container and string types convert from and to Values.
TEST_CASE("OpRegistry: containers, strings and Value convert both ways", "[nodes][registry]") {
  OpRegistry ops;
  ops.add(
      "lengths",
      [](const std::vector<std::string>& words) {
        std::map<std::string, std::int64_t> out;
        for (const auto& w : words) out[w] = static_cast<std::int64_t>(w.size());
        return out;
      },
      "length of each word");
  ops.add(
      "kind", [](const Value& v) { return std::string(dagflow::kind_name(v.kind())); },
      "the kind of a value");
  const Value lengths = call(ops, "lengths", {Value(Value::List{"ab", "c"})});
  CHECK(lengths == Value(Value::Map{{"ab", 2}, {"c", 1}}));
  CHECK(call(ops, "kind", {Value(Value::List{})}).as_string() == "list");
  CHECK(ops.find("lengths")->inputs() == std::vector<std::string>{"list of string"});
  CHECK(ops.find("kind")->inputs() == std::vector<std::string>{"any"});
}

// The result type is named like the inputs, from what the function returns: a pipeline
// checks it against what the ops downstream take.
TEST_CASE("OpRegistry: an op's result type comes from its function's return type",
          "[nodes][registry]") {
  OpRegistry ops;
  ops.add(
      "counts",
      [](const std::string& w) {
        return std::map<std::string, std::int64_t>{{w, 1}};
      },
      "counts one word");
  ops.add(
      "same", [](const Value& v) { return v; }, "its input");
  ops.add(
      "ref", [](const std::vector<std::string>& v) -> const std::vector<std::string>& { return v; },
      "its input, by reference");
  ops.add(
      "maybe", [](std::int64_t x) { return x > 0 ? std::optional<std::int64_t>(x) : std::nullopt; },
      "positive or null");
  CHECK(ops.find("counts")->result_type() == "map of int");
  CHECK(ops.find("same")->result_type() == "any");  // a Value may be anything
  CHECK(ops.find("ref")->result_type() == "list of string");
  CHECK(ops.find("maybe")->result_type() == "int or null");
}

// The built-in ops declare what they give, so that pipelines are checked before they run.
TEST_CASE("OpRegistry: the built-in ops declare their result types (#12)", "[nodes][registry]") {
  const OpRegistry ops = OpRegistry::builtins();
  CHECK(ops.find("glob")->result_type() == "list of path");
  CHECK(ops.find("word_count")->result_type() == "map of int");
  CHECK(ops.find("merge_counts")->result_type() == "map of int");
  CHECK(ops.find("top_k")->result_type() == "list of pair of string and int");
  CHECK(ops.find("square")->result_type() == "number");
  CHECK(ops.find("write_json")->result_type() == "path");
  CHECK(ops.find("read_json")->result_type() == "any");
}

// merge_counts adds integers: a map node reducing with it may merge blocks in any order; sum
// (doubles too) may not.
TEST_CASE("OpRegistry: merge_counts combines in any order, sum does not", "[nodes][registry]") {
  const OpRegistry ops = OpRegistry::builtins();
  CHECK(ops.find("merge_counts")->any_order());
  CHECK_FALSE(ops.find("sum")->any_order());
  CHECK_FALSE(ops.find("word_count")->any_order());
}

// A leading const OpContext& parameter receives the run's context and is not an input.
TEST_CASE("OpRegistry: an op may take the run's OpContext first", "[nodes][registry]") {
  OpRegistry ops;
  ops.add(
      "where",
      [](const OpContext& ctx, const std::string& name) { return (ctx.base_dir / name).string(); },
      "a file beside the pipeline");
  CHECK(ops.find("where")->inputs().size() == 1);
  const Value name("x.txt");
  const Value* inputs[] = {&name};
  const Value out = ops.find("where")->call(OpContext{.base_dir = "/data"}, inputs, {});
  CHECK(out.as_string() == "/data/x.txt");
}

// A call that does not match the op's signature fails with a message saying what is wrong.
TEST_CASE("OpRegistry: calls with the wrong inputs or arguments fail with the reason",
          "[nodes][registry][errors]") {
  OpRegistry ops;
  ops.add("add", [](std::int64_t a, std::int64_t b) { return a + b; }, "a + b", {arg("b")});
  CHECK_THROWS_WITH(call(ops, "add", {}), Catch::Contains("takes 1 inputs, got 0"));
  CHECK_THROWS_WITH(call(ops, "add", {Value(1)}), Catch::Contains("needs argument 'b'"));
  CHECK_THROWS_AS(call(ops, "add", {Value("one")}, {{"b", Value(2)}}), dagflow::ValueError);
  CHECK(call(ops, "add", {Value(1)}, {{"b", Value(2)}}).as_int() == 3);
}

// Duplicate or invalid names, argument lists that do not match the function and bad defaults
// are refused when the op is added, and nothing is half-registered.
TEST_CASE("OpRegistry: registration mistakes are refused", "[nodes][registry][errors]") {
  OpRegistry ops;
  const auto id = [](std::int64_t x) { return x; };
  ops.add("id", id, "identity");
  CHECK_THROWS_WITH(ops.add("id", id, "again"), Catch::Contains("already registered"));
  CHECK_THROWS_WITH(ops.add("bad name", id, ""), Catch::Contains("not a valid op name"));
  CHECK_THROWS_WITH(ops.add("two", id, "", {arg("a"), arg("b")}),
                    Catch::Contains("names 2 arguments"));
  CHECK_THROWS_WITH(ops.add("dflt", id, "", {arg("x", Value("text"))}),
                    Catch::Contains("default of argument 'x'"));
  CHECK_THROWS_WITH(ops.add("dup", [](std::int64_t a, std::int64_t b) { return a + b; }, "",
                            {arg("a"), arg("a")}),
                    Catch::Contains("twice"));
  CHECK(ops.ops().size() == 1);  // nothing half-registered
}

// set_probe and set_version stick to the op they are set on; other flags stay off.
TEST_CASE("OpRegistry: flags and versions are set on the registered op", "[nodes][registry]") {
  OpRegistry ops;
  ops.add(
         "probe", [] { return 1; }, "looks around")
      .set_probe()
      .set_version(3);
  CHECK(ops.find("probe")->is_probe());
  CHECK(ops.find("probe")->version() == 3);
  CHECK_FALSE(ops.find("probe")->runs_commands());
  CHECK(ops.find("nothing") == nullptr);
}

// An op taking any number of inputs gets them as one list; only a one-list-input op may.
TEST_CASE("OpRegistry: an op may take any number of inputs as one list (#16)",
          "[nodes][registry]") {
  OpRegistry ops;
  ops.add(
         "count", [](const std::vector<Value>& in) { return static_cast<int>(in.size()); },
         "how many inputs")
      .set_takes_any_inputs();
  const dagflow::OpInfo& count = *ops.find("count");
  CHECK(count.takes_any_inputs());
  const Value a(1);
  const Value b("x");
  const Value* none[] = {nullptr};
  const Value* two[] = {&a, &b};
  CHECK(count.call(OpContext{}, std::span<const Value* const>(none, 0), {}).as_int() == 0);
  CHECK(count.call(OpContext{}, two, {}).as_int() == 2);
  dagflow::OpInfo& one = ops.add(
      "one", [](int x) { return x; }, "one int");
  CHECK_THROWS_AS(one.set_takes_any_inputs(), std::invalid_argument);
}

// Keyed inputs (write_json's) need one input of type "any": the pipeline passes several as a
// map by node id, which only a Value parameter can take; call() itself still takes one.
TEST_CASE("OpRegistry: only an op with one input of type any may take keyed inputs (#17)",
          "[nodes][registry]") {
  OpRegistry ops;
  dagflow::OpInfo& keyed = ops.add(
      "keyed", [](const Value& v) { return v; }, "its input");
  CHECK_FALSE(keyed.has_keyed_inputs());
  keyed.set_keyed_inputs();
  CHECK(keyed.has_keyed_inputs());
  const Value a(1);
  const Value b(2);
  const Value* two[] = {&a, &b};
  CHECK_THROWS_AS(keyed.call(OpContext{}, two, {}), std::invalid_argument);
  dagflow::OpInfo& typed = ops.add(
      "typed", [](const Value::Map& m) { return m; }, "a map");
  CHECK_THROWS_AS(typed.set_keyed_inputs(), std::invalid_argument);
  dagflow::OpInfo& two_inputs = ops.add(
      "two",
      [](const Value& x, const Value& y) {
        return Value::List{x, y};
      },
      "two values");
  CHECK_THROWS_AS(two_inputs.set_keyed_inputs(), std::invalid_argument);
  CHECK_FALSE(two_inputs.has_keyed_inputs());
}

// An op that waits is flagged io, and so are the built-ins that read or write files or run
// commands; the ones that compute are not.
TEST_CASE("OpRegistry: ops that wait are flagged io", "[nodes][registry]") {
  OpRegistry ops;
  dagflow::OpInfo& fetch = ops.add(
                                  "fetch", [] { return 1; }, "waits")
                               .set_io();
  ops.add(
      "think", [] { return 2; }, "computes");
  CHECK(ops.find("fetch")->io());
  CHECK_FALSE(ops.find("think")->io());
  CHECK_FALSE(fetch.set_io(false).io());

  const OpRegistry builtins = OpRegistry::builtins();
  for (const char* name : {"shell", "glob", "read_text", "read_json", "write_text", "write_json",
                           "read_csv", "write_csv", "make_image", "image_filter", "image_stats"}) {
    INFO(name);
    CHECK(builtins.find(name)->io());
  }
  for (const char* name : {"word_count", "merge_counts", "top_k", "sum", "square", "rollup"}) {
    INFO(name);
    CHECK_FALSE(builtins.find(name)->io());
  }
}

// Suggestions help with a typo and stay quiet for an unrelated word.
TEST_CASE("nearest_names: did-you-mean suggestions find typos, not strangers",
          "[nodes][registry]") {
  const std::vector<std::string> names{"word_count", "merge_counts", "top_k", "glob", "read_text"};
  CHECK(dagflow::nearest_names("word_cont", names) == std::vector<std::string>{"word_count"});
  CHECK(dagflow::nearest_names("wrod_count", names) == std::vector<std::string>{"word_count"});
  CHECK(dagflow::nearest_names("glb", names) == std::vector<std::string>{"glob"});
  CHECK(dagflow::nearest_names("zzzzzz", names).empty());
  CHECK(dagflow::nearest_names("glob", names).empty());  // an exact match is no suggestion
  CHECK(dagflow::nearest_names("cnts", std::vector<std::string>{"counts", "total"}) ==
        std::vector<std::string>{"counts"});  // two edits in a short word
  CHECK(dagflow::nearest_names("node", std::vector<std::string>{"nodes", "name"}) ==
        std::vector<std::string>{"nodes"});  // only the closest
  OpRegistry ops;
  ops.add(
      "top_k", [](std::int64_t k) { return k; }, "");
  CHECK(ops.suggest("topk") == std::vector<std::string>{"top_k"});
}
