// Reproducible random numbers: the generator behind the random_uniform and pi_hits ops, for C++
// code that must draw exactly what a YAML pipeline draws.
//
//   dagflow::RandomStream rng(/*seed=*/7, /*stream=*/3);
//   double x = rng.next_double();                  // the same on every machine, every run
//   std::int64_t hits = dagflow::pi_hits(7, 3, 1'000'000);
//
// A stream's output depends only on (seed, stream), never on the platform, the standard library
// or the thread that draws it: give each independent task its own stream and a parallel run
// draws the same numbers whatever the thread count. A RandomStream is a small value type, not
// thread-safe (one per task); the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace dagflow {

/// A small, fast generator: xoshiro256** seeded through splitmix64 from (seed, stream), so that
/// every pair starts at an unrelated point. Not for cryptography.
class RandomStream {
 public:
  /// The stream `stream` of the seed `seed`. Signed values convert as their two's complement
  /// bits (the ops pass their int64 arguments this way).
  RandomStream(std::uint64_t seed, std::uint64_t stream) noexcept;

  /// The next 64 random bits.
  std::uint64_t next() noexcept;
  /// A double uniform in [0, 1), with 53 random bits.
  double next_double() noexcept;
  /// An integer uniform in [0, bound), without modulo bias. `bound` must be > 0.
  std::uint64_t next_below(std::uint64_t bound) noexcept;

 private:
  std::uint64_t s_[4];
};

/// The largest `samples` pi_hits accepts (about a minute of work, not a hang).
inline constexpr std::int64_t kMaxPiSamples = 10'000'000'000;

/// Draws `samples` points (x, y) uniform in the unit square from RandomStream(seed, stream), x
/// then y, and returns how many fall inside the quarter circle x*x + y*y < 1: pi is about
/// 4 * hits / samples. Throws dagflow::Error when samples is outside 0..kMaxPiSamples.
/// O(samples).
[[nodiscard]] std::int64_t pi_hits(std::uint64_t seed, std::uint64_t stream, std::int64_t samples);

/// The largest `count` random_uniform accepts.
inline constexpr std::int64_t kMaxRandomCount = 100'000'000;

/// `count` doubles uniform in [low, high) from RandomStream(seed, stream): low + (high - low) *
/// next_double(), kept below `high` when rounding would reach it (low == high gives low). A
/// shorter count is a prefix of a longer one. Throws dagflow::Error when count is outside
/// 0..kMaxRandomCount or low and high are not finite with low <= high.
[[nodiscard]] std::vector<double> random_uniform(std::uint64_t seed, std::uint64_t stream,
                                                 std::int64_t count, double low = 0.0,
                                                 double high = 1.0);

}  // namespace dagflow
