#include <dagflow/engine/executor.hpp>

// Tests of Executor under concurrency: compute() from several threads and from inside tasks,
// tasks that block or run their own parallel_for, and process-wide thread limits, none of
// which may deadlock.
#include <atomic>
#include <latch>
#include <numeric>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>

namespace {
long sum(const std::vector<long>& v) { return std::accumulate(v.begin(), v.end(), 0L); }

// A graph of n leaves and a sum; its value is n(n-1)/2.
dagflow::Delayed<long> sum_of_range(dagflow::Graph& g, long n) {
  std::vector<dagflow::Delayed<long>> parts;
  for (long i = 0; i < n; ++i) parts.push_back(g.delayed([](long x) { return x; }, i));
  return g.delayed(sum, parts);
}
}  // namespace

// compute() from several threads at once on one Executor: independent, correct runs.
TEST_CASE("Executor: concurrent compute() calls on one Executor all get their results",
          "[engine][concurrency]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  dagflow::Executor ex({.threads = threads});
  dagflow::Graph shared;
  auto shared_target = sum_of_range(shared, 3000);  // big enough to be fused into layers
  std::atomic<int> correct{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      dagflow::Graph own;
      auto own_target = sum_of_range(own, 100 + t);
      for (int r = 0; r < 10; ++r) {
        const long n = 100 + t;
        if (ex.compute(own_target) == n * (n - 1) / 2) ++correct;
        if (ex.compute(shared_target) == 3000L * 2999 / 2) ++correct;
      }
    });
  }
  for (auto& c : callers) c.join();
  CHECK(correct == 4 * 10 * 2);
}

// compute() from inside a running task works at every thread count (the wait is isolated).
TEST_CASE("Executor: compute() may be called from inside a task", "[engine][concurrency]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  dagflow::Executor ex({.threads = threads});
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> outer;
  for (int i = 0; i < 8; ++i) {
    outer.push_back(g.delayed(
        [&ex](long k) {
          dagflow::Graph inner;
          return ex.compute(sum_of_range(inner, 50)) + k;
        },
        long{i}));
  }
  auto total = g.delayed(sum, outer);
  CHECK(ex.compute(total) == 8 * 1225 + 28);
}

// Tasks that block on an outside event, or run their own tbb::parallel_for, do not deadlock.
TEST_CASE("Executor: blocking tasks and nested parallel_for do not deadlock",
          "[engine][concurrency]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  dagflow::Executor ex({.threads = threads});
  dagflow::Graph g;

  SECTION("a task waits for an event that another thread sets") {
    std::latch task_started(1);
    std::latch release(1);
    auto blocked = g.delayed([&] {
      task_started.count_down();
      release.wait();
      return 1L;
    });
    auto others = sum_of_range(g, 100);
    auto both = g.delayed([](long a, long b) { return a + b; }, blocked, others);
    std::thread releaser([&] {
      task_started.wait();
      release.count_down();
    });
    CHECK(ex.compute(both) == 1 + 4950);
    releaser.join();
  }
  SECTION("tasks run their own tbb::parallel_for") {
    std::vector<dagflow::Delayed<long>> parts;
    for (int i = 0; i < 16; ++i) {
      parts.push_back(g.delayed([] {
        std::vector<long> v(10000);
        tbb::parallel_for(std::size_t{0}, v.size(), [&](std::size_t k) { v[k] = long(k); });
        return std::accumulate(v.begin(), v.end(), 0L);
      }));
    }
    CHECK(ex.compute(g.delayed(sum, parts)) == 16L * 49995000L);
  }
}

// Under a process-wide thread limit of 1, 2 or 4 (tbb::global_control), tasks
// that block on an outside event, run their own parallel_for, or call compute() all finish.
TEST_CASE("Executor: no deadlock under a global thread limit", "[engine][concurrency]") {
  const int limit = GENERATE(1, 2, 4);
  const tbb::global_control cap(tbb::global_control::max_allowed_parallelism,
                                static_cast<std::size_t>(limit));
  dagflow::Executor ex({.threads = 2});
  dagflow::Graph g;
  std::latch started(1);
  std::latch release(1);
  auto blocked = g.delayed([&] {
    started.count_down();
    release.wait();
    return 1L;
  });
  auto nested_for = g.delayed([] {
    std::vector<long> v(1000);
    tbb::parallel_for(std::size_t{0}, v.size(), [&](std::size_t k) { v[k] = 1; });
    return std::accumulate(v.begin(), v.end(), 0L);
  });
  auto nested_compute = g.delayed([&ex] {
    dagflow::Graph inner;
    return ex.compute(sum_of_range(inner, 100));
  });
  auto all = g.delayed([](long a, long b, long c) { return a + b + c; }, blocked, nested_for,
                       nested_compute);
  std::thread releaser([&] {
    started.wait();
    release.count_down();
  });
  CHECK(ex.compute(all) == 1 + 1000 + 4950);
  releaser.join();
}
