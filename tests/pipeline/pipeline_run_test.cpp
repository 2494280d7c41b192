#include <dagflow/pipeline/pipeline.hpp>

// Tests of Pipeline::run and dry_run: outputs, the disk cache of map blocks, probes, cache:
// false, failures named by file position, node and item, and DOT output.
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dagflow::arg;
using dagflow::NodeOutcome;
using dagflow::NodeSpec;
using dagflow::Pipeline;
using dagflow::PipelineSpec;
using dagflow::Value;
using dagflow::test::TempDir;

namespace {

std::atomic<int> g_squares{0};
std::vector<std::int64_t> g_listing;  // what the `listing` probe sees of "the world"

dagflow::OpRegistry test_ops() {
  dagflow::OpRegistry ops;
  ops.add(
         "listing", [] { return g_listing; }, "the world, as a probe sees it")
      .set_probe();
  ops.add("numbers",
          [](std::int64_t n) {
            std::vector<std::int64_t> v;
            for (std::int64_t i = 1; i <= n; ++i) v.push_back(i);
            return v;
          },
          "1..n", {arg("n")});
  ops.add(
      "square_plus",
      [](std::int64_t x, std::int64_t plus) {
        ++g_squares;
        if (x == 1313) throw std::runtime_error("unlucky");
        return x * x + plus;
      },
      "x*x + plus");
  ops.add(
      "total",
      [](const std::vector<std::int64_t>& xs) {
        std::int64_t s = 0;
        for (auto x : xs) s += x;
        return s;
      },
      "sum");
  ops.add(
      "sum5",
      [](std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d, std::int64_t e) {
        return a + b + c + d + e;
      },
      "five inputs");
  ops.add(
      "weighted",
      [](std::int64_t x, std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d,
         std::int64_t e) {
        if (x == 1313) throw std::runtime_error("unlucky");
        return x * a + b + c + d + e;
      },
      "six inputs");
  ops.add("const", [](std::int64_t v) { return v; }, "a constant", {arg("v")});
  ops.add(
      "one", [] { return 1; }, "1");
  return ops;
}

NodeSpec node(std::string id, std::string op, std::vector<std::string> inputs = {},
              Value::Map args = {}, std::string map = {}) {
  return NodeSpec{.id = std::move(id),
                  .op = std::move(op),
                  .inputs = std::move(inputs),
                  .map = std::move(map),
                  .args = std::move(args),
                  .mark = {3, 5}};
}

// numbers(n) --each--> square_plus(+offset) --> total
PipelineSpec squares_spec(const fs::path& dir, std::int64_t n) {
  return PipelineSpec{
      .name = "squares",
      .file = (dir / "squares.yaml").string(),
      .base_dir = dir,
      .nodes = {node("xs", "numbers", {}, {{"n", Value(n)}}),
                node("offset", "const", {}, {{"v", 1}}),
                node("sq", "square_plus", {"offset"}, {}, "xs"), node("sum", "total", {"sq"})},
      .outputs = {"sum"}};
}

}  // namespace

// run() computes the outputs and reports every node's outcome.
TEST_CASE("Pipeline: runs its nodes and returns its outputs", "[pipeline][run]") {
  TempDir dir;
  const Pipeline p(squares_spec(dir.path(), 10), test_ops());
  const dagflow::PipelineResult r = p.run({.threads = 2});
  CHECK(r.outputs.at("sum").as_int() == 385 + 10);
  CHECK(r.stats.executed == 4);
  CHECK(r.stats.cache_hits == 0);
  REQUIRE(r.nodes.size() == 4);
  CHECK(r.nodes[2].id == "sq");
  CHECK(r.nodes[2].outcome == NodeOutcome::kExecuted);
}

