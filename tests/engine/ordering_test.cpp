#include <dagflow/engine/executor.hpp>

// Tests of side-effect steps (tasks returning void) and ordering-only dependencies
// (Graph::after): what runs, in which order, how often, and what the caches make of them.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/keys.hpp>
#include <dagflow/graph/traversal.hpp>

#include "support/temp_dir.hpp"

namespace {

// Records the order in which steps ran, from any worker.
class Journal {
 public:
  void note(int step) {
    const std::lock_guard lock(mutex_);
    steps_.push_back(step);
  }
  void clear() {
    const std::lock_guard lock(mutex_);
    steps_.clear();
  }
  [[nodiscard]] std::vector<int> steps() const {
    const std::lock_guard lock(mutex_);
    return steps_;
  }
  // Position of `step` in the journal (steps.size() when absent).
  [[nodiscard]] std::size_t position(int step) const {
    const std::vector<int> s = steps();
    return static_cast<std::size_t>(std::find(s.begin(), s.end(), step) - s.begin());
  }

 private:
  mutable std::mutex mutex_;
  std::vector<int> steps_;
};

int twice(int x) { return 2 * x; }

dagflow::ExecutorOptions threads(std::size_t n) {
  dagflow::ExecutorOptions options;
  options.threads = n;
  return options;
}

}  // namespace

TEST_CASE("Ordering: a void task runs on every compute and computes to nothing",
          "[engine][ordering]") {
  dagflow::Graph g;
  std::atomic<int> calls{0};
  dagflow::Delayed<void> step = g.delayed([&calls](int by) { calls += by; }, 2);
  dagflow::Executor ex(threads(2));
  ex.compute(step);
  ex.compute(step);
  CHECK(calls == 4);  // impure: never taken from the memory cache
  CHECK(ex.last_run_stats().executed == 1);
  CHECK(ex.memory_cache_stats().entries == 0);
}

TEST_CASE("Ordering: a vector of void steps is computed in one run", "[engine][ordering]") {
  dagflow::Graph g;
  std::atomic<int> calls{0};
  std::vector<dagflow::Delayed<void>> steps;
  for (int i = 0; i < 10; ++i) steps.push_back(g.delayed([&calls] { ++calls; }));
  dagflow::Executor ex(threads(2));
  ex.compute(steps);
  CHECK(calls == 10);
  CHECK(ex.last_run_stats().executed == 10);
}

TEST_CASE("Ordering: after() runs a task after its deps, older or younger", "[engine][ordering]") {
  dagflow::Graph g;
  Journal journal;
  auto note = [&journal](int step) { journal.note(step); };
  auto report = g.delayed([&journal] {
    journal.note(3);
    return 42;
  });
  auto load = g.delayed(note, 1);   // younger than report, runs before it
  auto check = g.delayed(note, 2);  // likewise, and after load
  g.after(check, load);
  g.after(report, load, check);
  for (const std::size_t n : {1U, 2U}) {
    dagflow::Executor ex(threads(n));
    CHECK(ex.compute(report) == 42);
    CHECK(journal.position(1) < journal.position(2));
    CHECK(journal.position(2) < journal.position(3));
    journal.clear();
  }
  CHECK(g.argument_count(report.id()) == 0);
  CHECK(g.dependencies(report.id()).size() == 2);
  const std::vector<dagflow::NodeId> order = dagflow::topological_order(g);
  const auto at = [&](dagflow::NodeId id) { return std::find(order.begin(), order.end(), id); };
  CHECK(at(load.id()) < at(check.id()));
  CHECK(at(check.id()) < at(report.id()));
}

TEST_CASE("Ordering: after() accepts vectors of handles and many calls on one task",
          "[engine][ordering]") {
  dagflow::Graph g;
  std::atomic<int> done{0};
  auto sink = g.delayed([&done] { return done.load(); });  // created first, runs last
  std::vector<dagflow::Delayed<void>> steps;
  for (int i = 0; i < 500; ++i) steps.push_back(g.delayed([&done] { ++done; }));
  g.after(sink, std::vector<dagflow::Delayed<void>>(steps.begin(), steps.begin() + 100));
  for (std::size_t i = 100; i < steps.size(); ++i) g.after(sink, steps[i]);
  dagflow::Executor ex(threads(2));
  CHECK(ex.compute(sink) == 500);
  CHECK(g.dependencies(sink.id()).size() == 500);
}

TEST_CASE("Ordering: long chains built against creation order run in order", "[engine][ordering]") {
  // Each link is ordered after the next-created one, in reverse, so every rank is reassigned:
  // the ranking must stay linear, and the run must follow the edges, not the ids.
  constexpr int kLinks = 20000;
  dagflow::Graph g;
  std::vector<int> seen;
  std::vector<dagflow::Delayed<void>> links;
  for (int i = 0; i < kLinks; ++i) links.push_back(g.delayed([&seen, i] { seen.push_back(i); }));
  for (int i = kLinks - 2; i >= 0; --i) g.after(links[i], links[i + 1]);
  dagflow::Executor ex(threads(2));
  ex.compute(links[0]);
  REQUIRE(seen.size() == kLinks);
  for (int i = 0; i < kLinks; ++i) REQUIRE(seen[i] == kLinks - 1 - i);
}

