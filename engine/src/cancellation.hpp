// The cancellation flag of the run whose task the calling thread is executing, so that work
// inside a task (the chunked loops of map and reduce) stops early when another task failed.
#pragma once

#include <atomic>

#include <dagflow/engine/detail/chunked_loop.hpp>

namespace dagflow::detail {

inline thread_local const std::atomic<bool>* t_current_cancellation = nullptr;
inline thread_local const BlockCache* t_current_block_cache = nullptr;

/// The flag of the run this thread is working for, or null outside any task.
inline const std::atomic<bool>* current_cancellation() noexcept { return t_current_cancellation; }

/// Sets the current run's cancellation flag, and the running task's block cache (null when it
/// has none), for the lifetime of the scope; restores the outer ones (nested compute() calls).
class CancellationScope {
 public:
  explicit CancellationScope(const std::atomic<bool>* flag,
                             const BlockCache* blocks = nullptr) noexcept
      : previous_(t_current_cancellation), previous_blocks_(t_current_block_cache) {
    t_current_cancellation = flag;
    t_current_block_cache = blocks;
  }
  ~CancellationScope() {
    t_current_cancellation = previous_;
    t_current_block_cache = previous_blocks_;
  }
  CancellationScope(const CancellationScope&) = delete;
  CancellationScope& operator=(const CancellationScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
  const BlockCache* previous_blocks_;
};

}  // namespace dagflow::detail
