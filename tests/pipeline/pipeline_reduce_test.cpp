#include <dagflow/pipeline/pipeline.hpp>

// Tests of `reduce: OP` on a map node (one dagflow::map_reduce task): its result is the unfused
// map then a reduce node's, no items give OP([]), a word count feeds top_k, the disk cache serves
// it whole (keyed by both ops), an item's failure names the node, and the loader's mistakes
// about it, each at its FILE:LINE:COL.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "pipeline/node_info.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::arg;
using dagflow::NodeOutcome;
using dagflow::OpRegistry;
using dagflow::Pipeline;
using dagflow::PipelineError;
using dagflow::PipelineResult;
using dagflow::Value;
using dagflow::test::info;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;

std::atomic<int> g_squares{0};  // calls of `counted_square`
std::atomic<int> g_maxima{0};   // calls of `maximum`

// The built-in ops (range, square, sum, word_count, merge_counts, top_k...), plus a list of
// strings given as an argument, a counting square, a reduce op whose [] is no sum's, and an
// item that fails.
OpRegistry test_ops() {
  OpRegistry ops = OpRegistry::builtins();
  ops.add("strings", [](const std::vector<std::string>& items) { return items; }, "its argument",
          {arg("items")});
  ops.add(
      "counted_square",
      [](std::int64_t x) {
        ++g_squares;
        return x * x;
      },
      "x * x, counted");
  ops.add(
      "maximum",
      [](const std::vector<std::int64_t>& xs) {
        ++g_maxima;
        std::int64_t m = std::numeric_limits<std::int64_t>::min();  // max's identity: [] gives it
        for (const std::int64_t x : xs) m = std::max(m, x);
        return m;
      },
      "the largest int");
  ops.add(
      "how_many", [](const std::vector<Value>& xs) { return static_cast<std::int64_t>(xs.size()); },
      "the length of a list");
  ops.add(
      "first_of", [](std::int64_t x, const Value& /*other*/) { return x; }, "its first input");
  ops.add(
      "unlucky",
      [](std::int64_t x) {
        if (x == 13) throw std::runtime_error("thirteen");
        return x;
      },
      "x, but 13 fails");
  return ops;
}

Pipeline load(const TempDir& dir, const std::string& text) {
  return Pipeline::load(dir.write("p.yaml", text), test_ops());
}

// what() of the PipelineError loading `text` as p.yaml throws, or "(no error)".
std::string load_error(std::string_view text) {
  return thrown_message<PipelineError>(
      [&] { (void)dagflow::parse_pipeline_spec(text, "p.yaml", test_ops()); });
}

}  // namespace

// `map: xs` with `reduce: sum` gives what the map then a `sum` node give, at any thread count.
TEST_CASE("Pipeline reduce: a map with reduce equals the map then a reduce node",
          "[pipeline][reduce]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  TempDir dir;
  const Pipeline p = load(dir, R"(name: squares
nodes:
  xs: {op: range, args: {start: 1, stop: 2001}}
  each: {op: square, map: xs}
  unfused: {op: sum, inputs: [each]}
  fused: {op: square, map: xs, reduce: sum}
  largest: {op: counted_square, map: xs, reduce: maximum}
)");
  const PipelineResult r = p.run({.threads = threads});
  const std::int64_t n = 2000;
  CHECK(r.outputs.at("fused") == Value(n * (n + 1) * (2 * n + 1) / 6));
  CHECK(r.outputs.at("fused") == r.outputs.at("unfused"));
  CHECK(r.outputs.at("largest") == Value(n * n));
  CHECK(info(r, "fused").outcome == NodeOutcome::kExecuted);
  CHECK(p.spec().outputs == std::vector<std::string>{"unfused", "fused", "largest"});
}

