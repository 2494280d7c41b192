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
  TaskBlockCache(RunState& run, const Hash128& identity, bool refresh)
      : run_(run), identity_(identity), refresh_(refresh) {}
  [[nodiscard]] const Hash128& op_identity() const noexcept override { return identity_; }
  [[nodiscard]] std::optional<std::string> get(const Hash128& key,
                                               std::uint64_t fingerprint) const override {
    if (refresh_) return std::nullopt;
    return run_.disk->get(key, fingerprint);
  }
  void put(const Hash128& key, std::uint64_t fingerprint, std::string_view bytes) const override {
    run_.write_entry(key, fingerprint, std::string(bytes), false);
  }

 private:
  RunState& run_;
  Hash128 identity_;
  bool refresh_;
};

// Across ranks, a split task whose exchange another rank's failure or a cancel aborted is not a
// failure of its own.
bool is_exchange_abort(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ExchangeAborted&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

void RunState::record_failure(std::uint32_t task, std::exception_ptr error, std::size_t attempts,
                              std::uint64_t timeout_ms) noexcept {
  if (ranks != nullptr && is_exchange_abort(error)) {
    slots[task].mark_failed();
    return;
  }
  slots[task].mark_failed();
  if (ranks != nullptr) ranks->after_failure(task, error, attempts, timeout_ms);
  {
    const std::lock_guard lock(failures_mutex);
    failures.push_back(Failure{task, std::move(error), attempts, timeout_ms});
  }
  has_failure.store(true, std::memory_order_release);
  if (!keep_going) {
    cancelled.store(true, std::memory_order_release);
    if (ranks != nullptr) ranks->abort_receives();
  }
}

// A keep-going run skips a task when something it depends on failed or was skipped.
bool RunState::inputs_failed(const NodeRecord& node) const noexcept {
  if (!keep_going || !has_failure.load(std::memory_order_acquire)) return false;
  const NodeId* edges = graph->edges(node);
  for (std::uint32_t e = 0; e < node.edge_count; ++e) {
    if (slots[local_of[edges[e]]].failed()) return true;
  }
  return false;
}

void RunState::skip(std::uint32_t v) noexcept {
  slots[v].mark_failed();
  if (ranks != nullptr) ranks->after_skip(v);
}

// Runs one attempt of task v's body, then keeps and persists its result. An attempt that ends
// after its deadline timed out, whatever it returned or threw.
RunState::AttemptEnd RunState::invoke(std::uint32_t v, BudgetCredit& credit, TaskEvent& event,
                                      ItemCounts& items, AttemptInfo attempt) noexcept {
  const auto too_late = [&attempt] {
    return attempt.deadline != std::chrono::steady_clock::time_point::max() &&
           std::chrono::steady_clock::now() >= attempt.deadline;
  };
  const NodeRecord& node = graph->node(order[v]);
  const TaskInputs inputs{graph->edges(node), slots.data(), local_of.data()};
  ResultSlot& out = slots[v];
  const std::optional<Hash128>* key = key_of(v);
  const bool keyed = key != nullptr && key->has_value();
  if (observers != nullptr) event.start = std::chrono::steady_clock::now();
  const bool may_keep = cache != nullptr && !has_flag(node.flags, NodeFlags::kImpureUpstream);
  const std::uint64_t began = may_keep ? CycleClock::now() : 0;
  std::optional<TaskBlockCache> blocks;
  try {
    if (keyed) {
      blocks.emplace(*this, op_identity(v), has_flag(node.flags, NodeFlags::kRefreshParts));
    }
    const RankSplit* split = ranks != nullptr ? ranks->split_of(v) : nullptr;
    const ChunkReporter reporter{observers, order[v]};
    const TaskContext context{&cancelled, blocks ? &*blocks : nullptr,
                              &items,     attempt,
                              split,      observers != nullptr ? &reporter : nullptr};
    const TaskScope scope(context);
    invoke_body(v, node, inputs, out);
    if (too_late()) {
      out.discard();
      return AttemptEnd{nullptr, true};
    }
    if (items.computed + items.cached > 0) {
      items_computed.fetch_add(items.computed, std::memory_order_relaxed);
      items_cached.fetch_add(items.cached, std::memory_order_relaxed);
    }
    if (may_keep) keep_in_memory(v, node, out, credit, CycleClock::now() - began);
    if (keyed && (ranks == nullptr || ranks->persists_here(v))) persist(v, node, out);
  } catch (...) {
    out.discard();
    return AttemptEnd{std::current_exception(), too_late()};
  }
  return AttemptEnd{};
}

// The hash of task v's op name and version: the identity part of its per-block keys.
Hash128 RunState::op_identity(std::uint32_t v) const {
  Hasher identity;
  identity.add(graph->op_name(order[v])).add(graph->op_version(order[v]));
  return identity.digest();
}

// Task v's body, reading its input's items from the fused maps before it when it has them.
void RunState::invoke_body(std::uint32_t v, const NodeRecord& node, const TaskInputs& inputs,
                           ResultSlot& out) {
  const std::uint32_t map = fused_input_of(v);
  if (map == kNotFused) {
    node.vtable->invoke(node.payload, inputs, out);
    return;
  }
  const std::unique_ptr<FusedSource> items = open_fused(map);
  graph->fusion(order[v])->invoke_fused(node.payload, inputs, *items, out);
}

// A fused map as the source of its items, itself reading from the map fused before it, if any.
// Its block keys need its op's identity, which only a keyed task has.
std::unique_ptr<FusedSource> RunState::open_fused(std::uint32_t map) {
  const NodeRecord& node = graph->node(order[map]);
  std::unique_ptr<FusedSource> upstream;
  if (const std::uint32_t before = fused_input_of(map); before != kNotFused) {
    upstream = open_fused(before);
  }
  std::optional<Hash128> identity;
  if (const std::optional<Hash128>* key = key_of(map); key != nullptr && key->has_value()) {
    identity = op_identity(map);
  }
  const TaskInputs inputs{graph->edges(node), slots.data(), local_of.data()};
  return graph->fusion(order[map])
      ->open(node.payload, inputs, std::move(upstream), identity ? &*identity : nullptr);
}

// A finished task's result becomes visible to its readers, which it no longer reads itself.
void RunState::publish_success(std::uint32_t v) noexcept {
  slots[v].publish();
  if (ranks != nullptr) ranks->after_success(v);
  release_inputs(v);
}

// Task v is done with its inputs, and with those of the maps fused into it, which it read.
void RunState::release_inputs(std::uint32_t v) noexcept {
  for (std::uint32_t t = v; t != kNotFused; t = fused_input_of(t)) {
    const NodeRecord& node = graph->node(order[t]);
    const NodeId* edges = graph->edges(node);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) slots[local_of[edges[e]]].release();
  }
}

