// Monte Carlo estimate of pi: points thrown at the unit square, counted inside the quarter
// circle. Each task draws its own seeded random stream, so the count depends only on the seed,
// never on the thread count or on which thread ran which stream.
//
//   streams 0..S-1 --map(pi_hits(seed, stream, samples))--> hits per stream --reduce(+)--> hits
//                                                              pi ~ 4 * hits / (S * samples)
//
// YAML twin: examples/pipelines/monte_carlo_pi.yaml (range -> map pi_hits -> sum), which draws
// with the same generator (<dagflow/nodes/random.hpp>); both print `hits: 6283...`.
// Scale up: monte_carlo_pi --streams 64 --samples 10000000, the same as
//   dagflow run examples/pipelines/monte_carlo_pi.yaml --set streams=64 --set samples=10000000
//
// Usage: monte_carlo_pi [--streams S] [--samples N] [--seed X] [--threads T]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <numbers>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

namespace {

const char* const kUsage =
    "usage: monte_carlo_pi [--streams S] [--samples N] [--seed X] [--threads T]\n"
    "  --streams S   independent random streams, one task each (default 8)\n"
    "  --samples N   points drawn per stream (default 1000000)\n"
    "  --seed X      the seed of every stream (default 0)\n"
    "  --threads T   worker threads (default 0: all cores)\n";

}  // namespace

// The program on every rank; main() joins the MPI job first (outside the try: a failure that
// ends the program is printed, then every rank exits non-zero).
int run(int argc, char** argv, const example::Ranks& ranks) try {
  std::int64_t streams = 8;
  std::int64_t samples = 1'000'000;
  std::int64_t seed = 0;
  std::int64_t threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--streams") {
      streams = example::int_option(argc, argv, i, 1, 1'000'000, kUsage);
    } else if (a == "--samples") {
      samples = example::int_option(argc, argv, i, 1, dagflow::kMaxPiSamples, kUsage);
    } else if (a == "--seed") {
      seed = example::int_option(argc, argv, i, 0, INT64_MAX, kUsage);
    } else if (a == "--threads") {
      threads = example::int_option(argc, argv, i, 0, 1024, kUsage);
    } else {
      example::usage_error(kUsage, "unknown argument '" + std::string(a) + "'");
    }
  }

  std::vector<std::int64_t> stream_ids(static_cast<std::size_t>(streams));
  std::iota(stream_ids.begin(), stream_ids.end(), std::int64_t{0});

  dagflow::Graph g;
  // A plain lambda, not a named dagflow::op: what it captures is no part of an op's identity.
  auto hits_per_stream = dagflow::map(
      g,
      [seed, samples](std::int64_t stream) {
        return dagflow::pi_hits(static_cast<std::uint64_t>(seed),
                                static_cast<std::uint64_t>(stream), samples);
      },
      std::move(stream_ids));
  auto hits = dagflow::reduce(g, std::plus<>{}, std::int64_t{0}, hits_per_stream);

  dagflow::Executor ex({.threads = static_cast<std::size_t>(threads), .cluster = ranks.cluster()});
  const std::int64_t inside = ex.compute(hits);

  const double total = static_cast<double>(streams) * static_cast<double>(samples);
  const double pi = 4.0 * static_cast<double>(inside) / total;
  // The estimate's standard deviation is 4 * sqrt(p (1 - p) / total), p = pi / 4: allow 6 of them.
  const double tolerance =
      6 * 4 * std::sqrt(std::numbers::pi / 4 * (1 - std::numbers::pi / 4) / total);
  const bool plausible = std::fabs(pi - std::numbers::pi) <= tolerance;
  std::printf("%lld streams x %lld samples, seed %lld\n", static_cast<long long>(streams),
              static_cast<long long>(samples), static_cast<long long>(seed));
  std::printf("hits: %lld\n", static_cast<long long>(inside));
  std::printf("pi ~ 4 * hits / %.0f = %.9f (off by %.1e%s)\n", total, pi, pi - std::numbers::pi,
              plausible ? "" : ", IMPLAUSIBLE");
  return plausible ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "monte_carlo_pi: %s\n", e.what());
  return 1;
}

int main(int argc, char** argv) {
  const example::Ranks ranks(argc, argv);
  return run(argc, argv, ranks);
}
