// RunObserver: what an Executor reports while it runs, for progress bars, traces and statistics.
// Events cost nothing when no observer is set; with some, each task adds two clock reads and a
// virtual call per observer. Thread-safety: on_task is called from worker threads at once (see
// RunObserver).
//
//   struct Counter : dagflow::RunObserver {
//     std::atomic<int> ran{0};
//     void on_task(const dagflow::TaskEvent& e) override { ++ran; }
//   };
//   dagflow::Executor ex({.observers = {std::make_shared<Counter>()}});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/types.hpp>

namespace dagflow {

/// How a task's result was obtained.
enum class TaskOutcome : std::uint8_t {
  kExecuted,   ///< its body ran and returned
  kFailed,     ///< its body ran and threw
  kMemoryHit,  ///< its result came from the memory cache
  kDiskHit,    ///< its result came from the disk cache
  /// A map fused into the task that reads it (ExecutorOptions::fuse_maps): that task computes
  /// its items as it goes, so this one does nothing of its own and has no result.
  kFused,
};

/// One task of a run.
struct TaskEvent {
  /// The task's id in its Graph.
  NodeId task = 0;
  /// How its result was obtained.
  TaskOutcome outcome = TaskOutcome::kExecuted;
  /// When the body started and ended (for a cache hit: when it was found, twice).
  std::chrono::steady_clock::time_point start{};
  std::chrono::steady_clock::time_point end{};
  /// The worker thread that ran it, 0 .. threads-1 (cache hits: 0, found by the caller).
  std::size_t worker = 0;
  /// A map task: items computed.
  std::size_t items_computed = 0;
  /// A map task: items taken from its per-block cache entries.
  std::size_t items_cached = 0;
  /// A map or reduce task: the chunks its items ran in.
  std::size_t chunks = 0;
  /// A map task with a disk cache: the keys of its per-block entries, found or written (valid
  /// during on_task; copy what must outlive it). A front end that removes one workflow's
  /// entries (`dagflow cache clear FILE`) needs them beside the task's own key.
  std::span<const Hash128> block_keys{};
  /// Which attempt this was (0 first; see TaskOptions::retries). A failed attempt that will be
  /// retried is reported as kFailed with `will_retry` set, so each attempt is one event.
  std::size_t attempt = 0;
  bool will_retry = false;
  /// The attempt ran past its timeout.
  bool timed_out = false;
  /// It ran on an I/O thread (TaskOptions::io); `worker` is then threads + that thread's index.
  bool io = false;
  /// When it started waiting for its resources (equal to `start` when it did not wait).
  std::chrono::steady_clock::time_point queued{};
};

/// Part of a map's or reduce's work that one worker ran: consecutive chunks of its items (or
/// blocks of a streamed file), so that a trace can draw a map on the lanes of every worker that
/// ran it. A worker reports at most about every 50 ms of a task's chunks, and once more when it
/// is done with them, so a map of a million items is a handful of events.
struct ChunkEvent {
  /// The map or reduce task.
  NodeId task = 0;
  /// The worker thread, 0 .. threads-1.
  std::size_t worker = 0;
  /// When the first of these chunks started and the last ended.
  std::chrono::steady_clock::time_point start{};
  std::chrono::steady_clock::time_point end{};
  /// How many chunks, and how many of the loop's units they covered (items of a map; blocks of
  /// a streamed file, or of a map's per-block cache; pairs of a reduce's tree) out of `of`.
  std::size_t chunks = 0;
  std::size_t units = 0;
  std::size_t of = 0;
};

/// The run an observer is watching, valid from on_run_start to on_run_end (keep the pointer to
/// look tasks up from on_task; copy what must outlive the run).
class RunView {
 public:
  /// Tasks that will run.
  [[nodiscard]] virtual std::size_t to_run() const noexcept = 0;
  /// Results found in a cache.
  [[nodiscard]] virtual std::size_t cached() const noexcept = 0;
  /// Worker threads of the Executor.
  [[nodiscard]] virtual std::size_t threads() const noexcept = 0;
  /// A task's label (see Graph::label).
  [[nodiscard]] virtual std::string label(NodeId task) const = 0;
  /// A task's op name (empty for anonymous callables).
  [[nodiscard]] virtual std::string_view op_name(NodeId task) const = 0;
  /// A task's content key, when the run has a disk cache and the task has a key.
  [[nodiscard]] virtual std::optional<Hash128> key(NodeId task) const = 0;

 protected:
  ~RunView() = default;
};

/// Receives the events of every compute() of an Executor (ExecutorOptions::observers).
/// Watching a run never fails it: when an observer throws, its first failure in a compute() is
/// reported through ExecutorOptions::log, the other observers still get the event, and it keeps
/// receiving the events that follow. Callbacks added in later versions have empty default
/// implementations, so an observer written today keeps compiling.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// Before the first task starts (and before the events of cache hits). Called by compute()'s
  /// thread.
  virtual void on_run_start(const RunView& /*run*/) {}
  /// A task was found in a cache (from compute()'s thread, before any task runs), or finished
  /// (from worker threads, concurrently: keep it short and thread-safe).
  virtual void on_task(const TaskEvent& event) = 0;
  /// A worker ran part of a running map's or reduce's work (from worker threads, concurrently,
  /// before the task's own on_task: keep it short and thread-safe).
  virtual void on_chunks(const ChunkEvent& /*event*/) {}
  /// After the run, failed or not (before compute() returns or throws). Called by compute()'s
  /// thread.
  virtual void on_run_end() {}
};

}  // namespace dagflow
