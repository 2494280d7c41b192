#include <dagflow/engine/observer.hpp>

// Tests of RunObserver: what an observer is told about a run (executed tasks, cache hits, map
// item counts, failures) and that a misbehaving observer cannot fail the run.
#include <atomic>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dagflow::test::TempDir;

namespace {

// Keeps every event (the executor calls on_task from several workers at once).
struct Recorder final : dagflow::RunObserver {
  std::mutex mutex;
  std::vector<dagflow::TaskEvent> events;
  std::size_t starts = 0, ends = 0, to_run = 0, cached = 0;

  void on_run_start(const dagflow::RunView& run) override {
    std::lock_guard lock(mutex);
    ++starts;
    to_run = run.to_run();
    cached = run.cached();
  }
  void on_task(const dagflow::TaskEvent& e) override {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
  void on_run_end() override {
    std::lock_guard lock(mutex);
    ++ends;
  }
  std::size_t count(dagflow::TaskOutcome outcome) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& e : events) n += e.outcome == outcome ? 1 : 0;
    return n;
  }
};

long ob_inc(long x) { return x + 1; }
long ob_add(long a, long b) { return a + b; }
long ob_fail(long) { throw std::runtime_error("no"); }
long ob_times3(const long& x) { return x * 3; }

}  // namespace

// on_task reports each task that ran exactly once, on a valid worker, with end >= start; the
// run is culled to what the target needs.
TEST_CASE("RunObserver: sees every executed task once, with times and a worker index",
          "[engine][observer]") {
  auto recorder = std::make_shared<Recorder>();
  dagflow::Executor ex({.threads = 2, .memory_cache_bytes = 0, .observers = {recorder}});
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> leaves;
  for (long i = 0; i < 50; ++i) leaves.push_back(g.delayed(dagflow::op("ob_inc", ob_inc), i));
  auto total = g.delayed(dagflow::op("ob_add", ob_add), leaves[0], leaves[1]);
  CHECK(ex.compute(total) == 3);
  CHECK(recorder->starts == 1);
  CHECK(recorder->ends == 1);
  CHECK(recorder->to_run == 3);  // culled to what `total` needs
  REQUIRE(recorder->events.size() == 3);
  for (const auto& e : recorder->events) {
    CHECK(e.outcome == dagflow::TaskOutcome::kExecuted);
    CHECK(e.end >= e.start);
    CHECK(e.worker < 2);
  }
  CHECK(recorder->events.back().task == total.id());  // the sink finishes last
}

// Hits are reported as such (disk, then memory), and on_run_start already knows what is cached.
TEST_CASE("RunObserver: sees memory and disk cache hits as the run starts", "[engine][observer]") {
  const TempDir tmp;
  const fs::path dir = tmp.path() / "cache";
  {
    dagflow::Graph g;
    auto a = g.delayed(dagflow::op("ob_inc", ob_inc), 1L);
    auto b = g.delayed(dagflow::op("ob_inc", ob_inc), a);
    {
      dagflow::Executor warm({.cache_dir = dir});
      CHECK(warm.compute(b) == 3);
    }
    auto recorder = std::make_shared<Recorder>();
    dagflow::Executor ex({.cache_dir = dir, .observers = {recorder}});
    CHECK(ex.compute(b) == 3);  // from disk: b's hit prunes a
    CHECK(recorder->count(dagflow::TaskOutcome::kDiskHit) == 1);
    CHECK(recorder->cached == 1);
    CHECK(recorder->to_run == 0);
    CHECK(ex.compute(b) == 3);  // now from memory
    CHECK(recorder->count(dagflow::TaskOutcome::kMemoryHit) == 1);
  }
}