// A map read only by another map runs inside it (the engine's map fusion): x^8 summed without
// the lists of squares and fourth powers (counted_square: square's maps of typed arrays are
// single tasks, see the next test); a map that is an output is made as before; a chain
// over a streamed file fuses too. Every node counts as run.
TEST_CASE("Pipeline reduce: a chain of maps runs fused, as the unfused chain",
          "[pipeline][reduce][fusion]") {
  TempDir dir;
  std::string numbers;
  for (int i = 1; i <= 3000; ++i) numbers += std::to_string(i % 50) + " x\n";
  dir.write("numbers.txt", numbers);
  const Pipeline p = load(dir, R"(name: chain
nodes:
  xs: {op: range, args: {start: 1, stop: 51}}
  squares: {op: counted_square, map: xs}
  fourth: {op: counted_square, map: squares}
  eighth: {op: square, map: fourth, reduce: sum}
  kept: {op: square, map: xs}
  kept_fourth: {op: square, map: kept, reduce: sum}
  text: {op: read_lines, args: {path: numbers.txt}}
  counts: {op: word_count, map: text}
  tops: {op: top_k, map: counts, args: {k: 1}, reduce: concat}
outputs: [eighth, kept, kept_fourth, tops]
)");
  const PipelineResult r = p.run({.threads = 2});
  std::int64_t eighth = 0;
  std::int64_t fourth = 0;
  for (std::int64_t x = 1; x <= 50; ++x) {
    fourth += x * x * x * x;
    eighth += x * x * x * x * x * x * x * x;
  }
  CHECK(r.outputs.at("eighth") == Value(eighth));
  CHECK(r.outputs.at("kept_fourth") == Value(fourth));
  CHECK(r.outputs.at("kept").as_list().size() == 50);  // an output: made, so not fused
  const Value::List& tops = r.outputs.at("tops").as_list();
  REQUIRE(tops.size() == 3000);  // each line's most frequent word, "0" to "49" before "x"
  CHECK(tops[0] == Value(Value::List{"1", 1}));
  CHECK(tops[48] == Value(Value::List{"49", 1}));
  // The fused maps ran in their reader, which counts the chain's items.
  CHECK(info(r, "squares").outcome == NodeOutcome::kExecuted);
  CHECK(info(r, "squares").items_executed == 0);
  CHECK(info(r, "eighth").items_executed == 50);
  CHECK(info(r, "kept").items_executed == 50);
  CHECK(info(r, "counts").outcome == NodeOutcome::kExecuted);
}

// `square` over `range` is one task from typed array to typed array (no Value per element), a
// boxed list (a YAML literal) maps item by item to the same numbers, and `sum` with `as: double`
// adds past where an int64 total overflows: the sum of squares of 0..3999999 is about 2.1e19.
TEST_CASE("Pipeline: square over range maps a typed array, and sum as double goes past int64",
          "[pipeline][run][array]") {
  TempDir dir;
  const Pipeline p = load(dir, R"(name: arrays
params: {n: 4000000, as: double}
nodes:
  xs: {op: range, args: {stop: "${n}"}}
  squares: {op: square, map: xs}
  total: {op: sum, inputs: [squares], args: {as: "${as}"}}
  few: {op: strings, args: {items: [a, b]}}
  literal: {op: how_many, inputs: [few]}
  small: {op: range, args: {stop: 4}}
  small_squares: {op: square, map: small}
outputs: [total, small_squares]
)");
  const PipelineResult r = p.run({.threads = 2});
  const double n = 4'000'000;
  const double exact = (n - 1) * n * (2 * n - 1) / 6;
  CHECK(std::fabs(r.outputs.at("total").as_double() - exact) <= 1e-12 * exact);
  CHECK(r.outputs.at("small_squares").ints() != nullptr);
  CHECK(r.outputs.at("small_squares") == Value(Value::List{0, 1, 4, 9}));
  CHECK(info(r, "squares").items_executed == 4'000'000);

  // With ints (as: auto) the total overflows, and the error says what to do.
  const Pipeline ints = Pipeline::load(dir.path() / "p.yaml", test_ops(), {.set = {"as=auto"}});
  const std::string error =
      thrown_message<dagflow::NodeError>([&] { (void)ints.run({.threads = 1}); });
  CHECK_THAT(error,
             Catch::Contains("node 'total' (op sum) failed") && Catch::Contains("as: double"));
}

// No items: the node's value is what the reduce op gives for [], not a placeholder.
TEST_CASE("Pipeline reduce: an empty list gives the reduce op's result for []",
          "[pipeline][reduce]") {
  TempDir dir;
  const Pipeline p = load(dir, R"(name: empty
nodes:
  none: {op: range, args: {start: 5, stop: 5}}
  sum: {op: square, map: none, reduce: sum}
  largest: {op: counted_square, map: none, reduce: maximum}
  words: {op: strings, args: {items: []}}
  counts: {op: word_count, map: words, reduce: merge_counts}
)");
  const int squares_before = g_squares.load();
  const PipelineResult r = p.run();
  CHECK(r.outputs.at("sum") == Value(0));
  CHECK(r.outputs.at("largest") == Value(std::numeric_limits<std::int64_t>::min()));
  CHECK(r.outputs.at("counts") == Value(Value::Map{}));
  CHECK(g_squares.load() == squares_before);
}

