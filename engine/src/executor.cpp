#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/trace.hpp>
#include <dagflow/graph/keys.hpp>
#include <dagflow/graph/traversal.hpp>

#include "disk_store.hpp"
#include "execution_plan.hpp"
#include "memory_cache.hpp"
#include "task_scope.hpp"
#include "worker_pool.hpp"

namespace dagflow {

namespace detail {

// Everything one compute() needs. Built by the calling thread, then published to the workers
// with `started` (release/acquire); workers report back through `finished_work` (every piece of
// work ends with a release RMW on it; the caller acquires after the wait), so that TSan sees
// every hand-off even though the scheduler in between is not instrumented.
struct RunState {
  std::shared_ptr<GraphState> graph;
  std::vector<NodeId> order;            // local index -> node id, topological
  std::vector<std::uint32_t> local_of;  // node id -> local index
  std::unique_ptr<ResultSlot[]> slots;  // by local index
  std::vector<std::uint32_t> targets;   // local index of each requested target
  ExecutionPlan plan;
  GraphCache* cache = nullptr;  // null when the memory cache is off
  MemoryCache* cache_owner = nullptr;
  DiskStore* disk = nullptr;                 // null when there is no cache_dir
  std::vector<std::optional<Hash128>> keys;  // content keys by local index (with a disk cache)
  std::atomic<std::size_t> disk_writes{0};
  std::atomic<std::size_t> not_persisted{0};
  std::atomic<std::uint64_t> disk_bytes_written{0};
  std::atomic<std::size_t> items_computed{0};
  std::atomic<std::size_t> items_cached{0};

  // What a keyed op task sees of the disk cache while it runs (for map's per-block entries).
  class TaskBlockCache final : public BlockCache {
   public:
    TaskBlockCache(RunState& run, const Hash128& identity) : run_(run), identity_(identity) {}
    [[nodiscard]] const Hash128& op_identity() const noexcept override { return identity_; }
    [[nodiscard]] std::optional<std::string> get(const Hash128& key,
                                                 std::uint64_t fingerprint) const override {
      return run_.disk->get(key, fingerprint);
    }
    void put(const Hash128& key, std::uint64_t fingerprint, std::string_view bytes) const override {
      (void)run_.disk->put(key, fingerprint, bytes);
    }

   private:
    RunState& run_;
    Hash128 identity_;
  };
  RunObserver* observer = nullptr;
  std::uint64_t tick = 0;

  std::atomic<bool> started{false};
  std::atomic<bool> cancelled{false};
  std::atomic<std::size_t> finished_work{0};
  std::atomic<std::size_t> executed{0};

  std::atomic<bool> has_failure{false};
  std::uint32_t failed_task = 0;  // written once, by the thread that set has_failure
  std::exception_ptr failure;

  void acquire_start() const { (void)started.load(std::memory_order_acquire); }

  void record_failure(std::uint32_t task, std::exception_ptr error) {
    bool expected = false;
    if (has_failure.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      failed_task = task;
      failure = std::move(error);
    }
    cancelled.store(true, std::memory_order_release);
  }

