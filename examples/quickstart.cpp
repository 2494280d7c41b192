// dagflow in ten lines: wrap ordinary functions, get a DAG, run it on every core.
//
//   square(3) --> add(.., 4)            square(0) ... square(99)
//                                              \       /
//                                               sum(...)
#include <cstdio>
#include <numeric>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

constexpr const char* kUsage =
    "usage: quickstart [--threads T]\n"
    "Builds a small DAG of ordinary functions and computes two targets.\n"
    "  --threads T   worker threads (default 0: all cores)\n";

int square(int x) { return x * x; }
int add(int a, int b) { return a + b; }
int sum(const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); }

int main(int argc, char** argv) {
  const std::size_t threads = example::common_options(argc, argv, kUsage);
  dagflow::Graph g;
  auto a = g.delayed(square, 3);  // literal arguments are captured by value
  auto b = g.delayed(add, a, 4);  // a Delayed argument becomes a dependency
  std::vector<dagflow::Delayed<int>> parts;
  for (int i = 0; i < 100; ++i) parts.push_back(g.delayed(square, i));
  auto s = g.delayed(sum, parts);  // a vector<Delayed<int>> arrives as a vector<int>

  dagflow::Executor ex({.threads = threads});  // 0: all cores
  auto [r, total] = ex.compute(b, s);
  std::printf("add(square(3), 4) = %d, sum of squares 0..99 = %d (%zu tasks on %zu threads)\n", r,
              total, ex.last_run_stats().executed, ex.options().threads);
  return r == 13 && total == 328350 ? 0 : 1;
}
