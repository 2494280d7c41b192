// The program that first specified the delayed API, plus checks of its commented values. Kept
// character for character as it was specified, so the installed headers still accept it:
// clang-format off
#include <dagflow/dagflow.hpp>
#include <numeric>
#include <cstdio>
int square(int x) { return x * x; }
int add(int a, int b) { return a + b; }
int sum(std::vector<int> v) { return std::accumulate(v.begin(), v.end(), 0); }
int main() {
  dagflow::Graph g;
  dagflow::Delayed<int> a = g.delayed(square, 3);         // literal arguments are captured by value
  auto b = g.delayed(add, a, 4);                           // Delayed arguments become dependencies
  std::vector<dagflow::Delayed<int>> parts;
  for (int i = 0; i < 100; ++i) parts.push_back(g.delayed(square, i));
  auto s = g.delayed(sum, parts);                          // vector<Delayed<T>> arrives as std::vector<T>
  auto n = g.delayed(dagflow::op("square", square), 5);   // a named op: a stable identity (used by the disk cache)
  dagflow::ExecutorOptions opts;                           // opts.threads: 0 = all cores
  dagflow::Executor ex(opts);
  int r = ex.compute(b);                                   // 13
  auto [x, y] = ex.compute(a, s);                          // 9, 328350 — several targets, shared work done once
  dagflow::RunStats st = ex.last_run_stats();              // st.executed: task bodies run by that compute()
  const int m = ex.compute(n);
  std::printf("r=%d x=%d y=%d executed=%zu n=%d (dagflow %s)\n", r, x, y, st.executed, m,
              DAGFLOW_VERSION_STRING);
  // 102 bodies: the 100 squares, the sum and `a`. `a` was computed for `b` but not kept: the
  // memory cache keeps targets, and results of tasks that ran for 2 us or more (101 when a
  // preempted `a` took that long).
  const bool ok = r == 13 && x == 9 && y == 328350 && st.executed >= 101 && m == 25;
  return ok ? 0 : 1;
}
