#include "cycle_clock.hpp"

#include <algorithm>

namespace dagflow::detail {

namespace {
std::uint64_t measure_ticks_per_us() noexcept {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const std::uint64_t first = CycleClock::now();
  auto elapsed = Clock::duration::zero();
  while (elapsed < std::chrono::microseconds(200)) elapsed = Clock::now() - start;
  const std::uint64_t ticks = CycleClock::now() - first;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  return std::max<std::uint64_t>(1, ticks / static_cast<std::uint64_t>(std::max<long long>(1, us)));
}
}  // namespace

std::uint64_t CycleClock::ticks_per_us() noexcept {
  static const std::uint64_t ticks = measure_ticks_per_us();
  return ticks;
}

}  // namespace dagflow::detail
