// Timing helpers shared by the benchmarks: the clock and the statistics they report.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <malloc.h>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

/// Seconds since `start`.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Seconds that `f()` takes.
template <class F>
double seconds_of(F&& f) {
  const Clock::time_point start = Clock::now();
  f();
  return seconds_since(start);
}

/// The median of `v` (the upper one for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Fixes glibc malloc's mmap and trim thresholds at their default (128 KiB). Left alone they
/// adapt to the largest array freed so far, so one system's run changed how many page faults the
/// next one paid (each ~10 us in a VM): the order of the columns decided the ratios.
inline void pin_malloc_thresholds() {
  constexpr int kDefault = 128 * 1024;
  (void)mallopt(M_MMAP_THRESHOLD, kDefault);
  (void)mallopt(M_TRIM_THRESHOLD, kDefault);
}

/// Gives the heap's free memory back to the system before a timed run, so that every run starts
/// from the same heap, as in a fresh process.
inline void settle_heap() { (void)malloc_trim(0); }

/// The ratios a[k] / b[k] of the pairs (a[k], b[k]), k up to the shorter's size, smallest first;
/// and their median (the mean of the middle two for an even
/// count; 0 for none), k up to the shorter's size: when a is one side's k-th run and b the
/// other's, run back to back, steadier than a ratio of bests while the machine's speed drifts.
inline std::vector<double> paired_ratios(const std::vector<double>& a,
                                         const std::vector<double>& b) {
  std::vector<double> ratios;
  for (std::size_t k = 0; k < std::min(a.size(), b.size()); ++k) ratios.push_back(a[k] / b[k]);
  std::sort(ratios.begin(), ratios.end());
  return ratios;
}
inline double paired_median(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ratios = paired_ratios(a, b);
  if (ratios.empty()) return 0;
  const std::size_t mid = ratios.size() / 2;
  return ratios.size() % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
}

/// The smallest of `v`.
inline double best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace bench