  // Runs one task; false if it threw. `credit`: this worker's share of the cache budget.
  bool run_task(std::uint32_t v, BudgetCredit& credit) noexcept {
    const NodeRecord& node = graph->node(order[v]);
    const NodeId* edges = graph->edges(node);
    const TaskInputs inputs{edges, slots.get(), local_of.data()};
    ResultSlot& out = slots[v];
    TaskEvent event;
    if (observer != nullptr) event.start = std::chrono::steady_clock::now();
    std::optional<TaskBlockCache> blocks;
    ItemCounts items;
    try {
      if (disk != nullptr && keys[v].has_value()) {
        Hasher identity;
        identity.add(graph->op_name(order[v])).add(graph->op_version(order[v]));
        blocks.emplace(*this, identity.digest());
      }
      const TaskScope scope(&cancelled, blocks ? &*blocks : nullptr, &items);
      node.vtable->invoke(node.payload, inputs, out);
      if (items.computed + items.cached > 0) {
        items_computed.fetch_add(items.computed, std::memory_order_relaxed);
        items_cached.fetch_add(items.cached, std::memory_order_relaxed);
      }
      if (cache != nullptr && !has_flag(node.flags, NodeFlags::kImpureUpstream)) {
        const std::size_t bytes = node.vtable->retained_bytes(out.raw_value());
        if (bytes != kNotRetainable && credit.spend(bytes)) {
          cache->insert(order[v], node.vtable->share(out), bytes, tick);
        }
      }
      if (disk != nullptr && keys[v].has_value()) persist(v, node, out);
    } catch (...) {
      record_failure(v, std::current_exception());
      if (observer != nullptr) report(v, TaskOutcome::kFailed, event, items);
      return false;
    }
    if (observer != nullptr) report(v, TaskOutcome::kExecuted, event, items);
    out.publish();
    for (std::uint32_t e = 0; e < node.edge_count; ++e) slots[local_of[edges[e]]].release();
    return true;
  }

  void report(std::uint32_t v, TaskOutcome outcome, TaskEvent& event,
              const ItemCounts& items) noexcept {
    event.end = std::chrono::steady_clock::now();
    event.task = order[v];
    event.outcome = outcome;
    event.worker = WorkerPool::current_worker();
    event.items_computed = items.computed;
    event.items_cached = items.cached;
    event.chunks = items.chunks;
    try {
      observer->on_task(event);
    } catch (...) {  // an observer's failure must not fail or corrupt the run
    }
  }

