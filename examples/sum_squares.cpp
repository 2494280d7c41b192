// The classic first parallel program: x*x over a million numbers, summed. Chunk sizes are chosen
// at run time, and the sum is exact and the same whatever the thread count.
//
//   xs = 0..N-1 --map(square, auto-chunked)--> squares --reduce(+)--> total
//
// YAML twin: examples/pipelines/sum_squares.yaml (range -> map square -> sum). Both print
//   total: 333332833333500000
// and `dagflow run examples/pipelines/sum_squares.yaml --set n=N` matches `sum_squares -n N`.
// Scale up: sum_squares -n 100000000 (1.6 GB: the numbers and their squares are both vectors).
// The total is added up in 128 bits here; the twin's `sum` op adds ints in 64 bits and stops
// with an overflow error past n = 3024617, unless told `--set as=double` (then a double total,
// which bench/pipeline checks against this one to 1e-12).
//
// Usage: sum_squares [-n N] [--threads T]
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

namespace {

const char* const kUsage =
    "usage: sum_squares [-n N] [--threads T]\n"
    "  -n, --scale N   sum the squares of 0..N-1 (default 1000000, at most 2000000000)\n"
    "  --threads T     worker threads (default 0: all cores)\n";

__extension__ using Int128 = __int128;  // a GCC/Clang extension: 2e9 squares sum to ~2.7e27

std::string to_string(Int128 x) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(x % 10)));
    x /= 10;
  } while (x > 0);
  return digits;
}

// What the twin's `square` op computes for an int (which it also refuses to overflow).
std::int64_t square(std::int64_t x) { return x * x; }

}  // namespace

int main(int argc, char** argv) {
  const example::Ranks ranks(argc, argv);
  std::int64_t n = 1'000'000;
  std::int64_t threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "-n" || a == "--scale") {
      n = example::int_option(argc, argv, i, 1, 2'000'000'000, kUsage);
    } else if (a == "--threads") {
      threads = example::int_option(argc, argv, i, 0, 1024, kUsage);
    } else {
      example::usage_error(kUsage, "unknown argument '" + std::string(a) + "'");
    }
  }

  std::vector<std::int64_t> xs(static_cast<std::size_t>(n));
  std::iota(xs.begin(), xs.end(), std::int64_t{0});

  dagflow::Graph g;
  auto squares = dagflow::map(g, dagflow::op("square", square), std::move(xs));
  auto total = dagflow::reduce(
      g, [](Int128 a, Int128 b) { return a + b; }, Int128{0}, squares);

  dagflow::Executor ex({.threads = static_cast<std::size_t>(threads), .cluster = ranks.cluster()});
  const Int128 got = ex.compute(total);
  const Int128 exact = Int128{n - 1} * n * (2 * n - 1) / 6;  // the closed form, as a check

  std::printf("sum of the squares of 0..%lld (%s)\n", static_cast<long long>(n - 1),
              got == exact ? "checked against (n-1)n(2n-1)/6" : "WRONG");
  std::printf("total: %s\n", to_string(got).c_str());
  return got == exact ? 0 : 1;
}
