// WorkerPool: the one place dagflow touches oneTBB (a task_arena, a flow graph per run,
// parallel_for inside a node, waits that keep working). Its interface has no TBB types, so
// worker_pool.cpp is the only translation unit that includes TBB headers, and under
// ThreadSanitizer it is compiled uninstrumented like Debian's libtbb itself (see
// cmake/DagflowSanitizers.cmake). Callers publish their own data with release/acquire atomics
// (or mutexes), which TSan checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dagflow::detail {

class AsyncUnit;

/// A DAG of units to run: unit u may start once all of preds[pred_begin[u] .. pred_begin[u+1])
/// have finished. run_unit returns false to cancel the rest of the run (units not yet started
/// never start; running ones finish).
///
/// An async unit (async[u] != 0) is started instead with start_async(context, u, handle) and is
/// finished only when handle.finish() is called, from any thread: meanwhile it holds no worker
/// (it may wait for resources, run on I/O threads, wait out a retry delay). handle.run_on_worker()
/// calls resume(context, u) on a compute worker.
struct UnitGraph {
  std::size_t units = 0;
  const std::uint32_t* pred_begin = nullptr;  // units + 1 entries
  const std::uint32_t* preds = nullptr;
  bool (*run_unit)(void* context, std::uint32_t unit) = nullptr;
  void* context = nullptr;
  const std::uint8_t* async = nullptr;  // null: no async units
  void (*start_async)(void* context, std::uint32_t unit, AsyncUnit handle) = nullptr;
  void (*resume)(void* context, std::uint32_t unit) = nullptr;
};

/// An async unit in flight (see UnitGraph). Cheap to copy; valid until finish().
class AsyncUnit {
 public:
  /// Calls UnitGraph::resume(context, unit) on a compute worker of the pool. From any thread.
  void run_on_worker() const;
  /// The unit is done: its successors may start (to cancel the rest of a run with async units,
  /// its run_unit and start_async skip their work). From any thread, exactly once.
  void finish() const;

 private:
  friend struct FlowRun;
  AsyncUnit(void* run, std::uint32_t unit) : run_(run), unit_(unit) {}
  void* run_;
  std::uint32_t unit_;
};

/// A wait for an event from outside the pool (another rank's message) that, in a pool of one
/// thread, keeps the thread working: wait() suspends the waiting unit and the thread runs other
/// units until release() resumes it, on the same thread (so thread-locals stay right). With more
/// threads, or outside any pool (an I/O thread), wait() blocks: the other threads go on. A cheap
/// handle: copies share one wait, so the releasing side can hold it while the waiter returns.
class WorkingWait {
 public:
  /// On the thread that will wait.
  WorkingWait();
  /// Returns once release() was called. Once, on the thread that made the wait.
  void wait() const;
  /// Ends the wait. Exactly once, from any thread.
  void release() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

class WorkerPool {
 public:
  /// `threads` workers; 0 = all cores. Throws dagflow::Error when the system refuses to start
  /// that many threads.
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] std::size_t threads() const noexcept;

  /// Runs `graph` on one tbb::flow::graph (one continue_node per unit) inside the pool's arena and
  /// returns when every unit has finished or the run was cancelled. Safe to call from several
  /// threads at once, and from inside a running unit (the wait is isolated, so it only helps with
  /// its own graph and cannot deadlock on the caller's). Returns the number of flow-graph nodes.
  std::size_t run(const UnitGraph& graph);

  /// Worker threads of the arena the calling thread is in (all cores outside any arena).
  [[nodiscard]] static std::size_t current_concurrency() noexcept;

  /// The calling thread's slot in its arena (0 .. threads-1; 0 outside any arena).
  [[nodiscard]] static std::size_t current_worker() noexcept;

  /// From inside a unit: passes items 0 .. items-1 through three stages with at most `tokens`
  /// items between the first stage and the end of the last: first(context, i) one item at a time
  /// in order, then middle(context, i) in parallel, then last(context, i) one at a time in order.
  /// An exception from a stage stops the items not yet started and is rethrown here. The stages
  /// publish their data to each other themselves (release/acquire): TSan cannot see TBB's.
  struct OrderedStages {
    std::size_t items = 0;
    std::size_t tokens = 1;
    void* context = nullptr;
    void (*first)(void* context, std::size_t item) = nullptr;
    void (*middle)(void* context, std::size_t item) = nullptr;
    void (*last)(void* context, std::size_t item) = nullptr;
  };
  static void ordered_pipeline(const OrderedStages& stages);

  /// From inside a unit: calls body(context, begin, end) on disjoint chunks of at least `grain`
  /// items covering [0, n), in parallel, and returns when all are done.
  static void parallel_for(std::size_t n, std::size_t grain,
                           void (*body)(void* context, std::size_t begin, std::size_t end),
                           void* context);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagflow::detail
