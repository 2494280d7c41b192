// RunState: everything one compute() needs while its tasks run, and the code its workers run.
//
// Built by the calling thread (Executor::Impl's phases), then published to the workers with
// `started` (release/acquire); workers report back through `executed` (every piece of work ends
// by adding the bodies it ran with a release RMW; the caller acquires after the wait), so that
// TSan sees every hand-off even though the scheduler in between is not instrumented.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <dagflow/engine/observer.hpp>
#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/util/large_allocator.hpp>

#include "disk_store.hpp"
#include "execution_plan.hpp"
#include "io_pool.hpp"
#include "memory_cache.hpp"
#include "observer_list.hpp"
#include "rank_run.hpp"
#include "resource_broker.hpp"
#include "task_scope.hpp"
#include "worker_pool.hpp"

namespace dagflow::detail {

struct ItemCounts;

/// The Executor's means for tasks that wait, shared by its runs.
struct RunServices {
  IoPool* io = nullptr;
  Timer* timer = nullptr;
  ResourceBroker* resources = nullptr;
  std::size_t compute_threads = 0;  // TaskEvent::worker of I/O thread i is this + i
  /// Bytes of disk-cache entries queued for the I/O threads, across runs: past
  /// kMaxQueuedWriteBytes a worker writes its entry itself, so memory stays bounded.
  std::atomic<std::uint64_t>* queued_write_bytes = nullptr;
};
inline constexpr std::uint64_t kMaxQueuedWriteBytes = std::uint64_t{64} << 20;

/// A task with TaskOptions in flight: it runs as an async unit (see UnitGraph), one attempt after
/// another, holding no worker while it waits.
struct AsyncTask {
  std::uint32_t task = 0;  // local index
  std::uint32_t unit = 0;
  const TaskOptions* options = nullptr;
  std::vector<ResourceNeed> needs;
  std::optional<AsyncUnit> handle;
  std::size_t attempt = 0;
  std::chrono::steady_clock::time_point queued{};  // when it asked for its resources
  // Published with release before the hop to a compute worker through oneTBB and acquired
  // there (oneTBB is not instrumented for TSan; the other hand-offs go through our own locks).
  std::atomic<std::uint32_t> hand_off{0};
};

/// A task that failed after its attempts.
struct Failure {
  std::uint32_t task;  // local index
  std::exception_ptr error;
  std::size_t attempts;
  std::uint64_t timeout_ms;  // non-zero: it timed out
};

struct RunState {
  std::shared_ptr<GraphState> graph;
  std::vector<NodeId> order;            // local index -> node id, topological
  std::vector<std::uint32_t> local_of;  // node id -> local index
  util::LargeVector<ResultSlot> slots;  // by local index
  std::vector<std::uint32_t> targets;   // local index of each requested target
  ExecutionPlan plan;
  GraphCache* cache = nullptr;  // null when the memory cache is off
  MemoryCache* cache_owner = nullptr;
  std::uint64_t tick = 0;        // the memory cache's use tick of this run
  std::uint64_t keep_after = 0;  // CycleClock ticks a task must run for its result to be kept
  DiskStore* disk = nullptr;     // null when there is no cache_dir
  std::vector<std::optional<Hash128>> keys;  // content keys by node id (with a disk cache)
  const ObserverList* observers = nullptr;   // null when nobody watches
  RunServices services;
  bool keep_going = false;                   // a failure skips only its dependants
  std::vector<AsyncTask> async_tasks;        // tasks with options, in unit order
  std::vector<std::uint32_t> async_of_unit;  // unit -> index in async_tasks (async units only)
  std::unique_ptr<RankRun> ranks;            // in a run across ranks: this rank's part
  /// Map fusion (ExecutorOptions::fuse_maps), by local index: the map whose items a task reads
  /// from a FusedSource instead of its slot (kNotFused: none), and the maps fused away so (they
  /// run nothing themselves; their reader releases their inputs). Both empty when none is.
  std::vector<std::uint32_t> fused_input;
  std::vector<std::uint8_t> fused_away;
  static constexpr std::uint32_t kNotFused = UINT32_MAX;

  std::atomic<std::size_t> disk_writes{0};
  std::atomic<std::size_t> not_persisted{0};
  std::atomic<std::uint64_t> disk_bytes_written{0};
  std::atomic<std::size_t> items_computed{0};
  std::atomic<std::size_t> items_cached{0};

  // Read before every task: on a cache line of their own, away from the counters below, which
  // every piece of work writes (sharing a line made each unfused task pay a cache miss).
  alignas(64) std::atomic<bool> started{false};
  std::atomic<bool> cancelled{false};
  alignas(64) std::atomic<std::size_t> executed{0};  // task bodies run; also the hand-back

