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
#include <dagflow/graph/types.hpp>

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

class ObserverList;

/// Where the chunked loops of a running map or reduce report the work each worker did
/// (RunObserver::on_chunks). Null in TaskContext when nobody watches.
struct ChunkReporter {
  const ObserverList* observers;
  NodeId task;

  /// Reports `chunks` chunks covering `units` of `of` units, run by the calling worker from
  /// `start` to `end`. Never throws (observers' failures are theirs).
  void report(std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end, std::size_t chunks, std::size_t units,
              std::size_t of) const noexcept;
};

/// The chunks one worker runs in one loop, reported in groups of about kInterval.
class ChunkGroup {
 public:
  static constexpr std::chrono::milliseconds kInterval{50};

  ChunkGroup(const ChunkReporter* reporter, std::size_t of) noexcept
      : reporter_(reporter), of_(of) {}
  ~ChunkGroup() { flush(); }
  ChunkGroup(const ChunkGroup&) = delete;
  ChunkGroup& operator=(const ChunkGroup&) = delete;

  /// A chunk of `units` units ran from `start` to `end`.
  void add(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end,
           std::size_t units) noexcept {
    if (reporter_ == nullptr) return;
    if (chunks_ == 0) start_ = start;
    end_ = end;
    ++chunks_;
    units_ += units;
    if (end_ - start_ >= kInterval) flush();
  }
  void flush() noexcept {
    if (chunks_ == 0) return;
    reporter_->report(start_, end_, chunks_, units_, of_);
    chunks_ = 0;
    units_ = 0;
  }

 private:
  const ChunkReporter* reporter_;
  std::size_t of_;
  std::chrono::steady_clock::time_point start_{};
  std::chrono::steady_clock::time_point end_{};
  std::size_t chunks_ = 0;
  std::size_t units_ = 0;
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
  const ChunkReporter* chunks = nullptr;
};

/// One thread-local for all of it: a task pays for one save, set and restore (in a shared
/// library each thread-local is a lookup of its own).
inline thread_local const TaskContext* t_current_task = nullptr;

/// The flag of the run this thread is working for, or null outside any task.
inline const std::atomic<bool>* current_cancellation() noexcept {
  return t_current_task != nullptr ? t_current_task->cancelled : nullptr;
}
/// Where the running task reports its chunks, or null.
inline const ChunkReporter* current_chunk_reporter() noexcept {
  return t_current_task != nullptr ? t_current_task->chunks : nullptr;
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
