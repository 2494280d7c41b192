// RunObserver: what an Executor reports while it runs, for progress bars, traces and statistics.
//
//   struct Counter : dagflow::RunObserver {
//     std::atomic<int> ran{0};
//     void on_task(const dagflow::TaskEvent& e) override { ++ran; }
//   };
//   dagflow::Executor ex({.observer = std::make_shared<Counter>()});
//
// Events cost nothing when no observer is set; with one, each task adds two clock reads and a
// virtual call. Exceptions thrown by an observer are ignored: watching a run never fails it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <dagflow/graph/detail/graph_state.hpp>

namespace dagflow {

/// How a task's result was obtained.
enum class TaskOutcome : std::uint8_t {
  kExecuted,   ///< its body ran and returned
  kFailed,     ///< its body ran and threw
  kMemoryHit,  ///< its result came from the memory cache
  kDiskHit,    ///< its result came from the disk cache
};

/// One task of a run.
struct TaskEvent {
  NodeId task = 0;
  TaskOutcome outcome = TaskOutcome::kExecuted;
  /// When the body started and ended (for a cache hit: when it was found, twice).
  std::chrono::steady_clock::time_point start{};
  std::chrono::steady_clock::time_point end{};
  /// The worker thread that ran it, 0 .. threads-1 (cache hits: 0, found by the caller).
  std::size_t worker = 0;
  /// A map task: items computed, and items taken from its per-block cache entries.
  std::size_t items_computed = 0;
  std::size_t items_cached = 0;
};

/// Receives the events of every compute() of an Executor (ExecutorOptions::observer).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// Before the first task starts: how many tasks will run and how many results were found in a
  /// cache (their on_task events have been delivered already). Called by compute()'s thread.
  virtual void on_run_start(std::size_t /*to_run*/, std::size_t /*cached*/) {}
  /// A task finished, or was found in a cache. Called from worker threads, concurrently: keep
  /// it short and thread-safe.
  virtual void on_task(const TaskEvent& event) = 0;
  /// After the run, failed or not (before compute() returns or throws). Called by compute()'s
  /// thread.
  virtual void on_run_end() {}
};

}  // namespace dagflow
