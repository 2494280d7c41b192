#include <dagflow/engine/executor.hpp>

// Tests of the Executor's memory cache: repeated and overlapping targets reuse kept results,
// impure and unsizeable results are not kept, the budget holds, and graphs that are gone are
// forgotten.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>

namespace {
// Busy for `us` microseconds: the memory cache keeps only results of tasks that ran for 2 us
// or more (and targets), so tests of kept intermediates make their tasks that slow.
void busy_for(int us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

// A chain of `length` increments after `start` (each busy for `us`), counting the bodies that run.
dagflow::Delayed<long> chain(dagflow::Graph& g, dagflow::Delayed<long> start, int length,
                             std::atomic<int>& runs, int us = 20) {
  for (int i = 0; i < length; ++i) {
    start = g.delayed(
        [&runs, us](long x) {
          ++runs;
          busy_for(us);
          return x + 1;
        },
        start);
  }
  return start;
}
}  // namespace

// Computing the same target twice runs nothing the second time.
TEST_CASE("MemoryCache: a repeated target runs 0 tasks", "[engine][cache]") {
  const std::size_t threads = GENERATE(1, 2);
  dagflow::Graph g;
  std::atomic<int> runs{0};
  auto root = g.delayed([&runs] { return ++runs, 0L; });
  auto end = chain(g, root, 50, runs);
  dagflow::Executor ex({.threads = threads});
  CHECK(ex.compute(end) == 50);
  CHECK(runs == 51);
  CHECK(ex.compute(end) == 50);
  CHECK(runs == 51);
  const dagflow::RunStats st = ex.last_run_stats();
  CHECK(st.executed == 0);
  CHECK(st.memory_hits == 1);
  CHECK(st.tasks == 1);  // the hit pruned its whole upstream
  CHECK(ex.memory_cache_stats().entries >= 1);
}

// A target sharing half its graph with an earlier one runs only the new half.
TEST_CASE("MemoryCache: a target sharing half its graph runs only the new half",
          "[engine][cache]") {
  dagflow::Graph g;
  std::atomic<int> runs{0};
  auto root = g.delayed([&runs] { return ++runs, 0L; });
  auto middle = chain(g, root, 49, runs);
  auto first = chain(g, middle, 50, runs);
  auto second = chain(g, middle, 30, runs);
  dagflow::Executor ex;
  CHECK(ex.compute(first) == 99);
  CHECK(runs == 100);
  CHECK(ex.compute(second) == 79);
  CHECK(runs == 130);
  CHECK(ex.last_run_stats().executed == 30);
  CHECK(ex.last_run_stats().memory_hits == 1);
}

// Tasks cheaper than keeping their result are recomputed, not kept; targets always are.
TEST_CASE("MemoryCache: keeps targets and slow tasks, not cheap intermediates", "[engine][cache]") {
  dagflow::Graph g;
  std::atomic<int> runs{0};
  auto root = g.delayed([&runs] { return ++runs, 0L; });
  auto cheap = chain(g, root, 20, runs, 0);
  auto slow = chain(g, cheap, 1, runs, 50);
  auto end = chain(g, slow, 20, runs, 0);
  dagflow::Executor ex({.threads = 2});
  CHECK(ex.compute(end) == 41);
  // `slow` and the target at least; whether a cheap task is kept depends on how long it took
  // (a sanitizer or a preempted worker makes it 2 us), so that is not asserted.
  CHECK(ex.memory_cache_stats().entries >= 2);
  CHECK(ex.compute(cheap) == 20);  // now a target: kept
  CHECK(ex.compute(cheap) == 20);
  CHECK(ex.last_run_stats().executed == 0);
  runs = 0;
  auto after_slow = chain(g, slow, 5, runs, 0);
  CHECK(ex.compute(after_slow) == 26);
  CHECK(runs == 5);  // `slow` and everything above it came from the cache
  CHECK(ex.last_run_stats().memory_hits == 1);
}

// Impure tasks run every time, and so does everything downstream of them.
TEST_CASE("MemoryCache: impure tasks and their downstream always run", "[engine][cache]") {
  dagflow::Graph g;
  std::atomic<int> reads{0};
  std::atomic<int> pure_runs{0};
  auto source = g.delayed([&reads] { return static_cast<long>(++reads); });
  auto pure_side = g.delayed([&pure_runs] {  // slow enough to be kept
    busy_for(20);
    return ++pure_runs, 10L;
  });
  auto doubled = g.delayed([](long x) { return 2 * x; }, source);
  auto total = g.delayed([](long a, long b) { return a + b; }, doubled, pure_side);
  g.set_impure(source);
  dagflow::Executor ex;
  CHECK(ex.compute(total) == 12);
  CHECK(ex.compute(total) == 14);  // the outside world changed: so does the result
  CHECK(ex.compute(total) == 16);
  CHECK(reads == 3);
  CHECK(pure_runs == 1);  // the pure branch is still served from the cache
  CHECK_THROWS_AS(g.set_impure(dagflow::Delayed<long>{}), std::invalid_argument);
}

// Move-only results are handed over, never kept; unsizeable types are never kept either.
TEST_CASE("MemoryCache: move-only and unsizeable results are not kept", "[engine][cache]") {
  struct Opaque {
    int value;
  };
  dagflow::Graph g;
  std::atomic<int> runs{0};
  auto boxed = g.delayed([&runs] { return ++runs, std::make_unique<int>(4); });
  auto opaque = g.delayed([&runs] { return ++runs, Opaque{5}; });
  dagflow::Executor ex;
  CHECK(*ex.compute(boxed) == 4);
  CHECK(*ex.compute(boxed) == 4);
  CHECK(ex.compute(opaque).value == 5);
  CHECK(ex.compute(opaque).value == 5);
  CHECK(runs == 4);
  CHECK(ex.memory_cache_stats().entries == 0);
}

// A kept target is copied out: changing the caller's copy does not change the cache.
TEST_CASE("MemoryCache: kept targets are copied out", "[engine][cache]") {
  dagflow::Graph g;
  auto words = g.delayed([] { return std::vector<std::string>{"a", "b"}; });
  dagflow::Executor ex;
  auto first = ex.compute(words);
  first.push_back("changed");
  CHECK(ex.compute(words) == std::vector<std::string>{"a", "b"});
  CHECK(ex.last_run_stats().memory_hits == 1);
}

// Budget 0 turns the cache off; clear() empties it; the budget is never exceeded.
TEST_CASE("MemoryCache: stays within its budget, evicts and clears", "[engine][cache]") {
  std::atomic<int> runs{0};
  dagflow::Graph g;
  std::vector<dagflow::Delayed<std::vector<double>>> blocks;
  for (int i = 0; i < 40; ++i) {
    blocks.push_back(g.delayed(
        [&runs](int k) {
          ++runs;
          return std::vector<double>(100'000, k);  // ~800 KB each
        },
        i));
  }
  SECTION("off") {
    dagflow::Executor ex({.memory_cache_bytes = 0});
    (void)ex.compute(blocks[0]);
    (void)ex.compute(blocks[0]);
    CHECK(runs == 2);
    CHECK(ex.memory_cache_stats().entries == 0);
  }
  SECTION("clear") {
    dagflow::Executor ex;
    (void)ex.compute(blocks[0]);
    ex.clear_memory_cache();
    CHECK(ex.memory_cache_stats().bytes == 0);
    (void)ex.compute(blocks[0]);
    CHECK(runs == 2);
  }
  SECTION("a kept result counts what it really costs") {
    dagflow::Graph small;
    auto one = small.delayed([] { return std::size_t{7}; });
    dagflow::Executor ex;
    (void)ex.compute(one);
    CHECK(ex.memory_cache_stats().entries == 1);
    CHECK(ex.memory_cache_stats().bytes >= 64);  // not the 8 bytes of a size_t
  }
  SECTION("a small budget is respected and recent results survive") {
    const std::size_t budget = 4 << 20;  // room for about five blocks
    dagflow::Executor ex({.memory_cache_bytes = budget});
    for (const auto& b : blocks) {
      (void)ex.compute(b);
      CHECK(ex.memory_cache_stats().bytes <= budget);
    }
    const int before = runs;
    (void)ex.compute(blocks.back());  // the most recent one is still kept
    CHECK(runs == before);
    (void)ex.compute(blocks.front());  // the oldest was evicted
    CHECK(runs == before + 1);
  }
}

// Entries of a destroyed graph are dropped as it goes, by every Executor that kept some; an
// Executor destroyed first is not called.
TEST_CASE("MemoryCache: forgets graphs that are gone", "[engine][cache]") {
  dagflow::Executor ex;
  {
    dagflow::Graph g;
    auto big = g.delayed([] { return std::string(1000, 'x'); });
    (void)ex.compute(big);
    CHECK(ex.memory_cache_stats().entries == 1);
    {
      dagflow::Executor short_lived;
      (void)short_lived.compute(big);
    }
  }
  CHECK(ex.memory_cache_stats().entries == 0);
  CHECK(ex.memory_cache_stats().bytes == 0);
  dagflow::Graph other;
  (void)ex.compute(other.delayed([] { return 1; }));
  CHECK(ex.memory_cache_stats().entries == 1);  // only `other`'s result
}

// map and reduce results are kept too: a re-run of the same reduction runs nothing.
TEST_CASE("MemoryCache: map and reduce results are kept", "[engine][cache]") {
  dagflow::Graph g;
  std::vector<double> xs(100'000, 0.5);
  auto ys = dagflow::map(
      g, [](double x) { return x * x; }, xs);
  auto total = dagflow::reduce(g, std::plus<>{}, 0.0, ys);
  dagflow::Executor ex;
  CHECK(ex.compute(total) == 25'000.0);
  CHECK(ex.compute(total) == 25'000.0);
  CHECK(ex.last_run_stats().executed == 0);
}

// Concurrent computes share the cache safely (and TSan checks the hand-offs).
TEST_CASE("MemoryCache: concurrent computes on one graph share it safely",
          "[engine][cache][concurrency]") {
  dagflow::Graph g;
  std::atomic<int> runs{0};
  auto root = g.delayed([&runs] { return ++runs, 0L; });
  std::vector<dagflow::Delayed<long>> ends;
  for (int t = 0; t < 4; ++t) ends.push_back(chain(g, root, 100 + t, runs));
  dagflow::Executor ex({.threads = 2});
  std::atomic<int> correct{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        if (ex.compute(ends[static_cast<std::size_t>(t)]) == 100 + t) ++correct;
      }
    });
  }
  for (auto& c : callers) c.join();
  CHECK(correct == 80);
  CHECK(runs <= 1 + 4 * (100 + 3) + 4 * 4);  // each task ran about once (a few racing runs)
}
