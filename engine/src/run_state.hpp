// RunState: everything one compute() needs while its tasks run, and the code its workers run.
//
// Built by the calling thread (Executor::Impl's phases), then published to the workers with
// `started` (release/acquire); workers report back through `executed` (every piece of work ends
// by adding the bodies it ran with a release RMW; the caller acquires after the wait), so that
// TSan sees every hand-off even though the scheduler in between is not instrumented.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include <dagflow/engine/observer.hpp>
#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/util/large_allocator.hpp>

#include "disk_store.hpp"
#include "execution_plan.hpp"
#include "memory_cache.hpp"
#include "observer_list.hpp"

namespace dagflow::detail {

struct ItemCounts;

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
  std::uint32_t failed_task = 0;  // local index; written once, by the thread that set has_failure
  std::exception_ptr failure;

  /// The content key of the task at local index `v`, when the run has a disk cache.
  [[nodiscard]] const std::optional<Hash128>* key_of(std::uint32_t v) const noexcept {
    return disk != nullptr ? &keys[order[v]] : nullptr;
  }

  /// The WorkerPool's entry point: runs one unit of `plan` (context: the RunState).
  static bool run_unit(void* context, std::uint32_t unit);

 private:
  bool run_task(std::uint32_t v, BudgetCredit& credit) noexcept;
  void keep_in_memory(std::uint32_t v, const NodeRecord& node, ResultSlot& out,
                      BudgetCredit& credit, std::uint64_t ran_for);
  void persist(std::uint32_t v, const NodeRecord& node, const ResultSlot& out);
  void report(std::uint32_t v, TaskOutcome outcome, TaskEvent& event,
              const ItemCounts& items) const noexcept;
  void record_failure(std::uint32_t task, std::exception_ptr error);
  std::size_t run_chains(std::size_t begin, std::size_t end) noexcept;
  void finish_work(std::size_t ran) noexcept;
  static void run_chain_range(void* context, std::size_t begin, std::size_t end);
};

}  // namespace dagflow::detail
