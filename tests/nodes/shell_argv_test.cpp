#include "ops/shell_argv.hpp"

// The shell op's placeholders: {item}, {input} and {inputs} expand into whole argv entries,
// values arrive literally, and misuse is an error naming the placeholder.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

namespace {

using Catch::Matchers::Contains;
using dagflow::Value;
using dagflow::detail::expand_shell_placeholders;
using dagflow::detail::shell_placeholders;
using Strings = std::vector<std::string>;

Strings expand(const Strings& templates, const std::vector<Value>& inputs,
               bool whole_lists = true) {
  std::vector<const Value*> in;
  for (const Value& v : inputs) in.push_back(&v);
  return expand_shell_placeholders(templates, in, whole_lists);
}

Value path(const std::string& shown) { return Value::path("/base/" + shown, shown); }

// Templates without placeholders pass through; braces that start none are plain text.
TEST_CASE("shell placeholders: text without them is unchanged", "[nodes][shell]") {
  const Strings argv{"awk", "{print $1}", "{}", "{items}", ""};
  CHECK(expand(argv, {}) == argv);
  CHECK_FALSE(shell_placeholders(argv).any());
}

// {item} is the first input, {input} the one file, {inputs} one entry per file, flattened.
TEST_CASE("shell placeholders: expand into whole entries", "[nodes][shell]") {
  const Value item = path("logs/a.log");
  CHECK(expand({"gzip", "-kf", "{item}"}, {item}) == Strings{"gzip", "-kf", "logs/a.log"});
  CHECK(expand({"--in={input}", "{item}.gz"}, {item}) ==
        Strings{"--in=logs/a.log", "logs/a.log.gz"});
  const Value nested(Value::List{Value::List{path("a.gz")}, Value::List{path("b.gz")}});
  CHECK(expand({"du", "-b", "{inputs}", "--"}, {nested, Value("c.txt"), Value(3)}) ==
        Strings{"du", "-b", "a.gz", "b.gz", "c.txt", "3", "--"});
  CHECK(expand({"x", "{inputs}"}, {Value(Value::List{})}) == Strings{"x"});
  const auto used = shell_placeholders(Strings{"{item}", "a{input}b", "{inputs}"});
  CHECK((used.item && used.input && used.inputs));
}

// Shell syntax in a value is only text: one entry, unchanged.
TEST_CASE("shell placeholders: a value arrives literally", "[nodes][shell][security]") {
  const Value evil = path("logs/x; rm -rf ~");
  CHECK(expand({"printf", "%s\\n", "{item}"}, {evil}) ==
        Strings{"printf", "%s\\n", "logs/x; rm -rf ~"});
  CHECK(expand({"{inputs}"}, {Value("$(touch y) `z` {item}")}) == Strings{"$(touch y) `z` {item}"});
}

// Misuse names the placeholder.
TEST_CASE("shell placeholders: misuse is an error", "[nodes][shell][errors]") {
  using dagflow::Error;
  CHECK_THROWS_WITH(expand({"{inputs}"}, {}), Contains("{inputs} is used but the node has no "
                                                       "inputs"));
  CHECK_THROWS_WITH(expand({"{item}"}, {}), Contains("{item}"));
  CHECK_THROWS_WITH(expand({"x{inputs}"}, {path("a")}), Contains("whole argv entry"));
  CHECK_THROWS_WITH(expand({"{inputs}"}, {path("a")}, false), Contains("cannot name an output"));
  CHECK_THROWS_WITH(expand({"{input}"}, {path("a"), path("b")}),
                    Contains("{input} stands for 2 values, not one"));
  CHECK_THROWS_WITH(expand({"{item}"}, {Value(Value::Map{})}), Contains("{item} stands for a map"));
  CHECK_THROWS_AS(expand({"{input}"}, {Value()}), Error);
}

}  // namespace