// With a disk cache, a rerun of an unchanged pipeline runs no node body.
TEST_CASE("Pipeline: caches a map node's blocks on disk, so a second run executes nothing",
          "[pipeline][run]") {
  TempDir dir;
  const Pipeline p(squares_spec(dir.path(), 100), test_ops());
  const auto cache = dir.path() / ".dagflow" / "cache";
  CHECK(p.default_cache_dir() == cache);
  // The one derivation of the default cache, also used by `dagflow cache` with a file alone.
  CHECK(dagflow::default_cache_dir_in(
            dagflow::pipeline_dir_of(dir.path() / "sub" / ".." / "p.yaml")) == cache);
  const auto first = p.run({.cache_dir = cache});
  CHECK(first.stats.items_executed == 100);
  const int squares_before = g_squares.load();
  const auto second = p.run({.cache_dir = cache});
  CHECK(second.outputs == first.outputs);
  CHECK(second.stats.executed == 0);
  CHECK(second.stats.cache_hits == 1);  // `sum` itself; what it needs is not even looked at
  CHECK(second.nodes[3].outcome == NodeOutcome::kCached);
  CHECK(second.nodes[2].outcome == NodeOutcome::kNotNeeded);
  CHECK(g_squares.load() == squares_before);
}

// Probes see the world anew on each run; only what their change affects is recomputed.
TEST_CASE("Pipeline: a probe runs every time, and only the map items it changed run again",
          "[pipeline][run]") {
  TempDir dir;
  g_listing = {1, 2, 3, 4, 5, 6, 7, 8};
  PipelineSpec spec = squares_spec(dir.path(), 0);
  spec.nodes[0] = node("xs", "listing");
  const Pipeline p(std::move(spec), test_ops());
  const auto cache = p.default_cache_dir();
  const auto first = p.run({.cache_dir = cache});
  CHECK(first.outputs.at("sum").as_int() == 204 + 8);
  CHECK(first.stats.executed == 4);

  const auto again = p.run({.cache_dir = cache});
  CHECK(again.stats.executed == 1);  // the probe
  CHECK(again.nodes[0].outcome == NodeOutcome::kExecuted);

  g_listing[3] = 10;  // one element of the world changed
  const auto changed = p.run({.cache_dir = cache});
  CHECK(changed.outputs.at("sum").as_int() == 204 - 16 + 100 + 8);
  CHECK(changed.stats.items_executed == 1);
  CHECK(changed.stats.items_cached == 7);
  CHECK(changed.stats.executed == 3);  // listing, sq, sum
}

// Stats count a fully cached map as a hit, not as an execution.
TEST_CASE("Pipeline: a map whose every block is cached counts as a cache hit", "[pipeline][run]") {
  TempDir dir;
  g_listing = {1, 2, 3};
  PipelineSpec spec = squares_spec(dir.path(), 0);
  spec.nodes[0] = node("xs", "listing");
  const auto cache = dir.path() / "cache";
  (void)Pipeline(spec, test_ops()).run({.cache_dir = cache});
  // Another node computes the same offset: the map's key changes (its input's key did), but
  // its items and the values it is given do not, so every block is found on disk.
  spec.nodes[1] = node("offset", "one");
  const auto r = Pipeline(spec, test_ops()).run({.cache_dir = cache});
  CHECK(r.nodes[2].outcome == NodeOutcome::kCached);
  CHECK(r.stats.items_executed == 0);
  CHECK(r.stats.items_cached == 3);
  // sum's inputs came out as in the first run, so it takes its last result (early cut-off).
  CHECK(r.nodes[3].outcome == NodeOutcome::kCached);
  CHECK(r.stats.cache_hits == 2);
  CHECK(r.stats.executed == 2);  // listing, offset
  CHECK(r.outputs.at("sum").as_int() == 14 + 3);
}

// A node failure points at the line in the pipeline file and the map item that failed.
TEST_CASE("Pipeline: a failing node names the file, position, node, op and item",
          "[pipeline][run][errors]") {
  TempDir dir;
  const Pipeline p(squares_spec(dir.path(), 1400), test_ops());
  try {
    (void)p.run();
    FAIL("expected a NodeError");
  } catch (const dagflow::NodeError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith((dir.path() / "squares.yaml").string() + ":3:5: "));
    CHECK_THAT(what, Catch::Contains("node 'sq' (op square_plus) failed at item 1312: unlucky"));
    CHECK(e.node() == "sq");
    CHECK(e.op() == "square_plus");
  }
}

