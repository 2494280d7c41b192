#include <dagflow/pipeline/pipeline.hpp>

// Tests of Pipeline::run and dry_run: outputs, the disk cache of map blocks, probes (their
// results reach readers as literals, not as tasks of their own), cache: false, failures named by
// file position, node and item, and DOT output.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/observer.hpp>
#include <dagflow/engine/trace.hpp>
#include <dagflow/nodes/value.hpp>

#include "pipeline/node_info.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dagflow::arg;
using dagflow::NodeOutcome;
using dagflow::NodeSpec;
using dagflow::Pipeline;
using dagflow::PipelineSpec;
using dagflow::Value;
using dagflow::test::info;
using dagflow::test::TempDir;

namespace {

std::atomic<int> g_squares{0};
std::vector<std::int64_t> g_listing;  // what the `listing` probe sees of "the world"
std::int64_t g_level = 0;             // what the `level` probe sees of it

dagflow::OpRegistry test_ops() {
  dagflow::OpRegistry ops;
  ops.add(
         "listing", [] { return g_listing; }, "the world, as a probe sees it")
      .set_probe();
  ops.add(
         "level", [] { return g_level; }, "one number of the world, as a probe sees it")
      .set_probe();
  ops.add(
      "minus", [](std::int64_t a, std::int64_t b) { return a - b; }, "a - b");
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

// The built-in ops (glob, word_count, merge_counts...), plus two readers of a list of files:
// how many there are, and where an item is in the list.
dagflow::OpRegistry file_ops() {
  dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
  ops.add(
      "file_count",
      [](const std::vector<fs::path>& files) { return static_cast<std::int64_t>(files.size()); },
      "how many files");
  ops.add(
      "rank_of",
      [](const fs::path& file, const std::vector<fs::path>& files) {
        return static_cast<std::int64_t>(std::find(files.begin(), files.end(), file) -
                                         files.begin());
      },
      "where file is in files");
  return ops;
}

// What the Executor reported of a run's tasks, over all its computes (the probes' and the
// rest): how many each compute announced (to run or cached, as a progress bar counts them) and
// the op of every task that reported.
class TaskCounter final : public dagflow::RunObserver {
 public:
  void on_run_start(const dagflow::RunView& run) override {
    const std::lock_guard lock(mutex_);
    run_ = &run;
    announced_ += run.to_run() + run.cached();
  }
  void on_task(const dagflow::TaskEvent& event) override {
    const std::lock_guard lock(mutex_);
    ops_.emplace_back(run_->op_name(event.task));
  }
  void on_run_end() override {
    const std::lock_guard lock(mutex_);
    run_ = nullptr;
  }
  [[nodiscard]] std::size_t announced() const {
    const std::lock_guard lock(mutex_);
    return announced_;
  }
  [[nodiscard]] std::vector<std::string> ops() const {
    const std::lock_guard lock(mutex_);
    return ops_;
  }

 private:
  mutable std::mutex mutex_;
  const dagflow::RunView* run_ = nullptr;
  std::size_t announced_ = 0;
  std::vector<std::string> ops_;
};

// One run, watched: its result, what the counter saw, and the trace.
struct WatchedRun {
  dagflow::PipelineResult result;
  std::shared_ptr<TaskCounter> counter = std::make_shared<TaskCounter>();
  std::shared_ptr<dagflow::TraceRecorder> trace = std::make_shared<dagflow::TraceRecorder>();

  WatchedRun(const Pipeline& p, const fs::path& cache_dir) {
    dagflow::ExecutorOptions options;
    options.cache_dir = cache_dir;
    options.observers = {counter, trace};
    result = p.run(std::move(options));
  }

  // The labels of the tasks recorded (parts of maps aside), sorted.
  [[nodiscard]] std::vector<std::string> traced_tasks() const {
    std::vector<std::string> names;
    for (const dagflow::TraceSpan& s : trace->spans()) {
      if (!s.part) names.push_back(s.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // The ops ("cat") of the Chrome trace's tasks, sorted.
  [[nodiscard]] std::vector<std::string> trace_json_ops() const {
    std::vector<std::string> ops;
    const Value json = dagflow::from_json(trace->chrome_trace());
    for (const Value& event : json.as_map().at("traceEvents").as_list()) {
      const Value::Map& e = event.as_map();
      const std::string phase = e.at("ph").as_string();
      if ((phase == "X" || phase == "i") && e.at("cat").as_string() != "chunks") {
        ops.push_back(e.at("cat").as_string());
      }
    }
    std::sort(ops.begin(), ops.end());
    return ops;
  }
};

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

// Issue: the internal `dagflow.literal` task no longer appears as a task in traces, counts or
// legends. A probe's result reaches each kind of reader (a map over it, a map with reduce, a
// plain node, a map that also takes it whole) as a literal of the reader's own task: the trace,
// its timeline's legend and the Executor's task counts hold one task per node, the probe's
// being the probe itself; the results are those of a pipeline with no probe; and the readers
// are still keyed by the files' content: unchanged files are cache hits, an edited one reruns
// them.
TEST_CASE("Pipeline: a probe's result is no task of its own, in traces and counts",
          "[pipeline][run][probe]") {
  TempDir dir;
  dir.write("texts/a.txt", "apple banana\n");
  dir.write("texts/b.txt", "apple\n");
  dir.write("texts/c.txt", "cherry\n");
  const fs::path file = dir.write("probed.yaml", R"(name: probed
nodes:
  files: {op: glob, args: {pattern: "texts/*.txt"}}
  counts: {op: word_count, map: files}
  total: {op: merge_counts, inputs: [counts]}
  fused: {op: word_count, map: files, reduce: merge_counts}
  how_many: {op: file_count, inputs: [files]}
  ranks: {op: rank_of, map: files, inputs: [files]}
outputs: [files, total, fused, how_many, ranks]
)");
  const Pipeline p = Pipeline::load(file, file_ops());
  const std::vector<std::string> nodes = {"counts", "files", "fused", "how_many", "ranks", "total"};
  const std::vector<std::string> ops = {
      "file_count",  "glob", "map(rank_of)", "map(word_count)", "map_reduce(word_count)",
      "merge_counts"};
  const Value counted(Value::Map{{"apple", 2}, {"banana", 1}, {"cherry", 1}});
  const auto check_outputs = [&](const dagflow::PipelineResult& r, const Value& total) {
    const Value::List& files = r.outputs.at("files").as_list();
    REQUIRE(files.size() == 3);
    CHECK(files[2].as_path().resolved == dir.path() / "texts" / "c.txt");
    CHECK(r.outputs.at("total") == total);
    CHECK(r.outputs.at("fused") == total);
    CHECK(r.outputs.at("how_many") == Value(3));
    CHECK(r.outputs.at("ranks") == Value(Value::List{0, 1, 2}));
  };

  SECTION("without a cache") {
    const WatchedRun run(p, {});
    check_outputs(run.result, counted);
    CHECK(run.result.stats.executed == 6);
    CHECK(run.traced_tasks() == nodes);
    CHECK(run.trace_json_ops() == ops);
    CHECK(run.counter->announced() == 6);
    std::vector<std::string> reported = run.counter->ops();
    std::sort(reported.begin(), reported.end());
    CHECK(reported == ops);
    const std::string svg = run.trace->timeline_svg();
    CHECK_THAT(svg, Catch::Contains(">glob</text>") && !Catch::Contains("dagflow.literal"));
  }

  SECTION("with a cache: unchanged files are hits, an edited one reruns the readers") {
    const fs::path cache = dir.path() / "cache";
    const WatchedRun first(p, cache);
    check_outputs(first.result, counted);
    CHECK(first.traced_tasks() == nodes);
    CHECK(first.counter->announced() == 6);

    const WatchedRun again(p, cache);
    check_outputs(again.result, counted);
    CHECK(again.result.stats.executed == 1);  // the glob
    for (const char* id : {"total", "fused", "how_many", "ranks"}) {
      INFO(id);
      CHECK(info(again.result, id).outcome == NodeOutcome::kCached);
    }
    // The glob ran, the four outputs it feeds were hits (`counts` was not needed).
    CHECK(again.traced_tasks() ==
          std::vector<std::string>{"files", "fused", "how_many", "ranks", "total"});
    CHECK(again.counter->announced() == 5);
    CHECK(again.trace_json_ops() == std::vector<std::string>{"file_count", "glob", "map(rank_of)",
                                                             "map_reduce(word_count)",
                                                             "merge_counts"});

    dir.write("texts/b.txt", "apple apple date\n");
    const WatchedRun edited(p, cache);
    check_outputs(edited.result,
                  Value(Value::Map{{"apple", 3}, {"banana", 1}, {"cherry", 1}, {"date", 1}}));
    CHECK(edited.result.stats.executed == 6);
    CHECK(info(edited.result, "counts").items_executed == 1);
    CHECK(info(edited.result, "counts").items_cached == 2);
    for (const char* id : {"total", "fused", "how_many", "ranks"}) {
      INFO(id);
      CHECK(info(edited.result, id).outcome == NodeOutcome::kExecuted);
    }
    CHECK(edited.traced_tasks() == nodes);
    CHECK(edited.counter->announced() == 6);
  }
}

// Where a probe's result goes among a node's inputs is part of the node's key: minus(p, ten) and
// minus(ten, p) never share a cache entry. A node of more than four inputs and a map that takes
// the result besides its list get it in its place too, and a new value reruns them all.
TEST_CASE("Pipeline: a probe's result is keyed in its place among a node's inputs",
          "[pipeline][run][probe]") {
  TempDir dir;
  g_level = 3;
  PipelineSpec spec{
      .name = "places", .file = (dir.path() / "places.yaml").string(), .base_dir = dir.path()};
  spec.nodes = {node("p", "level"),
                node("ten", "const", {}, {{"v", 10}}),
                node("xs", "numbers", {}, {{"n", 3}}),
                node("a", "minus", {"p", "ten"}),
                node("b", "minus", {"ten", "p"}),
                node("five", "sum5", {"ten", "ten", "p", "ten", "ten"}),
                node("m", "square_plus", {"p"}, {}, "xs")};
  spec.outputs = {"a", "b", "five", "m", "p"};
  const Pipeline p(std::move(spec), test_ops());
  const auto cache = p.default_cache_dir();
  const auto check = [](const dagflow::PipelineResult& r, std::int64_t level) {
    CHECK(r.outputs.at("p") == Value(level));
    CHECK(r.outputs.at("a") == Value(level - 10));
    CHECK(r.outputs.at("b") == Value(10 - level));
    CHECK(r.outputs.at("five") == Value(40 + level));
    CHECK(r.outputs.at("m") == Value(Value::List{1 + level, 4 + level, 9 + level}));
  };

  check(p.run({.cache_dir = cache}), 3);
  const auto again = p.run({.cache_dir = cache});
  check(again, 3);
  CHECK(again.stats.executed == 1);  // the probe: a and b each found their own entry
  CHECK(info(again, "a").outcome == NodeOutcome::kCached);
  CHECK(info(again, "b").outcome == NodeOutcome::kCached);

  g_level = 5;
  const auto changed = p.run({.cache_dir = cache});
  check(changed, 5);
  CHECK(info(changed, "m").items_executed == 3);  // every item takes the new value
  CHECK(changed.stats.executed == 5);             // p, a, b, five, m
}