  std::atomic<bool> has_failure{false};
  std::atomic<bool> cancel_requested{false};  // Executor::cancel
  std::atomic<std::size_t> retries{0};
  std::atomic<std::size_t> timeouts{0};
  std::atomic<std::size_t> io_tasks{0};
  std::atomic<std::size_t> disk_write_failures{0};
  std::atomic<std::int64_t> resource_wait_ns{0};
  std::mutex failures_mutex;
  std::vector<Failure> failures;  // in the order they happened

  /// Cancels the run (Executor::cancel): nothing new starts, waiting tasks are woken (and, across
  /// ranks, every rank cancels).
  void cancel() noexcept;
  /// Stops the run without calling it cancelled (another rank failed or cancelled it).
  void stop() noexcept;
  /// Waits until the disk-cache writes this run queued are done.
  void wait_for_writes();

  [[nodiscard]] std::uint32_t fused_input_of(std::uint32_t v) const noexcept {
    return fused_input.empty() ? kNotFused : fused_input[v];
  }
  [[nodiscard]] bool is_fused_away(std::uint32_t v) const noexcept {
    return !fused_away.empty() && fused_away[v] != 0;
  }

  /// The content key of the task at local index `v`, when the run has a disk cache.
  [[nodiscard]] const std::optional<Hash128>* key_of(std::uint32_t v) const noexcept {
    return disk != nullptr ? &keys[order[v]] : nullptr;
  }

  /// The WorkerPool's entry points: runs one unit of `plan` (context: the RunState), starts and
  /// resumes an async one.
  static bool run_unit(void* context, std::uint32_t unit);
  static void start_async(void* context, std::uint32_t unit, AsyncUnit handle);
  static void resume_async(void* context, std::uint32_t unit);

  /// Queues a disk-cache entry for the I/O threads (or writes it here when too much is queued).
  /// `counted`: a task's own result (RunStats::disk_writes), not a map's block.
  void write_entry(const Hash128& key, std::uint64_t fingerprint, std::string bytes, bool counted);

 private:
  // How an attempt ended: `error` null and not timed out is a success.
  struct AttemptEnd {
    std::exception_ptr error;
    bool timed_out = false;
    [[nodiscard]] bool ok() const noexcept { return !error && !timed_out; }
  };
  // One attempt's work shared by plain and async tasks: the body, then (on success) keeping and
  // persisting the result.
  AttemptEnd invoke(std::uint32_t v, BudgetCredit& credit, TaskEvent& event, ItemCounts& items,
                    AttemptInfo attempt) noexcept;
  enum class Ran : std::uint8_t { kOk, kFailed, kSkipped };  // kSkipped: an input failed
  Ran run_task(std::uint32_t v, BudgetCredit& credit) noexcept;
  [[nodiscard]] bool inputs_failed(const NodeRecord& node) const noexcept;
  void skip(std::uint32_t v) noexcept;
  void keep_in_memory(std::uint32_t v, const NodeRecord& node, ResultSlot& out,
                      BudgetCredit& credit, std::uint64_t ran_for);
  void persist(std::uint32_t v, const NodeRecord& node, const ResultSlot& out);
  void report(std::uint32_t v, TaskOutcome outcome, TaskEvent& event,
              const ItemCounts& items) const noexcept;
  void record_failure(std::uint32_t task, std::exception_ptr error, std::size_t attempts = 1,
                      std::uint64_t timeout_ms = 0) noexcept;
  void publish_success(std::uint32_t v) noexcept;
  void release_inputs(std::uint32_t v) noexcept;
  void invoke_body(std::uint32_t v, const NodeRecord& node, const TaskInputs& inputs,
                   ResultSlot& out);
  [[nodiscard]] std::unique_ptr<FusedSource> open_fused(std::uint32_t map);
  [[nodiscard]] Hash128 op_identity(std::uint32_t v) const;
  // The async path (see AsyncTask).
  void begin_attempt(AsyncTask& t, bool on_worker) noexcept;
  void granted(AsyncTask& t, bool on_worker) noexcept;
  void run_attempt(AsyncTask& t) noexcept;
  void after_failed_attempt(AsyncTask& t, AttemptEnd end, TaskEvent& event,
                            const ItemCounts& items) noexcept;
  void finish_async(AsyncTask& t, std::size_t ran) noexcept;

  friend class RankRun;  // its receive units hand back through finish_work

  std::mutex writes_mutex_;
  std::condition_variable writes_done_;
  std::size_t writes_pending_ = 0;
  std::size_t run_chains(std::size_t begin, std::size_t end) noexcept;
  void finish_work(std::size_t ran) noexcept;
  static void run_chain_range(void* context, std::size_t begin, std::size_t end);
};

}  // namespace dagflow::detail
