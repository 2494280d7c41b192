// Busy work of a calibrated length for the benchmarks: a dependent chain of multiply-adds that
// the compiler cannot drop and that touches no memory, so it costs the same on every thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace bench {

/// Runs `spins` steps and folds the result into `x` (so callers' results depend on it). Never
/// inlined: every system a benchmark compares then runs the very same loop, where copies inlined
/// into each caller differ in alignment and registers and, in a 50 us task, in time by up to ~2%.
[[gnu::noinline]] inline double burn(std::uint64_t spins, double x) {
  std::uint64_t s = static_cast<std::uint64_t>(x) | 1;
  for (std::uint64_t i = 0; i < spins; ++i) s = s * 6364136223846793005ULL + 1442695040888963407ULL;
  return x + static_cast<double>(s >> 60);
}

/// What burn(spins, x) returns, in O(log spins): the generator jumped ahead by composing its step
/// with itself, so a benchmark can check every burned result without burning it again.
inline double burned(std::uint64_t spins, double x) {
  std::uint64_t mul = 6364136223846793005ULL, add = 1442695040888963407ULL;
  std::uint64_t acc_mul = 1, acc_add = 0;
  for (std::uint64_t n = spins; n > 0; n >>= 1) {
    if ((n & 1) != 0) {
      acc_mul *= mul;
      acc_add = acc_add * mul + add;
    }
    add *= mul + 1;
    mul *= mul;
  }
  const std::uint64_t s = acc_mul * (static_cast<std::uint64_t>(x) | 1) + acc_add;
  return x + static_cast<double>(s >> 60);
}

/// Steps per microsecond on this machine, measured once.
inline std::uint64_t spins_per_us() {
  static const std::uint64_t measured = [] {
    const std::uint64_t probe = 50'000'000;
    const auto start = std::chrono::steady_clock::now();
    volatile double sink = burn(probe, 1.0);
    (void)sink;
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(probe) / us));
  }();
  return measured;
}

/// About `us` microseconds of work.
inline double work_for_us(double us, double x) {
  return burn(static_cast<std::uint64_t>(us * static_cast<double>(spins_per_us())), x);
}

}  // namespace bench