// The word count of the README: counts merged as they come, and top_k downstream of them.
TEST_CASE("Pipeline reduce: word_count with merge_counts feeds top_k", "[pipeline][reduce]") {
  TempDir dir;
  const Pipeline p = load(dir, R"(name: words
nodes:
  texts:
    op: strings
    args: {items: ["the cat and the hat", "The end", "a cat", "and THE dog"]}
  counts: {op: word_count, map: texts}
  merged: {op: merge_counts, inputs: [counts]}
  total: {op: word_count, map: texts, reduce: merge_counts}
  top: {op: top_k, inputs: [total], args: {k: 2}}
outputs: [merged, total, top]
)");
  const PipelineResult r = p.run({.threads = 2});
  const Value expected(
      Value::Map{{"a", 1}, {"and", 2}, {"cat", 2}, {"dog", 1}, {"end", 1}, {"hat", 1}, {"the", 4}});
  CHECK(r.outputs.at("total") == expected);
  CHECK(r.outputs.at("merged") == expected);
  CHECK(r.outputs.at("top") == Value(Value::List{Value::List{"the", 4}, Value::List{"and", 2}}));
}

// With a disk cache the node is one entry: a second run takes it from there without calling
// either op, and a node reducing the same items with another op is not served that entry.
TEST_CASE("Pipeline reduce: a re-run takes the node from the disk cache, keyed by both ops",
          "[pipeline][reduce][rerun]") {
  TempDir dir;
  const fs::path cache = dir.path() / "cache";
  const Pipeline p = load(dir, R"(name: cached
nodes:
  xs: {op: range, args: {start: 1, stop: 11}}
  largest: {op: counted_square, map: xs, reduce: maximum}
)");
  const PipelineResult first = p.run({.cache_dir = cache});
  CHECK(first.outputs.at("largest") == Value(100));
  CHECK(info(first, "largest").outcome == NodeOutcome::kExecuted);

  const int squares = g_squares.load();
  const int maxima = g_maxima.load();
  const PipelineResult second = p.run({.cache_dir = cache});
  CHECK(second.outputs.at("largest") == Value(100));
  CHECK(info(second, "largest").outcome == NodeOutcome::kCached);
  CHECK(second.stats.executed == 0);
  CHECK(second.stats.cache_hits == 1);
  CHECK(g_squares.load() == squares);
  CHECK(g_maxima.load() == maxima);

  // The same map op over the same items, combined by another op: another key.
  const Pipeline other = load(dir, R"(name: cached
nodes:
  xs: {op: range, args: {start: 1, stop: 11}}
  largest: {op: counted_square, map: xs, reduce: sum}
)");
  const PipelineResult summed = other.run({.cache_dir = cache});
  CHECK(summed.outputs.at("largest") == Value(385));
  CHECK(info(summed, "largest").outcome == NodeOutcome::kExecuted);
  CHECK(g_squares.load() == squares + 10);
}

// An item that throws fails the node with its file position, op and item.
TEST_CASE("Pipeline reduce: a failing item names the node, the op and the item",
          "[pipeline][reduce][errors]") {
  TempDir dir;
  const Pipeline p = load(dir, R"(name: failing
nodes:
  xs: {op: range, args: {start: 0, stop: 20}}
  total: {op: unlucky, map: xs, reduce: sum}
)");
  try {
    (void)p.run({.threads = 2});
    FAIL("expected a NodeError");
  } catch (const dagflow::NodeError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith((dir.path() / "p.yaml").string() + ":4:3: "));
    CHECK_THAT(e.what(), Catch::Contains("node 'total' (op unlucky) failed at item 13: thirteen"));
    CHECK(e.node() == "total");
  }
}

// The spec says which op reduces; DOT shows it; a spec made by hand is checked for it.
TEST_CASE("Pipeline reduce: the spec, DOT and a hand-made spec name the reduce op",
          "[pipeline][reduce]") {
  const dagflow::PipelineSpec spec = dagflow::parse_pipeline_spec(
      "name: w\nnodes:\n  texts: {op: strings, args: {items: [a]}}\n"
      "  total: {op: word_count, map: texts, reduce: merge_counts}\n",
      "w.yaml", test_ops());
  REQUIRE(spec.nodes.size() == 2);
  CHECK(spec.nodes[1].map == "texts");
  CHECK(spec.nodes[1].reduce == "merge_counts");
  CHECK(spec.nodes[0].reduce.empty());
  const std::string dot = Pipeline(spec, test_ops()).to_dot();
  CHECK_THAT(dot,
             Catch::Contains("\"total\" [label=\"total\\nmap word_count\\nreduce: merge_counts\", "
                             "peripheries=2]"));

  dagflow::PipelineSpec missing = spec;
  missing.nodes[1].reduce = "merge_countz";
  CHECK_THROWS_WITH(
      Pipeline(missing, test_ops()),
      Catch::Contains("reduces with op 'merge_countz', which is not in the registry"));
  dagflow::PipelineSpec unmapped = spec;
  unmapped.nodes[1].map.clear();
  unmapped.nodes[1].inputs = {"texts"};
  CHECK_THROWS_AS(Pipeline(unmapped, test_ops()), std::invalid_argument);
}

