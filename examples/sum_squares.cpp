// The classic first parallel program: x*x over a million numbers, summed. Chunk sizes are chosen
// at run time, and the sum is the same bit for bit whatever the thread count.
//
//   xs --map(x*x, auto-chunked)--> squares --reduce(+)--> total
//
// Usage: sum_squares [N]   (default 1000000)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <vector>

#include <dagflow/dagflow.hpp>

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  if (n <= 0 || n > 2'000'000'000L) {
    std::fprintf(stderr, "usage: sum_squares [N], 0 < N <= 2e9\n");
    return 2;
  }
  std::vector<long> xs(static_cast<std::size_t>(n));
  std::iota(xs.begin(), xs.end(), 1L);

  dagflow::Graph g;
  auto squares = dagflow::map(
      g, [](long x) { return static_cast<double>(x) * static_cast<double>(x); }, std::move(xs));
  auto total = dagflow::reduce(g, std::plus<>{}, 0.0, squares);

  dagflow::Executor ex;
  const double got = ex.compute(total);
  const long double exact = static_cast<long double>(n) * (n + 1) * (2 * n + 1) / 6;
  const bool ok = std::fabs(static_cast<long double>(got) - exact) <= 1e-12L * exact;
  std::printf("sum of squares 1..%ld = %.17g (%s, %zu threads, %.3f s)\n", n, got,
              ok ? "correct" : "WRONG", ex.options().threads, ex.last_run_stats().seconds);
  return ok ? 0 : 1;
}