TEST_CASE("Ordering: an edge that would close a cycle is a GraphError, graph unchanged",
          "[engine][ordering][errors]") {
  dagflow::Graph g;
  auto a = g.delayed([] { return 1; });
  auto b = g.delayed(twice, a);
  auto c = g.delayed([] {});
  g.after(c, b);
  CHECK_THROWS_AS(g.after(a, c), dagflow::GraphError);  // c -> b -> a already
  CHECK_THROWS_AS(g.after(a, b), dagflow::GraphError);  // b reads a
  CHECK_THROWS_AS(g.after(c, c), dagflow::GraphError);  // itself
  CHECK_THROWS_WITH(g.after(a, c), Catch::Contains("cycle"));
  auto d = g.delayed([] {});
  CHECK_THROWS_AS(g.after(a, d, c), dagflow::GraphError);  // all or nothing
  CHECK(g.dependencies(a.id()).empty());
  dagflow::Graph other;
  auto foreign = other.delayed([] {});
  CHECK_THROWS_AS(g.after(a, foreign), std::invalid_argument);
  CHECK_THROWS_AS(g.after(a, dagflow::Delayed<int>{}), std::invalid_argument);
  dagflow::Executor ex(threads(2));
  CHECK(ex.compute(b) == 2);
}

TEST_CASE("Ordering: a pure dep leaves keys alone, an impure one makes its dependants impure",
          "[engine][ordering][cache]") {
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("one", [] { return 1; }));
  auto b = g.delayed(dagflow::op("twice", twice), a);
  const auto before = dagflow::task_keys(g)[b.id()];
  auto pure = g.delayed(dagflow::op("seven", [] { return 7; }));
  g.after(b, pure);
  CHECK(dagflow::task_keys(g)[b.id()] == before);
  REQUIRE(before.has_value());

  std::atomic<int> runs{0};
  auto step = g.delayed([&runs] { ++runs; });
  auto after_step = g.delayed(dagflow::op("twice", twice), a);
  g.after(after_step, step);
  CHECK_FALSE(dagflow::task_keys(g)[after_step.id()].has_value());
  dagflow::Executor ex(threads(2));
  CHECK(ex.compute(after_step) == 2);
  CHECK(ex.compute(after_step) == 2);
  CHECK(runs == 2);  // not taken from the memory cache: it ran after a side effect
  CHECK(ex.compute(b) == 2);
  CHECK(ex.compute(b) == 2);
  CHECK(ex.last_run_stats().executed == 0);  // pure: a memory-cache hit the second time
}

TEST_CASE("Ordering: disk-cached tasks with ordering edges hit on a second process",
          "[engine][ordering][cache]") {
  dagflow::test::TempDir dir;
  const auto run = [&] {
    dagflow::Graph g;
    auto late = g.delayed(dagflow::op("late", [] { return 5; }));
    auto early = g.delayed(dagflow::op("twice", twice), late);
    auto first = g.delayed(dagflow::op("first", [] { return 3; }));  // younger, runs first
    g.after(early, first);
    dagflow::ExecutorOptions options = threads(2);
    options.cache_dir = dir.path();
    dagflow::Executor ex(options);
    const int value = ex.compute(early);
    return std::pair{value, ex.last_run_stats()};
  };
  const auto [v1, s1] = run();
  const auto [v2, s2] = run();
  CHECK(v1 == 10);
  CHECK(v2 == 10);
  CHECK(s1.executed == 3);
  CHECK(s2.executed == 0);
  CHECK(s2.disk_hits >= 1);
}

TEST_CASE("Ordering: DOT output draws ordering edges dashed", "[engine][ordering]") {
  dagflow::Graph g;
  auto a = g.delayed([] { return 1; });
  auto b = g.delayed(twice, a);
  auto c = g.delayed([] {});
  g.after(b, c);
  const std::string dot = dagflow::to_dot(g);
  CHECK_THAT(dot, Catch::Contains("n0 -> n1;"));
  CHECK_THAT(dot, Catch::Contains("n2 -> n1 [style=dashed];"));
}

TEST_CASE("Ordering: random edges in random order: cycles refused exactly, order kept",
          "[engine][ordering]") {
  // Every after() between random tasks is checked against a brute-force reachability test: it
  // must throw exactly when the edge would close a cycle. The run must then follow every edge.
  constexpr int kTasks = 300;
  std::mt19937 random(12345);
  dagflow::Graph g;
  std::vector<int> position(kTasks, -1);
  std::atomic<int> clock{0};
  std::vector<dagflow::Delayed<void>> tasks;
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(g.delayed([&position, &clock, i] { position[i] = clock++; }));
  }
  std::vector<std::vector<int>> deps(kTasks);   // deps[t]: tasks t runs after
  const auto reaches = [&](int from, int to) {  // does `from` (transitively) depend on `to`?
    std::vector<int> stack{from};
    std::vector<char> seen(kTasks, 0);
    while (!stack.empty()) {
      const int t = stack.back();
      stack.pop_back();
      if (t == to) return true;
      for (int d : deps[t]) {
        if (seen[d] == 0) {
          seen[d] = 1;
          stack.push_back(d);
        }
      }
    }
    return false;
  };
  std::uniform_int_distribution<int> pick(0, kTasks - 1);
  int refused = 0;
  for (int k = 0; k < 1500; ++k) {
    const int task = pick(random);
    const int dep = pick(random);
    const bool cycle = reaches(dep, task);
    if (cycle) {
      CHECK_THROWS_AS(g.after(tasks[task], tasks[dep]), dagflow::GraphError);
      ++refused;
    } else {
      g.after(tasks[task], tasks[dep]);
      deps[task].push_back(dep);
    }
  }
  CHECK(refused > 0);
  auto all = g.delayed([] { return 0; });
  g.after(all, tasks);
  dagflow::Executor ex(threads(2));
  CHECK(ex.compute(all) == 0);
  for (int t = 0; t < kTasks; ++t) {
    for (int d : deps[t]) REQUIRE(position[d] < position[t]);
  }
}
