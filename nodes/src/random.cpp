// RandomStream (xoshiro256** seeded through splitmix64) and what is drawn from it.
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/random.hpp>

namespace dagflow {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

}  // namespace

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t stream) noexcept {
  // Two splitmix64 outputs: every (seed, stream) pair gets an unrelated starting point.
  std::uint64_t a = seed;
  std::uint64_t b = stream ^ 0x6a09e667f3bcc909ULL;
  std::uint64_t state = splitmix64(a) ^ rotl(splitmix64(b), 32);
  for (std::uint64_t& word : s_) word = splitmix64(state);
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // the one state xoshiro cannot leave
}

std::uint64_t RandomStream::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double RandomStream::next_double() noexcept {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::uint64_t RandomStream::next_below(std::uint64_t bound) noexcept {
  // Rejecting the lowest (2^64 mod bound) values leaves a range that bound divides evenly.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % bound;
  }
}

std::int64_t pi_hits(std::uint64_t seed, std::uint64_t stream, std::int64_t samples) {
  if (samples < 0 || samples > kMaxPiSamples) {
    throw Error(fmt::format("samples must be between 0 and {}, got {}", kMaxPiSamples, samples));
  }
  RandomStream rng(seed, stream);
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < samples; ++i) {
    const double x = rng.next_double();
    const double y = rng.next_double();
    if (x * x + y * y < 1.0) ++hits;
  }
  return hits;
}

std::vector<double> random_uniform(std::uint64_t seed, std::uint64_t stream, std::int64_t count,
                                   double low, double high) {
  if (count < 0) throw Error(fmt::format("count must be at least 0, got {}", count));
  if (count > kMaxRandomCount) {
    throw Error(fmt::format("count {} is over the limit of {}", count, kMaxRandomCount));
  }
  if (!std::isfinite(low) || !std::isfinite(high) || !(low <= high)) {
    throw Error(
        fmt::format("low and high must be finite with low <= high, got {} and {}", low, high));
  }
  RandomStream rng(seed, stream);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(count));
  const double width = high - low;
  for (std::int64_t i = 0; i < count; ++i) {
    const double x = low + width * rng.next_double();
    // Rounding can reach `high` itself when the interval is wide; keep the interval half-open.
    values.push_back(x < high || low == high ? x : std::nextafter(high, low));
  }
  return values;
}

}  // namespace dagflow
