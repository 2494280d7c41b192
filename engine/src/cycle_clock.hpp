// CycleClock: the cheapest clock there is, for deciding per task whether its result is worth
// keeping (a steady_clock read costs ~27 ns on a KVM guest, the time-stamp counter ~11 ns).
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define DAGFLOW_HAVE_TSC 1
#endif

namespace dagflow::detail {

class CycleClock {
 public:
  /// Ticks of an unspecified, monotonic-enough clock (the TSC where there is one).
  [[nodiscard]] static std::uint64_t now() noexcept {
#ifdef DAGFLOW_HAVE_TSC
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
#endif
  }

  /// Ticks in one microsecond, measured once per process (about 0.2 ms, on first use).
  [[nodiscard]] static std::uint64_t ticks_per_us() noexcept;
};

}  // namespace dagflow::detail