  // Writes a result to the disk cache. A failed write (full disk...) is the store's warning,
  // never the task's failure.
  void persist(std::uint32_t v, const NodeRecord& node, const ResultSlot& out) {
    std::string bytes;
    if (!node.vtable->save(out, bytes)) {
      not_persisted.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (disk->put(*keys[v], node.vtable->fingerprint(), bytes)) {
      disk_writes.fetch_add(1, std::memory_order_relaxed);
      disk_bytes_written.fetch_add(bytes.size(), std::memory_order_relaxed);
    }
  }

  // Runs chains [begin, end) one after another; returns the number of task bodies run.
  std::size_t run_chains(std::size_t begin, std::size_t end) noexcept {
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

  void finish_work(std::size_t ran) noexcept {
    executed.fetch_add(ran, std::memory_order_relaxed);
    finished_work.fetch_add(1, std::memory_order_acq_rel);
  }

  static void run_chain_range(void* context, std::size_t begin, std::size_t end) {
    auto* run = static_cast<RunState*>(context);
    run->acquire_start();
    run->finish_work(run->run_chains(begin, end));
  }

  static bool run_unit(void* context, std::uint32_t unit) {
    auto* run = static_cast<RunState*>(context);
    run->acquire_start();
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
      WorkerPool::parallel_for(
          count,
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
};

void RunStateDeleter::operator()(RunState* run) const noexcept { delete run; }

ResultSlot& RunResults::target_slot(std::size_t i) { return run_->slots[run_->targets.at(i)]; }

}  // namespace detail

namespace {
void warn_on_stderr(std::string_view message) {
  std::fprintf(stderr, "dagflow: warning: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

// Passes every event to two observers (the caller's and the trace of `trace_path`).
class BothObservers final : public RunObserver {
 public:
  BothObservers(std::shared_ptr<RunObserver> first, std::shared_ptr<RunObserver> second)
      : first_(std::move(first)), second_(std::move(second)) {}
  void on_run_start(const RunView& run) override {
    call([&](RunObserver& o) { o.on_run_start(run); });
  }
  void on_task(const TaskEvent& event) override {
    call([&](RunObserver& o) { o.on_task(event); });
  }
  void on_run_end() override {
    call([&](RunObserver& o) { o.on_run_end(); });
  }

 private:
  template <class F>
  void call(F&& f) {
    try {  // one observer's failure must not keep the other from its events
      f(*first_);
    } catch (...) {
    }
    f(*second_);
  }
  std::shared_ptr<RunObserver> first_;
  std::shared_ptr<RunObserver> second_;
};

// What observers see of a run.
class RunViewOf final : public RunView {
 public:
  RunViewOf(const detail::GraphState& graph, const std::vector<std::optional<Hash128>>& keys,
            std::size_t to_run, std::size_t cached, std::size_t threads)
      : graph_(graph), keys_(keys), to_run_(to_run), cached_(cached), threads_(threads) {}
  [[nodiscard]] std::size_t to_run() const noexcept override { return to_run_; }
  [[nodiscard]] std::size_t cached() const noexcept override { return cached_; }
  [[nodiscard]] std::size_t threads() const noexcept override { return threads_; }
  [[nodiscard]] std::string label(NodeId task) const override { return graph_.label(task); }
  [[nodiscard]] std::string_view op_name(NodeId task) const override {
    return graph_.op_name(task);
  }
  [[nodiscard]] std::optional<Hash128> key(NodeId task) const override {
    return task < keys_.size() ? keys_[task] : std::nullopt;
  }

 private:
  const detail::GraphState& graph_;
  const std::vector<std::optional<Hash128>>& keys_;  // by node id; empty without a disk cache
  std::size_t to_run_;
  std::size_t cached_;
  std::size_t threads_;
};
}  // namespace

struct Executor::Impl {
  explicit Impl(ExecutorOptions opts)
      : options(std::move(opts)), pool(options.threads), cache(options.memory_cache_bytes) {
    options.threads = pool.threads();
    if (!options.log) options.log = warn_on_stderr;
    if (!options.cache_dir.empty()) {
      disk = std::make_unique<detail::DiskStore>(
          options.cache_dir, [log = options.log](const std::string& m) { log(m); });
    }
    observer = options.observer;
    if (!options.trace_path.empty()) {
      trace = std::make_shared<TraceRecorder>();
      if (observer) {
        observer = std::make_shared<BothObservers>(observer, trace);
      } else {
        observer = trace;
      }
    }
  }
  // Rewrites the trace file after a run (failed or not).
  void write_trace() const {
    if (!trace) return;
    try {
      trace->write_chrome_trace(options.trace_path);
    } catch (const Error& e) {
      options.log(e.what());
    }
  }
  ExecutorOptions options;
  detail::WorkerPool pool;
  detail::MemoryCache cache;
  std::unique_ptr<detail::DiskStore> disk;
  std::shared_ptr<RunObserver> observer;  // the caller's, the trace's, or both
  std::shared_ptr<TraceRecorder> trace;   // with trace_path
  mutable std::mutex stats_mutex;
  RunStats last_stats;
};

Executor::Executor() : Executor(ExecutorOptions{}) {}
Executor::Executor(ExecutorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Executor::~Executor() = default;

const ExecutorOptions& Executor::options() const noexcept { return impl_->options; }

CacheStats Executor::memory_cache_stats() const {
  const detail::MemoryCacheCounts c = impl_->cache.counts();
  return CacheStats{c.entries, c.bytes};
}

void Executor::clear_memory_cache() { impl_->cache.clear(); }

CacheStats Executor::disk_cache_stats() const {
  if (impl_->disk == nullptr) return {};
  const detail::DiskUsage u = impl_->disk->usage();
  return CacheStats{u.entries, static_cast<std::size_t>(u.bytes)};
}

CacheStats Executor::prune_disk_cache(std::uint64_t max_bytes) {
  if (impl_->disk == nullptr) return {};
  const detail::DiskUsage u = impl_->disk->prune(max_bytes);
  return CacheStats{u.entries, static_cast<std::size_t>(u.bytes)};
}

RunStats Executor::last_run_stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->last_stats;
}

DryRun Executor::dry_run(std::span<const DelayedBase* const> targets) {
  DryRun dry;
  (void)run(targets, &dry);
  return dry;
}

namespace {

// What a run finds in the caches before it starts: needed_tasks asks lookup() once about each
// task the targets need, and a hit keeps that task's result and prunes its upstream.
struct CacheLookup {
  detail::GraphCache* cache = nullptr;   // set when the memory cache has entries for this graph
  detail::GraphCache* memory = nullptr;  // set when the memory cache is on
  detail::MemoryCache* memory_owner = nullptr;
  const detail::GraphState* graph = nullptr;
  std::uint64_t tick = 0;
  detail::DiskStore* disk = nullptr;
  const std::vector<std::optional<Hash128>>* keys = nullptr;  // by node id, with a disk cache
  const std::function<void(std::string_view)>* log = nullptr;
  std::vector<std::pair<NodeId, std::shared_ptr<const void>>> found{};
  std::vector<TaskOutcome> found_in{};  // memory or disk, for each of `found`
  std::size_t memory_hits = 0;
  std::size_t disk_hits = 0;
  std::uint64_t disk_bytes_read = 0;

  // A value loaded from disk is also kept in memory (when it fits), so that the next compute()
  // of this Executor finds it there.
  void keep_in_memory(NodeId id, const detail::NodeRecord& node,
                      const std::shared_ptr<const void>& value) {
    if (memory == nullptr) return;
    const std::size_t bytes = node.vtable->retained_bytes(value.get());
    if (bytes != detail::kNotRetainable && memory_owner->reserve(bytes)) {
      memory->insert(id, value, bytes, tick);
    }
  }

  // Is the result of `id` at hand? From memory, else from disk (a verified entry whose bytes
  // load as the task's type; anything else is a miss).
  bool lookup(NodeId id) {
    const detail::NodeRecord& node = graph->node(id);
    if (detail::has_flag(node.flags, detail::NodeFlags::kImpureUpstream)) return false;
    if (cache != nullptr) {
      if (auto value = cache->find(id, tick)) {
        found.emplace_back(id, std::move(value));
        found_in.push_back(TaskOutcome::kMemoryHit);
        ++memory_hits;
        return true;
      }
    }
    if (disk == nullptr || !(*keys)[id].has_value()) return false;
    std::optional<std::string> bytes = disk->get(*(*keys)[id], node.vtable->fingerprint());
    if (!bytes) return false;
    try {
      auto value = node.vtable->load(*bytes);
      if (value == nullptr) return false;
      keep_in_memory(id, node, value);
      found.emplace_back(id, std::move(value));
      found_in.push_back(TaskOutcome::kDiskHit);
    } catch (const Error& e) {
      (*log)(fmt::format("cache entry for task#{} did not load ({}): recomputing", id, e.what()));
      return false;
    }
    ++disk_hits;
    disk_bytes_read += bytes->size();
    return true;
  }

  // needed_tasks' `available` callback.
  static bool lookup_of(void* self, NodeId id) {
    return static_cast<CacheLookup*>(self)->lookup(id);
  }
};

// The id of each target, once all are known to come from one live Graph (which `run` then keeps
// alive).
std::vector<NodeId> resolve_targets(detail::RunState& run,
                                    std::span<const DelayedBase* const> targets) {
  run.graph = detail::graph_of(*targets.front());
  std::vector<NodeId> target_ids;
  target_ids.reserve(targets.size());
  for (const DelayedBase* t : targets) {
    if (detail::graph_of(*t) != run.graph) {
      throw std::invalid_argument("the targets of one compute() must come from one Graph");
    }
    target_ids.push_back(t->id());
  }
  return target_ids;
}

// The content key of every task the targets could need, by node id. A key depends on the keys
// upstream, so this looks at the whole upstream once, cache hits or not.
std::vector<std::optional<Hash128>> keys_by_node(const detail::GraphState& graph,
                                                 std::span<const NodeId> target_ids) {
  const std::vector<NodeId> upstream = detail::needed_tasks(graph, target_ids);
  std::vector<std::uint32_t> position(std::size_t{upstream.back()} + 1, UINT32_MAX);
  for (std::uint32_t i = 0; i < upstream.size(); ++i) position[upstream[i]] = i;
  const auto keys = detail::task_keys(graph, upstream, position.data());
  std::vector<std::optional<Hash128>> keys_by_id(position.size());
  for (std::uint32_t i = 0; i < upstream.size(); ++i) keys_by_id[upstream[i]] = keys[i];
  return keys_by_id;
}

// A dry run's answer: the cache hits, and the rest of the culled tasks in run order.
void fill_dry_run(DryRun& dry, const std::vector<NodeId>& order, const CacheLookup& hits) {
  std::vector<std::uint8_t> is_hit(std::size_t{order.back()} + 1, 0);
  for (const auto& hit : hits.found) {
    dry.cached.push_back(hit.first);
    is_hit[hit.first] = 1;
  }
  for (NodeId id : order) {
    if (is_hit[id] == 0) dry.to_run.push_back(id);
  }
}

// Indexes the culled tasks (run.order) densely, counts each result's readers, gives the cache
// hits' values to their slots, and plans the flow graph.
void prepare_run(detail::RunState& run, std::span<const NodeId> target_ids, CacheLookup& hits,
                 const std::vector<std::optional<Hash128>>& keys_by_id, bool fuse_tasks) {
  const detail::GraphState& graph = *run.graph;
  const std::size_t n = run.order.size();
  run.local_of.assign(std::size_t{run.order.back()} + 1, UINT32_MAX);
  for (std::uint32_t v = 0; v < n; ++v) run.local_of[run.order[v]] = v;
  std::vector<std::uint8_t> prefilled;  // cache hits: their upstream was not culled in
  if (!hits.found.empty()) {
    prefilled.assign(n, 0);
    for (const auto& hit : hits.found) prefilled[run.local_of[hit.first]] = 1;
  }
  std::vector<std::int32_t> holders(n, 0);
  for (std::uint32_t v = 0; v < n; ++v) {
    if (!prefilled.empty() && prefilled[v] != 0) continue;
    const detail::NodeRecord& node = graph.node(run.order[v]);
    const NodeId* edges = graph.edges(node);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) ++holders[run.local_of[edges[e]]];
  }
  for (NodeId id : target_ids) {
    run.targets.push_back(run.local_of[id]);
    ++holders[run.local_of[id]];
  }
  run.slots = std::make_unique<detail::ResultSlot[]>(n);
  for (std::uint32_t v = 0; v < n; ++v) run.slots[v].set_holders(holders[v]);
  for (auto& [id, value] : hits.found) run.slots[run.local_of[id]].adopt(std::move(value));
  if (hits.disk != nullptr) {
    run.disk = hits.disk;
    run.keys.resize(n);
    for (std::uint32_t v = 0; v < n; ++v) run.keys[v] = keys_by_id[run.order[v]];
  }
  run.plan =
      detail::plan_execution(graph, run.order, run.local_of.data(), holders, fuse_tasks, prefilled);
}

// Tells the observer that the run starts, then reports the cache hits. As on the workers, an
// observer's failure does not fail the run.
void announce_start(RunObserver& observer, const RunView& view, const CacheLookup& hits) {
  try {
    observer.on_run_start(view);
    const auto now = std::chrono::steady_clock::now();  // after the start: a trace's origin
    for (std::size_t i = 0; i < hits.found.size(); ++i) {
      observer.on_task(TaskEvent{
          .task = hits.found[i].first, .outcome = hits.found_in[i], .start = now, .end = now});
    }
  } catch (...) {
  }
}

RunStats stats_of(const detail::RunState& run, const CacheLookup& hits, std::size_t threads,
                  std::chrono::steady_clock::time_point start) {
  RunStats stats;
  stats.tasks = run.order.size();
  stats.executed = run.executed.load(std::memory_order_relaxed);
  stats.flow_nodes = run.plan.units();
  stats.memory_hits = hits.memory_hits;
  stats.disk_hits = hits.disk_hits;
  stats.disk_bytes_read = hits.disk_bytes_read;
  stats.disk_writes = run.disk_writes.load(std::memory_order_relaxed);
  stats.not_persisted = run.not_persisted.load(std::memory_order_relaxed);
  stats.disk_bytes_written = run.disk_bytes_written.load(std::memory_order_relaxed);
  stats.items_computed = run.items_computed.load(std::memory_order_relaxed);
  stats.items_cached = run.items_cached.load(std::memory_order_relaxed);
  stats.threads = threads;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

// Rethrows the run's first failure, if any, as a TaskError naming the task (and, for map and
// reduce, the item).
void rethrow_failure(const detail::RunState& run) {
  if (!run.has_failure.load(std::memory_order_acquire)) return;
  const NodeId failed = run.order[run.failed_task];
  try {
    std::rethrow_exception(run.failure);
  } catch (const detail::ItemFailure& item) {  // from map or reduce: name the item too
    throw TaskError(run.graph->label(failed), failed, item.error, item.index);
  } catch (...) {
    throw TaskError(run.graph->label(failed), failed, run.failure);
  }
}

}  // namespace

detail::RunResults Executor::run(std::span<const DelayedBase* const> targets, DryRun* dry) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<detail::RunState, detail::RunStateDeleter> run(new detail::RunState);
  if (targets.empty()) return detail::RunResults(std::move(run));
  const std::vector<NodeId> target_ids = resolve_targets(*run, targets);
  const detail::GraphState& graph = *run->graph;

  // Cull to what the targets need: a cached result prunes its upstream.
  CacheLookup hits{.memory_owner = &impl_->cache,
                   .graph = &graph,
                   .disk = impl_->disk.get(),
                   .log = &impl_->options.log};
  std::shared_ptr<detail::GraphCache> cache;  // this graph's part of the memory cache
  if (impl_->cache.enabled()) {
    cache = impl_->cache.graph_cache(run->graph);
    run->cache = cache.get();
    run->cache_owner = &impl_->cache;
    run->tick = hits.tick = impl_->cache.next_tick();
    hits.memory = cache.get();
    if (cache->entries() > 0) hits.cache = cache.get();
  }
  std::vector<std::optional<Hash128>> keys_by_id;  // with a disk cache
  if (hits.disk != nullptr) {
    keys_by_id = keys_by_node(graph, target_ids);
    hits.keys = &keys_by_id;
  }
  const bool look_up = hits.cache != nullptr || hits.disk != nullptr;
  run->order =
      detail::needed_tasks(graph, target_ids, look_up ? &CacheLookup::lookup_of : nullptr, &hits);
  if (dry != nullptr) {
    fill_dry_run(*dry, run->order, hits);
    if (cache != nullptr) impl_->cache.after_run();
    return detail::RunResults(std::move(run));
  }
  prepare_run(*run, target_ids, hits, keys_by_id, impl_->options.fuse_tasks);

  RunObserver* observer = impl_->observer.get();
  const RunViewOf view(graph, keys_by_id, run->order.size() - hits.found.size(), hits.found.size(),
                       impl_->options.threads);
  if (observer != nullptr) {
    run->observer = observer;
    announce_start(*observer, view, hits);
  }

  run->started.store(true, std::memory_order_release);
  const detail::UnitGraph units{run->plan.units(), run->plan.pred_begin.data(),
                                run->plan.preds.data(), &detail::RunState::run_unit, run.get()};
  impl_->pool.run(units);
  (void)run->finished_work.load(std::memory_order_acquire);  // see RunState
  if (cache != nullptr) impl_->cache.after_run();
  if (observer != nullptr) {
    try {
      observer->on_run_end();
    } catch (...) {
    }
    impl_->write_trace();
  }
  const RunStats stats = stats_of(*run, hits, impl_->options.threads, start);
  {
    std::lock_guard lock(impl_->stats_mutex);
    impl_->last_stats = stats;
  }
  rethrow_failure(*run);
  return detail::RunResults(std::move(run));
}

}  // namespace dagflow
