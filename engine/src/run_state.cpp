#include "run_state.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <dagflow/engine/detail/run_results.hpp>

#include "cycle_clock.hpp"
#include "task_scope.hpp"
#include "worker_pool.hpp"

namespace dagflow::detail {

namespace {

// What a keyed op task sees of the disk cache while it runs (for map's per-block entries). A
// task computed afresh with its parts (Graph::set_refresh) finds no block: it recomputes and
// stores them all.
class TaskBlockCache final : public BlockCache {
 public:
  TaskBlockCache(DiskStore& disk, const Hash128& identity, bool refresh)
      : disk_(disk), identity_(identity), refresh_(refresh) {}
  [[nodiscard]] const Hash128& op_identity() const noexcept override { return identity_; }
  [[nodiscard]] std::optional<std::string> get(const Hash128& key,
                                               std::uint64_t fingerprint) const override {
    if (refresh_) return std::nullopt;
    return disk_.get(key, fingerprint);
  }
  void put(const Hash128& key, std::uint64_t fingerprint, std::string_view bytes) const override {
    (void)disk_.put(key, fingerprint, bytes);
  }

 private:
  DiskStore& disk_;
  Hash128 identity_;
  bool refresh_;
};

}  // namespace

void RunState::record_failure(std::uint32_t task, std::exception_ptr error) {
  bool expected = false;
  if (has_failure.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
    failed_task = task;
    failure = std::move(error);
  }
  cancelled.store(true, std::memory_order_release);
}

// Runs one task; false if it threw. `credit`: this worker's share of the memory cache's budget.
bool RunState::run_task(std::uint32_t v, BudgetCredit& credit) noexcept {
  const NodeRecord& node = graph->node(order[v]);
  const NodeId* edges = graph->edges(node);
  const TaskInputs inputs{edges, slots.data(), local_of.data()};
  ResultSlot& out = slots[v];
  const std::optional<Hash128>* key = key_of(v);
  const bool keyed = key != nullptr && key->has_value();
  TaskEvent event;
  if (observers != nullptr) event.start = std::chrono::steady_clock::now();
  const bool may_keep = cache != nullptr && !has_flag(node.flags, NodeFlags::kImpureUpstream);
  const std::uint64_t began = may_keep ? CycleClock::now() : 0;
  std::optional<TaskBlockCache> blocks;
  ItemCounts items;
  try {
    if (keyed) {
      Hasher identity;
      identity.add(graph->op_name(order[v])).add(graph->op_version(order[v]));
      blocks.emplace(*disk, identity.digest(), has_flag(node.flags, NodeFlags::kRefreshParts));
    }
    const TaskScope scope(&cancelled, blocks ? &*blocks : nullptr, &items);
    node.vtable->invoke(node.payload, inputs, out);
    if (items.computed + items.cached > 0) {
      items_computed.fetch_add(items.computed, std::memory_order_relaxed);
      items_cached.fetch_add(items.cached, std::memory_order_relaxed);
    }
    if (may_keep) keep_in_memory(v, node, out, credit, CycleClock::now() - began);
    if (keyed) persist(v, node, out);
  } catch (...) {
    record_failure(v, std::current_exception());
    if (observers != nullptr) report(v, TaskOutcome::kFailed, event, items);
    return false;
  }
  if (observers != nullptr) report(v, TaskOutcome::kExecuted, event, items);
  out.publish();
  for (std::uint32_t e = 0; e < node.edge_count; ++e) slots[local_of[edges[e]]].release();
  return true;
}

// Keeps a result in the memory cache when it is worth keeping (a target's, or its task ran for
// at least keep_after: a cheaper one is recomputed faster than it is kept) and fits this
// worker's credit, counted at what it really costs (see MemoryCache::cost).
void RunState::keep_in_memory(std::uint32_t v, const NodeRecord& node, ResultSlot& out,
                              BudgetCredit& credit, std::uint64_t ran_for) {
  if (ran_for < keep_after && !out.is_target()) return;
  const std::size_t bytes = node.vtable->retained_bytes(out.raw_value());
  if (bytes == kNotRetainable) return;
  const std::size_t cost = MemoryCache::cost(bytes, node.vtable->keeps_inline);
  if (credit.spend(cost)) cache->insert(order[v], node.vtable->keep(out), cost, tick);
}

// Writes a result to the disk cache. A failed write (full disk...) is the store's warning, never
// the task's failure.
void RunState::persist(std::uint32_t v, const NodeRecord& node, const ResultSlot& out) {
  std::string bytes;
  if (!node.vtable->save(out, bytes)) {
    not_persisted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (disk->put(*keys[order[v]], node.vtable->fingerprint(), bytes)) {
    disk_writes.fetch_add(1, std::memory_order_relaxed);
    disk_bytes_written.fetch_add(bytes.size(), std::memory_order_relaxed);
  }
}

void RunState::report(std::uint32_t v, TaskOutcome outcome, TaskEvent& event,
                      const ItemCounts& items) const noexcept {
  event.end = std::chrono::steady_clock::now();
  event.task = order[v];
  event.outcome = outcome;
  event.worker = WorkerPool::current_worker();
  event.items_computed = items.computed;
  event.items_cached = items.cached;
  event.chunks = items.chunks;
  event.block_keys = items.block_keys;
  observers->on_task(event);
}

// Runs chains [begin, end) one after another; returns the number of task bodies run.
std::size_t RunState::run_chains(std::size_t begin, std::size_t end) noexcept {
  BudgetCredit credit(cache_owner);
  std::size_t ran = 0;
  for (std::size_t c = begin; c < end; ++c) {
    for (std::uint32_t i = plan.chain_begin[c]; i < plan.chain_begin[c + 1]; ++i) {
      if (cancelled.load(std::memory_order_relaxed)) return ran;
      ++ran;
      if (!run_task(plan.chain_tasks[i], credit)) return ran;
    }
  }
  return ran;
}

void RunState::finish_work(std::size_t ran) noexcept {
  executed.fetch_add(ran, std::memory_order_acq_rel);  // even 0: the release is the hand-back
}

void RunState::run_chain_range(void* context, std::size_t begin, std::size_t end) {
  auto* run = static_cast<RunState*>(context);
  (void)run->started.load(std::memory_order_acquire);
  run->finish_work(run->run_chains(begin, end));
}

bool RunState::run_unit(void* context, std::uint32_t unit) {
  auto* run = static_cast<RunState*>(context);
  (void)run->started.load(std::memory_order_acquire);
  const std::size_t first = run->plan.unit_begin[unit];
  const std::size_t count = run->plan.unit_begin[unit + 1] - first;
  std::size_t ran = 0;
  if (count == 1) {
    ran = run->run_chains(first, first + 1);
  } else if (!run->cancelled.load(std::memory_order_relaxed)) {
    // The slice travels to other workers through TBB: publish it with release/acquire.
    struct Slice {
      std::size_t first;
      std::atomic<RunState*> run;
    } slice{first, nullptr};
    slice.run.store(run, std::memory_order_release);
    // About four pieces per worker: a level's chains are often tiny tasks, where a piece per
    // chain made splitting and stealing cost more than the tasks (a 316x316 wavefront ran slower
    // on 2 threads than on 1); four per worker still balances uneven ones.
    const std::size_t grain =
        std::max<std::size_t>(1, count / (4 * WorkerPool::current_concurrency()));
    WorkerPool::parallel_for(
        count, grain,
        [](void* ctx, std::size_t b, std::size_t e) {
          auto* s = static_cast<Slice*>(ctx);
          RunState* r = s->run.load(std::memory_order_acquire);
          run_chain_range(r, s->first + b, s->first + e);
        },
        &slice);
  }
  const bool keep_going = !run->cancelled.load(std::memory_order_relaxed);
  run->finish_work(ran);  // the last touch of the run state
  return keep_going;
}

void RunStateDeleter::operator()(RunState* run) const noexcept { delete run; }

ResultSlot& RunResults::target_slot(std::size_t i) { return run_->slots[run_->targets.at(i)]; }

}  // namespace dagflow::detail
