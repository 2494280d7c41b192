// What a running task's body can see of its run, through thread-locals set by TaskScope: the
// run's cancellation flag (so the chunked loops of map and reduce stop early when another task
// failed) and the task's block cache (map's per-block disk entries).
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
class TaskScope {
 public:
  explicit TaskScope(const std::atomic<bool>* flag, const BlockCache* blocks = nullptr) noexcept
      : previous_(t_current_cancellation), previous_blocks_(t_current_block_cache) {
    t_current_cancellation = flag;
    t_current_block_cache = blocks;
  }
  ~TaskScope() {
    t_current_cancellation = previous_;
    t_current_block_cache = previous_blocks_;
  }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
  const BlockCache* previous_blocks_;
};

}  // namespace dagflow::detail