// A map node whose other inputs are too many to pass one by one (they reach each item as one
// list): a re-run with one changed element runs that element's block only, and a failing element
// is reported with its node and index.
TEST_CASE("Pipeline: a map with many inputs reuses its blocks and names a failing item's node",
          "[pipeline][run][errors]") {
  TempDir dir;
  g_listing.clear();
  for (std::int64_t x = 1; x <= 20; ++x) g_listing.push_back(x);
  PipelineSpec spec{
      .name = "many", .file = (dir.path() / "many.yaml").string(), .base_dir = dir.path()};
  spec.nodes.push_back(node("xs", "listing"));
  for (int i = 1; i <= 5; ++i) {
    spec.nodes.push_back(node("c" + std::to_string(i), "const", {}, {{"v", Value(i)}}));
  }
  spec.nodes.push_back(node("w", "weighted", {"c1", "c2", "c3", "c4", "c5"}, {}, "xs"));
  spec.outputs = {"w"};
  const Pipeline p(std::move(spec), test_ops());
  const auto cache = p.default_cache_dir();
  const auto expected = [] {
    Value::List out;
    for (std::int64_t x : g_listing) out.emplace_back(x + 2 + 3 + 4 + 5);
    return Value(std::move(out));
  };

  const auto first = p.run({.cache_dir = cache});
  CHECK(first.outputs.at("w") == expected());
  CHECK(first.nodes[6].outcome == NodeOutcome::kExecuted);
  CHECK(first.nodes[6].items_executed == 20);
  CHECK(first.stats.executed == 7);

  g_listing[4] = 100;
  const auto second = p.run({.cache_dir = cache});
  CHECK(second.outputs.at("w") == expected());
  CHECK(second.nodes[6].outcome == NodeOutcome::kExecuted);
  CHECK(second.nodes[6].items_executed == 1);
  CHECK(second.nodes[6].items_cached == 19);
  CHECK(second.stats.executed == 2);  // the probe and the map
  CHECK(second.stats.cache_hits == 5);

  g_listing[7] = 1313;
  try {
    (void)p.run({.cache_dir = cache});
    FAIL("expected a NodeError");
  } catch (const dagflow::NodeError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith((dir.path() / "many.yaml").string() + ":3:5: "));
    CHECK_THAT(e.what(), Catch::Contains("node 'w' (op weighted) failed at item 7: unlucky"));
    CHECK(e.node() == "w");
  }
}

// Mapping a node whose value is not a list fails that node, without an item.
TEST_CASE("Pipeline: a map over a value that is no list names the node and the kind",
          "[pipeline][run][errors]") {
  TempDir dir;
  PipelineSpec spec = squares_spec(dir.path(), 3);
  spec.nodes[0] = node("xs", "const", {}, {{"v", 3}});
  try {
    (void)Pipeline(std::move(spec), test_ops()).run();
    FAIL("expected a NodeError");
  } catch (const dagflow::NodeError& e) {
    CHECK_THAT(e.what(), Catch::EndsWith("node 'sq' (op square_plus) failed: a map needs a list, "
                                         "got int"));
  }
}

// An uncached node and everything after it are recomputed on each run.
TEST_CASE("Pipeline: cache: false runs a node and its downstream every time", "[pipeline][run]") {
  TempDir dir;
  PipelineSpec spec = squares_spec(dir.path(), 5);
  spec.nodes[0].cache = false;
  const Pipeline p(std::move(spec), test_ops());
  const auto cache = p.default_cache_dir();
  (void)p.run({.cache_dir = cache});
  const auto again = p.run({.cache_dir = cache});
  CHECK(again.stats.executed == 3);  // xs, sq, sum; offset is found in the cache
}

