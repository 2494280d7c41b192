// What a running task's body can see of its run, through a thread-local set by TaskScope: the
// run's cancellation flag (so the chunked loops of map and reduce stop early when another task
// failed), the task's block cache (map's per-block disk entries), its map item counts and its
// attempt (this_task).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <vector>

#include <dagflow/engine/detail/chunked_loop.hpp>

namespace dagflow::detail {

/// Map items a task computed and took from its block cache (count_map_items), and the chunks
/// its map or reduce ran them in.
struct ItemCounts {
  std::size_t computed = 0;
  std::size_t cached = 0;
  std::size_t chunks = 0;
  std::vector<Hash128> block_keys{};  // of the map's per-block entries, with a block cache
};

/// The running attempt of a task with TaskOptions: its index, and when its timeout passes
/// (time_point::max() without one). What this_task reports.
struct AttemptInfo {
  std::size_t attempt = 0;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// What a running task's body sees: its run's cancellation flag, its block cache (null when it
/// has none), its item counts (null: not counted), its attempt, and for a map or reduce in a run
/// across ranks its rank split (else null).
struct TaskContext {
  const std::atomic<bool>* cancelled = nullptr;
  const BlockCache* blocks = nullptr;
  ItemCounts* items = nullptr;
  AttemptInfo attempt{};
  const RankSplit* split = nullptr;
};

/// One thread-local for all of it: a task pays for one save, set and restore (in a shared
/// library each thread-local is a lookup of its own).
inline thread_local const TaskContext* t_current_task = nullptr;

/// The flag of the run this thread is working for, or null outside any task.
inline const std::atomic<bool>* current_cancellation() noexcept {
  return t_current_task != nullptr ? t_current_task->cancelled : nullptr;
}
/// The running task's item counts, or null.
inline ItemCounts* current_items() noexcept {
  return t_current_task != nullptr ? t_current_task->items : nullptr;
}

/// Makes `context` the calling thread's for the lifetime of the scope; restores the outer one
/// (nested compute() calls).
class TaskScope {
 public:
  explicit TaskScope(const TaskContext& context) noexcept : previous_(t_current_task) {
    t_current_task = &context;
  }
  ~TaskScope() { t_current_task = previous_; }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  const TaskContext* previous_;
};

}  // namespace dagflow::detail