// A map's event counts its computed and cached items; a failing task is reported as failed and
// the run still ends with on_run_end.
TEST_CASE("RunObserver: gets item counts of a block-cached map, and failed tasks",
          "[engine][observer]") {
  const TempDir tmp;
  const fs::path dir = tmp.path() / "cache";
  std::vector<long> items(100);
  for (long i = 0; i < 100; ++i) items[static_cast<std::size_t>(i)] = i;
  {
    auto recorder = std::make_shared<Recorder>();
    dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = dir, .observers = {recorder}});
    dagflow::Graph g;
    auto source =
        g.delayed(dagflow::op("ob_items", [](const std::vector<long>& v) { return v; }), items);
    auto mapped = dagflow::map(g, dagflow::op("ob_times3", ob_times3), source);
    (void)ex.compute(mapped);
    REQUIRE(!recorder->events.empty());
    const auto& last = recorder->events.back();
    CHECK(last.task == mapped.id());
    CHECK(last.items_computed == 100);
    CHECK(last.items_cached == 0);

    auto failing = g.delayed(dagflow::op("ob_fail", ob_fail), 1L);
    CHECK_THROWS_AS(ex.compute(failing), dagflow::TaskError);
    CHECK(recorder->count(dagflow::TaskOutcome::kFailed) == 1);
    CHECK(recorder->ends == 2);  // on_run_end also after a failed run
  }
}

// Item counts do not depend on a disk cache being configured.
TEST_CASE("RunObserver: counts map items without a disk cache too", "[engine][observer]") {
  auto recorder = std::make_shared<Recorder>();
  dagflow::Executor ex({.memory_cache_bytes = 0, .observers = {recorder}});
  dagflow::Graph g;
  auto mapped = dagflow::map(
      g, [](const long& x) { return x + 1; }, std::vector<long>(37, 1L));
  CHECK(ex.compute(mapped).size() == 37);
  REQUIRE(recorder->events.size() == 1);
  CHECK(recorder->events[0].items_computed == 37);
  CHECK(recorder->events[0].items_cached == 0);
  CHECK(ex.last_run_stats().items_executed == 37);
  CHECK(ex.last_run_stats().items_computed == 37);  // the deprecated name still counts
}

// Observers are diagnostics: an exception from any callback is reported once per compute(),
// never the run's result, and the observers after it still see every event.
TEST_CASE("RunObserver: an observer that throws does not fail the run or starve the others",
          "[engine][observer][errors]") {
  struct Throwing final : dagflow::RunObserver {
    void on_run_start(const dagflow::RunView&) override { throw std::runtime_error("start"); }
    void on_task(const dagflow::TaskEvent&) override { throw std::runtime_error("task"); }
    void on_run_end() override { throw std::runtime_error("end"); }
  };
  auto recorder = std::make_shared<Recorder>();
  std::mutex log_mutex;
  std::vector<std::string> warnings;
  dagflow::Executor ex({.threads = 2,
                        .log =
                            [&](std::string_view m) {
                              std::lock_guard lock(log_mutex);
                              warnings.emplace_back(m);
                            },
                        .observers = {std::make_shared<Throwing>(), recorder}});
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("ob_inc", ob_inc), 41L);
  auto b = g.delayed(dagflow::op("ob_inc", ob_inc), a);
  CHECK(ex.compute(b) == 43);
  REQUIRE(warnings.size() == 1);  // once per compute(), though it threw four times
  CHECK(warnings[0].find("observer 1 of 2 threw from on_run_start: start") != std::string::npos);
  CHECK(recorder->starts == 1);
  CHECK(recorder->events.size() == 2);
  CHECK(recorder->ends == 1);

  CHECK(ex.compute(b) == 43);  // a memory hit, reported to the throwing observer too
  CHECK(warnings.size() == 2);
  CHECK(recorder->starts == 2);
  CHECK(recorder->events.size() == 3);
}

TEST_CASE("RunObserver: the deprecated single observer is called after the list",
          "[engine][observer]") {
  std::vector<int> calls;
  struct Tagging final : dagflow::RunObserver {
    Tagging(std::vector<int>& calls, int tag) : calls_(calls), tag_(tag) {}
    void on_task(const dagflow::TaskEvent&) override { calls_.push_back(tag_); }
    std::vector<int>& calls_;
    int tag_;
  };
  dagflow::Executor ex(
      {.threads = 1,
       .observer = std::make_shared<Tagging>(calls, 3),
       .observers = {std::make_shared<Tagging>(calls, 1), std::make_shared<Tagging>(calls, 2)}});
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("ob_inc", ob_inc), 1L);
  CHECK(ex.compute(a) == 2);
  CHECK(calls == std::vector<int>{1, 2, 3});
}