// Inputs are passed in order however many there are.
TEST_CASE("Pipeline: nodes with more than four inputs get them all, in order", "[pipeline][run]") {
  TempDir dir;
  PipelineSpec spec{.name = "five", .file = "five.yaml", .base_dir = dir.path()};
  for (int i = 1; i <= 5; ++i) {
    spec.nodes.push_back(node("c" + std::to_string(i), "const", {}, {{"v", Value(i * 10 + i)}}));
  }
  spec.nodes.push_back(node("s", "sum5", {"c1", "c2", "c3", "c4", "c5"}));
  spec.outputs = {"s", "c1"};
  const auto r = Pipeline(std::move(spec), test_ops()).run();
  CHECK(r.outputs.at("s").as_int() == 165);
  CHECK(r.outputs.at("c1").as_int() == 11);
}

// A Pipeline built from a spec checks its ops, and draws itself as DOT.
TEST_CASE("Pipeline: refuses ops its registry lacks, and to_dot shows nodes and edges",
          "[pipeline][run]") {
  TempDir dir;
  PipelineSpec spec = squares_spec(dir.path(), 3);
  CHECK_THROWS_AS(Pipeline(spec, dagflow::OpRegistry{}), std::invalid_argument);
  const std::string dot = Pipeline(spec, test_ops()).to_dot();
  CHECK_THAT(dot, Catch::StartsWith("digraph \"squares\" {"));
  CHECK_THAT(dot, Catch::Contains("\"sq\" [label=\"sq\\nmap square_plus\""));
  CHECK_THAT(dot, Catch::Contains("\"xs\" -> \"sq\" [style=bold, label=\"each\"];"));
  CHECK_THAT(dot, Catch::Contains("\"sq\" -> \"sum\";"));
}

// dry_run is like make -n: probes run, nothing else, and each node says what would happen.
TEST_CASE("Pipeline: dry_run runs only the probes and tells what would run and what is cached",
          "[pipeline][run][dry-run]") {
  TempDir dir;
  g_listing = {1, 2, 3};
  PipelineSpec spec = squares_spec(dir.path(), 0);
  spec.nodes[0] = node("xs", "listing");
  const Pipeline p(std::move(spec), test_ops());
  const auto cache = p.default_cache_dir();
  const int squares_before = g_squares.load();
  const auto cold = p.dry_run({.cache_dir = cache});
  CHECK(g_squares.load() == squares_before);  // nothing but the probe ran
  CHECK(cold.outputs.empty());
  CHECK(cold.nodes[0].outcome == NodeOutcome::kExecuted);  // the probe
  CHECK(cold.nodes[2].outcome == NodeOutcome::kExecuted);  // would run
  CHECK(cold.nodes[3].outcome == NodeOutcome::kExecuted);
  (void)p.run({.cache_dir = cache});
  const auto warm = p.dry_run({.cache_dir = cache});
  CHECK(warm.nodes[3].outcome == NodeOutcome::kCached);
  CHECK(warm.nodes[2].outcome == NodeOutcome::kNotNeeded);
  g_listing = {1, 2, 4};
  const auto changed = p.dry_run({.cache_dir = cache});
  CHECK(changed.nodes[2].outcome == NodeOutcome::kExecuted);
  CHECK(changed.nodes[1].outcome == NodeOutcome::kCached);  // offset did not change

  const std::string dot = p.to_dot(changed.nodes);
  CHECK_THAT(dot, Catch::Contains("\"sq\" [label=\"sq\\nmap square_plus\", peripheries=2, "
                                  "style=\"rounded,filled\", fillcolor=\"#FFD8A8\"]"));
  CHECK_THAT(dot, Catch::Contains("\"offset\" [label=\"offset\\nconst\", "
                                  "style=\"rounded,filled\", fillcolor=\"#B2F2BB\"]"));
  CHECK_THAT(dot, Catch::Contains("cluster_legend"));
}
