#include <dagflow/pipeline/pipeline.hpp>

// Tests of what a run does with its nodes' run keys and the run controls: retries, timeouts and
// resources applied to the nodes' tasks, keep-going failures named by node, and cancellation
// through a CancelToken, after which what finished is cached and the next run resumes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/this_task.hpp>
#include <dagflow/nodes/op_registry.hpp>

#include "pipeline/node_info.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

using dagflow::NodeOutcome;
using dagflow::Pipeline;
using dagflow::PipelineResult;
using dagflow::test::info;
using dagflow::test::TempDir;

std::atomic<int> g_holding{0};       // `hold` nodes running now
std::atomic<int> g_most_holding{0};  // the most of them ever running at once
std::atomic<int> g_quick_runs{0};

// A one-shot signal from a node's body to the test's thread.
struct Started {
  std::mutex mutex;
  std::condition_variable cv;
  bool started = false;

  void set() {
    const std::lock_guard lock(mutex);
    started = true;
    cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return started; });
  }
};
Started* g_slow_started = nullptr;  // set by the cancel test while it runs
std::atomic<bool> g_stall{true};    // whether `stall` waits to be stopped

dagflow::OpRegistry test_ops() {
  dagflow::OpRegistry ops;
  // Fails on its first `failures` attempts.
  ops.add("flaky",
          [](std::int64_t failures) {
            const auto attempt = static_cast<std::int64_t>(dagflow::this_task::attempt());
            if (attempt < failures) throw std::runtime_error("attempt " + std::to_string(attempt));
            return attempt;
          },
          "fails at first", {dagflow::arg("failures")});
  // Runs until its task is asked to stop (while g_stall), then fails, as a well-behaved op
  // that was stopped does.
  ops.add(
      "stall",
      [](std::int64_t x) {
        if (g_slow_started != nullptr) g_slow_started->set();
        while (g_stall) {
          if (dagflow::this_task::stop_requested()) throw std::runtime_error("stopped");
          std::this_thread::yield();
        }
        return x;
      },
      "waits to be stopped");
  ops.add("hold",
          [](std::int64_t x) {
            const int now = ++g_holding;
            int most = g_most_holding.load();
            while (now > most && !g_most_holding.compare_exchange_weak(most, now)) {
            }
            std::this_thread::yield();
            --g_holding;
            return x;
          },
          "holds a resource", {dagflow::arg("x")});
  ops.add("quick",
          [](std::int64_t x) {
            ++g_quick_runs;
            return x;
          },
          "returns x", {dagflow::arg("x")});
  ops.add(
      "after", [](std::int64_t x, std::int64_t y) { return x + y; }, "x + y");
  ops.add("bad",
          [](std::int64_t x) -> std::int64_t {
            throw std::runtime_error("broken " + std::to_string(x));
          },
          "fails", {dagflow::arg("x")});
  return ops;
}

Pipeline load(const TempDir& dir, std::string_view text, dagflow::LoadOptions options = {}) {
  const auto file = dir.write("p.yaml", text);
  return Pipeline(dagflow::load_pipeline_spec(file, test_ops(), options), test_ops(), options);
}

}  // namespace

// `retries` gives a failing node more attempts; past them, the error says how many ran.
TEST_CASE("Pipeline: a node's retries run it again after a failure", "[pipeline][run][options]") {
  TempDir dir;
  const Pipeline p = load(dir,
                          "name: retry\n"
                          "nodes:\n"
                          "  ok: {op: flaky, args: {failures: 2}, retries: 2}\n"
                          "  no: {op: flaky, args: {failures: 2}, retries: 1}\n");
  const PipelineResult r = p.run({.threads = 2}, {.targets = {"ok"}});
  CHECK(r.outputs.at("ok").as_int() == 2);  // the third attempt
  CHECK(info(r, "ok").outcome == NodeOutcome::kExecuted);
  CHECK(dagflow::test::thrown_message<dagflow::NodeError>([&] {
          (void)p.run({.threads = 2}, {.targets = {"no"}});
        }) == (dir.path() / "p.yaml").string() +
                  ":4:3: node 'no' (op flaky) failed after 2 attempts: attempt 1");
}

// A node past its `timeout` is stopped and fails, naming the node and its limit.
TEST_CASE("Pipeline: a node's timeout stops it", "[pipeline][run][options]") {
  TempDir dir;
  const Pipeline p = load(dir,
                          "name: slow\n"
                          "nodes:\n"
                          "  zero: {op: quick, args: {x: 0}}\n"
                          "  slow: {op: stall, inputs: [zero], timeout: 200ms}\n");
  CHECK(dagflow::test::thrown_message<dagflow::NodeError>([&] { (void)p.run({.threads = 2}); }) ==
        (dir.path() / "p.yaml").string() + ":4:3: node 'slow' (op stall) timed out after 200 ms");
}

