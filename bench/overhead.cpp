// bench/overhead: per-task overhead of dagflow against the same DAG written by hand with
// tbb::flow::graph + continue_node, for four shapes with near-empty task bodies.
//
// Both sides are timed end to end: building the graph, running it, and tearing it down
// (dagflow builds and destroys its flow graph inside compute(), so the baseline's teardown
// counts too). Each case runs kReps times, interleaved; the median is reported.
//
//   ./build/release/bench/overhead            (about 30 s on 2 cores)
#include <cstdio>
#include <functional>
#include <vector>

#include <oneapi/tbb/info.h>

#include <dagflow/dagflow.hpp>

#include "shapes.hpp"
#include "timing.hpp"

namespace {

constexpr int kReps = 5;
constexpr long kIndependent = 1'000'000;
constexpr long kChain = 100'000;
constexpr int kTreeLevels = 17;  // 2^17 leaves
constexpr int kSide = 300;       // 300 x 300 wavefront

// Keeps results observable so the compiler cannot drop the work.
volatile long g_sink = 0;

double seconds_of(const std::function<long()>& run) {
  const auto start = bench::Clock::now();
  g_sink = run();
  return bench::seconds_since(start);
}

struct Shape {
  const char* name;
  long tasks;
  std::function<long()> baseline;
  std::function<long(dagflow::Executor&)> dagflow;
};

}  // namespace

int main() {
  dagflow::Executor fused;
  dagflow::Executor unfused({.fuse_tasks = false});
  const Shape shapes[] = {
      {"independent 1M + sum", kIndependent + 1,
       [] { return bench::tbb_independent(kIndependent); },
       [](dagflow::Executor& ex) { return bench::df_independent(ex, kIndependent); }},
      {"linear chain 100k", kChain, [] { return bench::tbb_chain(kChain); },
       [](dagflow::Executor& ex) { return bench::df_chain(ex, kChain); }},
      {"binary tree 2^17 leaves", (2L << kTreeLevels) - 1,
       [] { return bench::tbb_tree(kTreeLevels); },
       [](dagflow::Executor& ex) { return bench::df_tree(ex, kTreeLevels); }},
      {"wavefront 300x300", long{kSide} * kSide, [] { return bench::tbb_wavefront(kSide); },
       [](dagflow::Executor& ex) { return bench::df_wavefront(ex, kSide); }},
  };
  std::printf(
      "dagflow bench/overhead: %d threads, median of %d runs, ns per task "
      "(build + run + teardown)\n\n",
      tbb::info::default_concurrency(), kReps);
  std::printf(
      "| shape | tasks | tbb::flow by hand | dagflow | ratio | dagflow, fusion off | ratio |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  bool agree = true;
  for (const Shape& s : shapes) {
    std::vector<double> base, fast, plain;
    for (int r = 0; r < kReps; ++r) {
      base.push_back(seconds_of(s.baseline));
      const long expected = g_sink;
      fast.push_back(seconds_of([&] { return s.dagflow(fused); }));
      agree = agree && g_sink == expected;
      plain.push_back(seconds_of([&] { return s.dagflow(unfused); }));
      agree = agree && g_sink == expected;
    }
    const double per = 1e9 / static_cast<double>(s.tasks);
    const double b = bench::median(base) * per, f = bench::median(fast) * per,
                 p = bench::median(plain) * per;
    std::printf("| %s | %ld | %.0f | %.0f | %.2fx | %.0f | %.2fx |\n", s.name, s.tasks, b, f, f / b,
                p, p / b);
    std::fflush(stdout);
  }
  std::printf("\nratio = dagflow / hand-written (lower is better; target <= 1.25x)\n");
  if (!agree) {
    std::printf("ERROR: dagflow and the baseline computed different results\n");
    return 1;
  }
  return 0;
}
