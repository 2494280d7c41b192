// The cancellation flag of the run whose task the calling thread is executing, so that work
// inside a task (the chunked loops of map and reduce) stops early when another task failed.
#pragma once

#include <atomic>

namespace dagflow::detail {

inline thread_local const std::atomic<bool>* t_current_cancellation = nullptr;

/// The flag of the run this thread is working for, or null outside any task.
inline const std::atomic<bool>* current_cancellation() noexcept { return t_current_cancellation; }

/// Sets the current run's flag for the lifetime of the scope (restores the outer one: nested
/// compute() calls).
class CancellationScope {
 public:
  explicit CancellationScope(const std::atomic<bool>* flag) noexcept
      : previous_(t_current_cancellation) {
    t_current_cancellation = flag;
  }
  ~CancellationScope() { t_current_cancellation = previous_; }
  CancellationScope(const CancellationScope&) = delete;
  CancellationScope& operator=(const CancellationScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

}  // namespace dagflow::detail