// Runs one task without options. A map fused into its reader only lets that reader start: the
// reader computes its items, and releases its inputs.
RunState::Ran RunState::run_task(std::uint32_t v, BudgetCredit& credit) noexcept {
  const NodeRecord& node = graph->node(order[v]);
  if (inputs_failed(node)) {
    skip(v);
    return Ran::kSkipped;
  }
  if (is_fused_away(v)) {
    if (observers != nullptr) {
      TaskEvent event;
      event.start = std::chrono::steady_clock::now();
      report(v, TaskOutcome::kFused, event, ItemCounts{});
    }
    slots[v].publish();
    return Ran::kOk;
  }
  TaskEvent event;
  ItemCounts items;
  if (AttemptEnd end = invoke(v, credit, event, items, {}); !end.ok()) {
    record_failure(v, std::move(end.error));
    if (observers != nullptr) report(v, TaskOutcome::kFailed, event, items);
    return Ran::kFailed;
  }
  if (observers != nullptr) report(v, TaskOutcome::kExecuted, event, items);
  publish_success(v);
  return Ran::kOk;
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
// The value is serialised here, before a reader can take it; the I/O threads write the bytes.
void RunState::persist(std::uint32_t v, const NodeRecord& node, const ResultSlot& out) {
  std::string bytes;
  if (!node.vtable->save(out, bytes)) {
    not_persisted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  write_entry(*keys[order[v]], node.vtable->fingerprint(), std::move(bytes), true);
}

void RunState::write_entry(const Hash128& key, std::uint64_t fingerprint, std::string bytes,
                           bool counted) {
  const auto write = [this, key, fingerprint, counted](const std::string& payload) {
    if (disk->put(key, fingerprint, payload)) {
      if (!counted) return;
      disk_writes.fetch_add(1, std::memory_order_relaxed);
      disk_bytes_written.fetch_add(payload.size(), std::memory_order_relaxed);
    } else {
      disk_write_failures.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::atomic<std::uint64_t>& queued = *services.queued_write_bytes;
  const std::uint64_t size = bytes.size();
  if (queued.fetch_add(size, std::memory_order_relaxed) + size > kMaxQueuedWriteBytes) {
    queued.fetch_sub(size, std::memory_order_relaxed);
    write(bytes);  // the writers are behind: bound memory by writing this one here
    return;
  }
  {
    const std::lock_guard lock(writes_mutex_);
    ++writes_pending_;
  }
  services.io->submit([this, write, size, payload = std::move(bytes)] {
    write(payload);
    services.queued_write_bytes->fetch_sub(size, std::memory_order_relaxed);
    const std::lock_guard lock(writes_mutex_);
    if (--writes_pending_ == 0) writes_done_.notify_all();
  });
}

void RunState::wait_for_writes() {
  std::unique_lock lock(writes_mutex_);
  writes_done_.wait(lock, [this] { return writes_pending_ == 0; });
}

void RunState::report(std::uint32_t v, TaskOutcome outcome, TaskEvent& event,
                      const ItemCounts& items) const noexcept {
  event.end = std::chrono::steady_clock::now();
  event.task = order[v];
  event.outcome = outcome;
  const std::size_t io_thread = IoPool::current_index();
  event.io = io_thread != SIZE_MAX;
  event.worker = event.io ? services.compute_threads + io_thread : WorkerPool::current_worker();
  if (event.queued == std::chrono::steady_clock::time_point{}) event.queued = event.start;
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
      const Ran result = run_task(plan.chain_tasks[i], credit);
      if (result != Ran::kSkipped) ++ran;
      if (result == Ran::kFailed && !keep_going) return ran;
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
  if (run->ranks != nullptr && run->ranks->role(unit) != RankRun::Role::kLocal) {
    run->finish_work(0);  // nothing of this unit is needed here
    return true;
  }
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

// ---- tasks with options: async units ------------------------------------------------------------

// Each step below ends by handing the task on (to the resource queue, an I/O thread, the timer, a
// compute worker) or by finishing its unit; none waits.

void RunState::start_async(void* context, std::uint32_t unit, AsyncUnit handle) {
  auto* run = static_cast<RunState*>(context);
  (void)run->started.load(std::memory_order_acquire);
  if (run->ranks != nullptr && run->ranks->role(unit) == RankRun::Role::kReceive) {
    run->ranks->start_receive(unit, handle);
    return;
  }
  AsyncTask& t = run->async_tasks[run->async_of_unit[unit]];
  t.handle = handle;
  run->begin_attempt(t, true);
}

void RunState::resume_async(void* context, std::uint32_t unit) {
  auto* run = static_cast<RunState*>(context);
  (void)run->started.load(std::memory_order_acquire);  // the run's set-up, as in run_unit
  AsyncTask& t = run->async_tasks[run->async_of_unit[unit]];
  (void)t.hand_off.load(std::memory_order_acquire);  // what the thread that hopped wrote
  run->run_attempt(t);
}

// Asks for the task's resources; `on_worker`: the calling thread is a compute worker that may run
// a compute task's attempt itself.
void RunState::begin_attempt(AsyncTask& t, bool on_worker) noexcept {
  if (cancelled.load(std::memory_order_acquire)) {
    finish_async(t, 0);
    return;
  }
  if (t.attempt == 0 && inputs_failed(graph->node(order[t.task]))) {
    skip(t.task);
    finish_async(t, 0);
    return;
  }
  t.queued = std::chrono::steady_clock::now();
  if (t.needs.empty()) {
    granted(t, on_worker);
    return;
  }
  // The broker's lock carries the hand-off to whichever thread grants the units.
  const bool now = services.resources->acquire(t.needs, this, [this, &t](bool ok) {
    if (ok) {
      granted(t, false);
    } else {  // the run was cancelled while the task waited
      finish_async(t, 0);
    }
  });
  if (now) granted(t, on_worker);
}

void RunState::granted(AsyncTask& t, bool on_worker) noexcept {
  const auto waited = std::chrono::steady_clock::now() - t.queued;
  if (!t.needs.empty()) {
    resource_wait_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count(),
                               std::memory_order_relaxed);
  }
  if (t.options->io) {
    try {
      services.io->submit([this, &t] { run_attempt(t); });  // the pool's lock is the hand-off
    } catch (...) {  // no memory for the job: run it here rather than lose the task
      run_attempt(t);
    }
  } else if (on_worker) {
    run_attempt(t);
  } else {
    // Nothing of `t` may be touched once it is handed to the worker: the run may end at once.
    const AsyncUnit handle = *t.handle;
    t.hand_off.fetch_add(1, std::memory_order_release);
    handle.run_on_worker();
  }
}

void RunState::run_attempt(AsyncTask& t) noexcept {
  if (cancelled.load(std::memory_order_acquire)) {
    if (!t.needs.empty()) services.resources->release(t.needs);
    finish_async(t, 0);
    return;
  }
  AttemptInfo attempt{.attempt = t.attempt};
  if (t.options->timeout.count() > 0) {
    attempt.deadline = std::chrono::steady_clock::now() + t.options->timeout;
  }
  if (t.options->io) io_tasks.fetch_add(1, std::memory_order_relaxed);
  TaskEvent event;
  event.attempt = t.attempt;
  // Only time queued for resources counts as waiting (not the hand-off to an I/O thread).
  if (observers != nullptr && !t.needs.empty()) event.queued = t.queued;
  ItemCounts items;
  AttemptEnd end;
  {  // the credit goes back to the memory cache before the task is finished: the run (and its
     // Executor) may end as soon as it is
    BudgetCredit credit(cache_owner);
    end = invoke(t.task, credit, event, items, attempt);
  }
  if (!t.needs.empty()) services.resources->release(t.needs);
  if (!end.ok()) {
    after_failed_attempt(t, std::move(end), event, items);
    return;
  }
  if (observers != nullptr) report(t.task, TaskOutcome::kExecuted, event, items);
  publish_success(t.task);
  finish_async(t, 1);
}

// Retries after the delay (doubled each time), or records the failure.
void RunState::after_failed_attempt(AsyncTask& t, AttemptEnd end, TaskEvent& event,
                                    const ItemCounts& items) noexcept {
  if (end.timed_out) timeouts.fetch_add(1, std::memory_order_relaxed);
  event.timed_out = end.timed_out;
  const bool retry = t.attempt < t.options->retries && !cancelled.load(std::memory_order_acquire);
  if (!retry) {
    const std::uint64_t timeout_ms =
        end.timed_out ? static_cast<std::uint64_t>(t.options->timeout.count()) : 0;
    record_failure(t.task, std::move(end.error), t.attempt + 1, timeout_ms);
    if (observers != nullptr) report(t.task, TaskOutcome::kFailed, event, items);
    finish_async(t, 1);
    return;
  }
  event.will_retry = true;
  if (observers != nullptr) report(t.task, TaskOutcome::kFailed, event, items);
  retries.fetch_add(1, std::memory_order_relaxed);
  const auto delay =
      t.options->retry_delay * (std::int64_t{1} << std::min<std::size_t>(t.attempt, 30));
  ++t.attempt;
  if (delay.count() == 0) {
    begin_attempt(t, !t.options->io && IoPool::current_index() == SIZE_MAX);
    return;
  }
  try {
    services.timer->schedule(std::chrono::steady_clock::now() + delay, this,
                             [this, &t] { begin_attempt(t, false); });
  } catch (...) {
    begin_attempt(t, false);
  }
}

// `ran`: 1 when the task's body ran (RunStats::executed counts a retried task once).
void RunState::finish_async(AsyncTask& t, std::size_t ran) noexcept {
  const AsyncUnit handle = *t.handle;  // read before the hand-back: the run may end right after
  finish_work(ran);
  handle.finish();
}

void RunState::cancel() noexcept {
  cancel_requested.store(true, std::memory_order_release);
  stop();
  if (ranks != nullptr) ranks->after_cancel();
}

void RunState::stop() noexcept {
  cancelled.store(true, std::memory_order_release);
  if (services.resources != nullptr) services.resources->cancel(this);
  if (services.timer != nullptr) services.timer->fire_now(this);
}

void RunStateDeleter::operator()(RunState* run) const noexcept { delete run; }

ResultSlot& RunResults::target_slot(std::size_t i) { return run_->slots[run_->targets.at(i)]; }

}  // namespace dagflow::detail