// The node gives one value of the map op's result type, not a list: what is downstream is
// checked against that.
TEST_CASE("parse_pipeline_spec: a map with reduce gives the op's result type, not a list",
          "[pipeline][reduce][loader]") {
  CHECK(load_error("name: t\n"
                   "nodes:\n"
                   "  texts: {op: strings, args: {items: [a]}}\n"
                   "  total: {op: word_count, map: texts, reduce: merge_counts}\n"
                   "  top: {op: top_k, inputs: [total], args: {k: 1}}\n") == "(no error)");
  CHECK(load_error("name: t\n"
                   "nodes:\n"
                   "  texts: {op: strings, args: {items: [a]}}\n"
                   "  total: {op: word_count, map: texts, reduce: merge_counts}\n"
                   "  again: {op: merge_counts, inputs: [total]}\n") ==
        "p.yaml:5:38: node 'again' input 1 ('total') is a map of int, but op 'merge_counts' "
        "takes a list of map of int");
}

// Each mistake about `reduce` is reported at the key or value that is wrong.
TEST_CASE("parse_pipeline_spec: mistakes in reduce are reported at their position",
          "[pipeline][reduce][loader][errors]") {
  const std::string head =
      "name: r\n"                    // 1
      "nodes:\n"                     // 2
      "  xs:\n"                      // 3
      "    op: range\n"              // 4
      "    args: {stop: 3}\n"        // 5
      "  texts:\n"                   // 6
      "    op: strings\n"            // 7
      "    args: {items: [a, b]}\n"  // 8
      "  total:\n";                  // 9
  SECTION("without map") {
    CHECK(load_error(head + "    op: sum\n"  // 10
                            "    inputs: [xs]\n"
                            "    reduce: sum\n") ==
          "p.yaml:12:5: 'reduce' of node 'total' needs 'map': it combines the results of the "
          "node's op over each element of a list");
  }
  SECTION("an unknown op, with a suggestion") {
    CHECK(load_error(head + "    op: word_count\n"
                            "    map: texts\n"
                            "    reduce: merge_count\n") ==
          "p.yaml:12:13: unknown op 'merge_count' in 'reduce' of node 'total' (did you mean "
          "'merge_counts'?)");
  }
  SECTION("an op that takes no list of the map op's results") {
    CHECK(load_error(head + "    op: word_count\n"
                            "    map: texts\n"
                            "    reduce: sum\n") ==
          "p.yaml:12:13: op 'sum' in 'reduce' of node 'total' takes a list of number, but it "
          "gets a list of map of int (op 'word_count' gives a map of int for each element)");
  }
  SECTION("an op that gives another type than the map op") {
    CHECK(load_error(head + "    op: word_count\n"
                            "    map: texts\n"
                            "    reduce: how_many\n") ==
          "p.yaml:12:13: op 'how_many' in 'reduce' of node 'total' gives an int, but it must give "
          "a map of int as op 'word_count' does: its result is combined again");
  }
  SECTION("an op that takes no list, or more than one input") {
    CHECK(load_error(head + "    op: word_count\n"
                            "    map: texts\n"
                            "    reduce: lines\n") ==
          "p.yaml:12:13: op 'lines' in 'reduce' of node 'total' takes a string, but it gets a "
          "list of map of int (op 'word_count' gives a map of int for each element)");
    CHECK(
        load_error(head + "    op: square\n"
                          "    map: xs\n"
                          "    reduce: first_of\n") ==
        "p.yaml:12:13: op 'first_of' in 'reduce' of node 'total' takes 2 inputs; a reduce op takes "
        "one, the list of results to combine");
  }
  SECTION("an op with a required argument") {
    CHECK(load_error(head + "    op: word_count\n"
                            "    map: texts\n"
                            "    reduce: top_k\n") ==
          "p.yaml:12:13: op 'top_k' in 'reduce' of node 'total' needs argument 'k'; a reduce op "
          "is called with its defaults only");
  }
  SECTION("other inputs besides the map") {
    CHECK(load_error(head + "    op: first_of\n"
                            "    map: xs\n"
                            "    inputs: [xs]\n"
                            "    reduce: sum\n") ==
          "p.yaml:13:5: 'reduce' takes no other inputs; node 'total' has 'inputs' too (compute "
          "what each element needs into the list it maps over, or leave 'reduce' out and "
          "combine in a node of its own)");
  }
  SECTION("a misspelt key") {
    CHECK_THAT(load_error(head + "    op: word_count\n"
                                 "    map: texts\n"
                                 "    reduc: merge_counts\n"),
               Catch::StartsWith("p.yaml:12:5: unknown key 'reduc' in node 'total' (did you "
                                 "mean 'reduce'?)"));
  }
  SECTION("no op name") {
    CHECK(load_error(head + "    op: word_count\n"
                            "    map: texts\n"
                            "    reduce: [sum]\n") ==
          "p.yaml:12:13: 'reduce' of node 'total' must be a string, got a list");
  }
}
