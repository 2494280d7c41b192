// Timing helpers shared by the benchmarks: the clock and the statistics they report.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

/// Seconds since `start`.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The median of `v` (the upper one for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The smallest of `v`.
inline double best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace bench