// Nodes holding a resource never exceed its capacity, the file's or the one the run is given.
TEST_CASE("Pipeline: nodes holding a resource stay within its capacity",
          "[pipeline][run][options]") {
  TempDir dir;
  const int capacity = GENERATE(1, 2);
  std::string text = "name: db\nresources: {db: 1}\nnodes:\n";
  for (int i = 0; i < 12; ++i) {
    text += "  n" + std::to_string(i) +
            ": {op: hold, io: true, resources: {db: 1}, args: {x: " + std::to_string(i) + "}}\n";
  }
  const Pipeline p = load(dir, text, {.resources = {{"db", static_cast<std::size_t>(capacity)}}});
  g_most_holding = 0;
  const PipelineResult r = p.run({.threads = 4, .io_threads = 8});
  CHECK(r.stats.executed == 12);
  CHECK(g_most_holding.load() <= capacity);
}

// With keep_going, a failure stops only what depends on it: the rest runs and is cached, and the
// error names every failed node.
TEST_CASE("Pipeline: keep_going runs what does not depend on a failure",
          "[pipeline][run][options][errors]") {
  TempDir dir;
  const Pipeline p = load(dir,
                          "name: keep\n"
                          "nodes:\n"
                          "  a: {op: bad, args: {x: 1}}\n"
                          "  b: {op: bad, args: {x: 2}}\n"
                          "  c: {op: quick, args: {x: 3}}\n"
                          "  d: {op: after, inputs: [a, c]}\n");
  const auto cache = dir.path() / "cache";
  try {
    (void)p.run({.cache_dir = cache, .keep_going = true});
    FAIL("the run succeeded");
  } catch (const dagflow::PipelineRunError& e) {
    REQUIRE(e.failures().size() == 2);
    REQUIRE(e.node_errors().size() == 2);
    std::vector<std::string> failed;
    for (const auto& f : e.failures()) failed.push_back(f.label());
    std::sort(failed.begin(), failed.end());
    CHECK(failed == std::vector<std::string>{"a", "b"});
    for (const dagflow::NodeError& n : e.node_errors()) {
      CHECK_THAT(n.what(), Catch::Contains(":3: node '" + n.node() + "' (op bad) failed: broken"));
    }
    const PipelineResult& r = e.result();
    CHECK(info(r, "a").outcome == NodeOutcome::kFailed);
    CHECK_THAT(info(r, "a").error, Catch::Contains("broken 1"));
    CHECK(info(r, "c").outcome == NodeOutcome::kExecuted);
    CHECK(info(r, "d").outcome == NodeOutcome::kNotRun);
    CHECK(r.stats.failed == 2);
    CHECK(r.stats.not_run == 1);
  }
  // What finished is cached: c does not run again.
  const int runs = g_quick_runs.load();
  CHECK_THROWS_AS(p.run({.cache_dir = cache, .keep_going = true}), dagflow::RunError);
  CHECK(g_quick_runs.load() == runs);
  // Without keep_going, the first failure is the error, as before.
  CHECK_THROWS_AS(p.run({.cache_dir = cache}), dagflow::NodeError);
}

// A cancelled run stops its running nodes, says what finished, and leaves it cached: the next
// run resumes from it. A token cancelled before a run stops it before anything runs.
TEST_CASE("Pipeline: a CancelToken cancels a run, and the next run resumes",
          "[pipeline][run][options]") {
  TempDir dir;
  const Pipeline p = load(dir,
                          "name: cancel\n"
                          "nodes:\n"
                          "  first: {op: quick, args: {x: 5}}\n"
                          "  slow: {op: stall, inputs: [first]}\n"
                          "  other: {op: quick, args: {x: 6}}\n"
                          "outputs: [slow]\n");
  const auto cache = dir.path() / "cache";
  Started started;
  g_slow_started = &started;
  const int quick_before = g_quick_runs.load();
  auto token = std::make_shared<dagflow::CancelToken>();
  std::thread canceller([&] {
    started.wait();
    token->cancel();
  });
  try {
    (void)p.run({.cache_dir = cache}, {.cancel = token});
    FAIL("the run was not cancelled");
  } catch (const dagflow::PipelineCancelled& e) {
    const PipelineResult& r = e.result();
    CHECK(info(r, "first").outcome == NodeOutcome::kExecuted);
    CHECK(info(r, "slow").outcome == NodeOutcome::kNotRun);
    CHECK(info(r, "other").outcome == NodeOutcome::kNotNeeded);
    CHECK(r.stats.executed == 1);
    CHECK(r.stats.not_run == 1);
    CHECK(r.outputs.empty());
  }
  canceller.join();
  g_slow_started = nullptr;
  CHECK(g_quick_runs.load() == quick_before + 1);

  // Cancelled already: nothing runs.
  CHECK_THROWS_AS(p.run({.cache_dir = cache}, {.cancel = token}), dagflow::PipelineCancelled);

  // The next run resumes: `first` comes from the cache.
  g_stall = false;
  const PipelineResult r = p.run({.cache_dir = cache});
  g_stall = true;
  CHECK(r.outputs.at("slow").as_int() == 5);
  CHECK(info(r, "first").outcome == NodeOutcome::kCached);
  CHECK(g_quick_runs.load() == quick_before + 1);
}
