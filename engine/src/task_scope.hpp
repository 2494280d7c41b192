// What a running task's body can see of its run, through thread-locals set by TaskScope: the
// run's cancellation flag (so the chunked loops of map and reduce stop early when another task
// failed), the task's block cache (map's per-block disk entries) and its map item counts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <vector>

#include <dagflow/engine/detail/chunked_loop.hpp>

namespace dagflow::detail {

inline thread_local const std::atomic<bool>* t_current_cancellation = nullptr;
inline thread_local const BlockCache* t_current_block_cache = nullptr;

/// Map items a task computed and took from its block cache (count_map_items), and the chunks
/// its map or reduce ran them in.
struct ItemCounts {
  std::size_t computed = 0;
  std::size_t cached = 0;
  std::size_t chunks = 0;
  std::vector<Hash128> block_keys{};  // of the map's per-block entries, with a block cache
};
inline thread_local ItemCounts* t_current_items = nullptr;

/// The running attempt of a task with TaskOptions: its index, and when its timeout passes
/// (time_point::max() without one). What this_task reports.
struct AttemptInfo {
  std::size_t attempt = 0;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};
inline thread_local AttemptInfo t_current_attempt{};

/// The flag of the run this thread is working for, or null outside any task.
inline const std::atomic<bool>* current_cancellation() noexcept { return t_current_cancellation; }

/// Sets the current run's cancellation flag, the running task's block cache (null when it has
/// none), its item counts (null: not counted) and its attempt for the lifetime of the scope;
/// restores the outer ones (nested compute() calls).
class TaskScope {
 public:
  explicit TaskScope(const std::atomic<bool>* flag, const BlockCache* blocks = nullptr,
                     ItemCounts* items = nullptr, AttemptInfo attempt = {}) noexcept
      : previous_(t_current_cancellation),
        previous_blocks_(t_current_block_cache),
        previous_items_(t_current_items),
        previous_attempt_(t_current_attempt) {
    t_current_cancellation = flag;
    t_current_block_cache = blocks;
    t_current_items = items;
    t_current_attempt = attempt;
  }
  ~TaskScope() {
    t_current_cancellation = previous_;
    t_current_block_cache = previous_blocks_;
    t_current_items = previous_items_;
    t_current_attempt = previous_attempt_;
  }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
  const BlockCache* previous_blocks_;
  ItemCounts* previous_items_;
  AttemptInfo previous_attempt_;
};

}  // namespace dagflow::detail
