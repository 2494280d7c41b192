#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <sys/resource.h>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/trace.hpp>
#include <dagflow/graph/keys.hpp>
#include <dagflow/graph/traversal.hpp>

#include "cluster_link.hpp"
#include "cycle_clock.hpp"
#include "disk_store.hpp"
#include "memory_cache.hpp"
#include "observer_list.hpp"
#include "run_state.hpp"
#include "worker_pool.hpp"

namespace dagflow {

namespace {

// The memory cache keeps a result only when its task ran for at least this long (or it is a
// target): keeping one costs a few hundred nanoseconds (copy, table entry, eviction, memory),
// so anything cheaper is faster to compute again than to keep.
constexpr std::uint64_t kKeepAfterUs = 2;

using Clock = std::chrono::steady_clock;
using RunPtr = std::unique_ptr<detail::RunState, detail::RunStateDeleter>;

void warn_on_stderr(std::string_view message) {
  std::fprintf(stderr, "dagflow: warning: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

// What observers see of a run.
class RunViewOf final : public RunView {
 public:
  RunViewOf(const detail::RunState& run, std::size_t cached, std::size_t threads)
      : run_(run), cached_(cached), threads_(threads) {}
  [[nodiscard]] std::size_t to_run() const noexcept override { return run_.order.size() - cached_; }
  [[nodiscard]] std::size_t cached() const noexcept override { return cached_; }
  [[nodiscard]] std::size_t threads() const noexcept override { return threads_; }
  [[nodiscard]] std::string label(NodeId task) const override { return run_.graph->label(task); }
  [[nodiscard]] std::string_view op_name(NodeId task) const override {
    return run_.graph->op_name(task);
  }
  [[nodiscard]] std::optional<Hash128> key(NodeId task) const override {
    return task < run_.keys.size() ? run_.keys[task] : std::nullopt;
  }

 private:
  const detail::RunState& run_;
  std::size_t cached_;
  std::size_t threads_;
};

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
  std::vector<std::pair<NodeId, detail::KeptValue>> found{};
  std::vector<TaskOutcome> found_in{};  // memory or disk, for each of `found`
  std::size_t memory_hits = 0;
  std::size_t disk_hits = 0;
  std::uint64_t disk_bytes_read = 0;

  // A value loaded from disk is also kept in memory (when it fits), so that the next compute()
  // of this Executor finds it there.
  void keep_in_memory(NodeId id, const detail::NodeRecord& node, const detail::KeptValue& value) {
    if (memory == nullptr) return;
    const std::size_t bytes = node.vtable->retained_bytes(value.data());
    if (bytes == detail::kNotRetainable) return;
    const std::size_t cost = detail::MemoryCache::cost(bytes, value.is_inline());
    if (memory_owner->reserve(cost)) memory->insert(id, value, cost, tick);
  }

  // Is the result of `id` at hand? From memory, else from disk (a verified entry whose bytes
  // load as the task's type; anything else is a miss).
  bool lookup(NodeId id) {
    const detail::NodeRecord& node = graph->node(id);
    if (detail::has_flag(node.flags,
                         detail::NodeFlags::kImpureUpstream | detail::NodeFlags::kRefresh)) {
      return false;
    }
    if (cache != nullptr) {
      if (auto value = cache->find(id, tick); !value.empty()) {
        found.emplace_back(id, std::move(value));
        found_in.push_back(TaskOutcome::kMemoryHit);
        ++memory_hits;
        return true;
      }
    }
    if (disk == nullptr || !(*keys)[id].has_value()) return false;
    return load_from_disk(id, node);
  }

  bool load_from_disk(NodeId id, const detail::NodeRecord& node) {
    std::optional<std::string> bytes = disk->get(*(*keys)[id], node.vtable->fingerprint());
    if (!bytes) return false;
    try {
      detail::KeptValue value = node.vtable->load(*bytes);
      if (value.empty()) return false;
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

// The planning half of a compute(), which dry_run() stops after: the targets resolved, the keys
// computed, the needed tasks culled and looked up in the caches.
struct PlannedRun {
  RunPtr run{new detail::RunState};
  std::vector<NodeId> target_ids;
  std::shared_ptr<detail::GraphCache> cache;  // this graph's part of the memory cache
  CacheLookup hits;
  std::size_t not_keyed = 0;        // RunStats::not_keyed
  std::vector<std::uint8_t> cut{};  // across ranks, by node id: results some rank found cached
};

// Phase "resolve targets": the id of each target, once all are known to come from one live
// Graph (which the run then keeps alive).
void resolve_targets(PlannedRun& p, std::span<const DelayedBase* const> targets) {
  p.run->graph = detail::graph_of(*targets.front());
  p.target_ids.reserve(targets.size());
  for (const DelayedBase* t : targets) {
    if (detail::graph_of(*t) != p.run->graph) {
      throw std::invalid_argument("the targets of one compute() must come from one Graph");
    }
    p.target_ids.push_back(t->id());
  }
}

// One past the highest id in `order` (the needed tasks, topologically sorted: the last one is
// the highest unless Graph::after ordered a task after a younger one).
std::size_t id_bound(const detail::GraphState& graph, const std::vector<NodeId>& order) {
  if (graph.ids_topological()) return std::size_t{order.back()} + 1;
  return std::size_t{*std::max_element(order.begin(), order.end())} + 1;
}

// Phase "key": the content key of every task the targets could need, by node id (the one index
// space of keys). A key depends on the keys upstream, so this looks at the whole upstream once,
// cache hits or not.
std::vector<std::optional<Hash128>> keys_by_node(const detail::GraphState& graph,
                                                 std::span<const NodeId> target_ids) {
  const std::vector<NodeId> upstream = detail::needed_tasks(graph, target_ids);
  std::vector<std::uint32_t> position(id_bound(graph, upstream), UINT32_MAX);
  for (std::uint32_t i = 0; i < upstream.size(); ++i) position[upstream[i]] = i;
  const auto keys = detail::task_keys(graph, upstream, position.data());
  std::vector<std::optional<Hash128>> keys_by_id(position.size());
  for (std::uint32_t i = 0; i < upstream.size(); ++i) keys_by_id[upstream[i]] = keys[i];
  return keys_by_id;
}

// Needed tasks without a content key, impure ones aside. With a disk cache the keys say it (a
// hash_state that returned false included); without one, the flags known when tasks were added.
std::size_t count_not_keyed(const detail::RunState& run) {
  std::size_t count = 0;
  for (const NodeId id : run.order) {
    const detail::NodeFlags flags = run.graph->node(id).flags;
    if (detail::has_flag(flags, detail::NodeFlags::kImpureUpstream)) continue;
    const bool unkeyed = run.disk != nullptr ? !run.keys[id].has_value()
                                             : detail::has_flag(flags, detail::NodeFlags::kUnkeyed);
    if (unkeyed) ++count;
  }
  return count;
}

void warn_not_keyed(const std::function<void(std::string_view)>& log, std::size_t not_keyed,
                    std::size_t tasks) {
  log(fmt::format(
      "{} of the {} tasks of this compute() have no content key, so the disk cache cannot keep "
      "them or anything computed from them: name their functions with dagflow::op(name, fn), and "
      "give a callable with captured state a `bool hash_state(dagflow::Hasher&) const` member or "
      "a dagflow::Hash specialisation",
      not_keyed, tasks));
}

// A move-only result can be moved to one reader only. Finds, before anything runs, one that a
// by-value reader (a task, or compute() for a target) would have to share with another reader.
// O(targets^2) for move-only targets, which are few.
void check_move_only_readers(const detail::RunState& run, std::span<const std::uint32_t> takers,
                             std::span<const std::int32_t> holders) {
  const detail::GraphState& graph = *run.graph;
  const auto refuse = [&](std::uint32_t u, const std::string& reader) {
    const NodeId producer = run.order[u];
    throw GraphError(fmt::format(
        "task '{}' returns a move-only result that {} takes by value, but {} readers want it: "
        "it can be moved to one reader only (take it by const& in the others, or request it once)",
        graph.label(producer), reader, holders[u]));
  };
  const auto is_move_only = [&](std::uint32_t u) {
    return detail::has_flag(graph.node(run.order[u]).flags, detail::NodeFlags::kMoveOnlyResult);
  };
  for (const std::uint32_t v : takers) {
    const detail::NodeRecord& node = graph.node(run.order[v]);
    const NodeId* edges = graph.edges(node);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) {
      const std::uint32_t u = run.local_of[edges[e]];
      if (is_move_only(u) && holders[u] > 1 && node.vtable->takes_by_value(node.payload, e)) {
        refuse(u, fmt::format("task '{}'", graph.label(run.order[v])));
      }
    }
  }
  // compute() takes its targets after every task is done, so const& readers do not matter there;
  // the same target requested twice does.
  for (std::size_t i = 0; i < run.targets.size(); ++i) {
    const std::uint32_t u = run.targets[i];
    if (!is_move_only(u)) continue;
    for (std::size_t j = i + 1; j < run.targets.size(); ++j) {
      if (run.targets[j] == u) refuse(u, "compute() (requested more than once)");
    }
  }
}

// Indexes the culled tasks densely (RunState::local_of).
void index_tasks(detail::RunState& run) {
  run.local_of.assign(id_bound(*run.graph, run.order), UINT32_MAX);
  for (std::uint32_t v = 0; v < run.order.size(); ++v) run.local_of[run.order[v]] = v;
}

// Phase "fuse maps" (ExecutorOptions::fuse_maps): a map whose only reader is a map, reduce or
// map_reduce reading its items runs inside that reader, which computes them as it goes. Not when
// the map is a target, has another reader (an ordering-only one included), has options, or is
// at hand already. Readers are counted on all ranks alike, so every rank fuses the same maps.
void fuse_maps(detail::RunState& run, std::span<const std::uint8_t> prefilled) {
  const detail::GraphState& graph = *run.graph;
  const std::size_t n = run.order.size();
  const auto at_hand = [&](std::uint32_t v) { return !prefilled.empty() && prefilled[v] != 0; };
  std::vector<std::uint32_t> readers(n, 0);
  for (std::uint32_t v = 0; v < n; ++v) {
    if (at_hand(v)) continue;
    const detail::NodeRecord& node = graph.node(run.order[v]);
    const NodeId* edges = graph.edges(node);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) ++readers[run.local_of[edges[e]]];
  }
  for (const std::uint32_t t : run.targets) ++readers[t];
  for (std::uint32_t v = 0; v < n; ++v) {
    const detail::NodeRecord& node = graph.node(run.order[v]);
    const detail::FusionVTable* reader = graph.fusion(run.order[v]);
    if (at_hand(v) || reader == nullptr || reader->consumes == nullptr) continue;
    const std::uint32_t u = run.local_of[graph.edges(node)[0]];
    const detail::FusionVTable* map = graph.fusion(run.order[u]);
    if (map == nullptr || map->produces == nullptr || *map->produces != *reader->consumes ||
        readers[u] != 1 || at_hand(u) ||
        detail::has_flag(graph.node(run.order[u]).flags, detail::NodeFlags::kHasOptions)) {
      continue;
    }
    if (run.fused_input.empty()) {
      run.fused_input.assign(n, detail::RunState::kNotFused);
      run.fused_away.assign(n, 0);
    }
    run.fused_input[v] = u;
    run.fused_away[u] = 1;
  }
}

// Phase "prepare slots": counts each result's readers, gives the cache hits' values to their
// slots, and plans the flow graph. `prefilled` (by local index): tasks whose results are at hand
// (default: the hits found here). Across ranks, only readers that run on this rank count.
void prepare_slots(PlannedRun& p, const ExecutorOptions& options,
                   std::vector<std::uint8_t> prefilled = {}) {
  detail::RunState& run = *p.run;
  const detail::GraphState& graph = *run.graph;
  const std::size_t n = run.order.size();
  if (run.local_of.empty()) index_tasks(run);
  if (prefilled.empty() && !p.hits.found.empty()) {  // their upstream was not culled in
    prefilled.assign(n, 0);
    for (const auto& hit : p.hits.found) prefilled[run.local_of[hit.first]] = 1;
  }
  std::vector<std::int32_t> holders(n, 0);
  std::vector<std::uint32_t> takers;  // tasks that take a move-only result by value
  for (std::uint32_t v = 0; v < n; ++v) {
    if (!prefilled.empty() && prefilled[v] != 0) continue;
    if (run.ranks != nullptr && !run.ranks->runs_here(v)) continue;
    const detail::NodeRecord& node = graph.node(run.order[v]);
    const NodeId* edges = graph.edges(node);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) ++holders[run.local_of[edges[e]]];
    if (detail::has_flag(node.flags, detail::NodeFlags::kTakesMoveOnly)) takers.push_back(v);
  }
  for (NodeId id : p.target_ids) {
    run.targets.push_back(run.local_of[id]);
    ++holders[run.local_of[id]];
  }
  check_move_only_readers(run, takers, holders);
  if (options.fuse_maps && graph.has_fusion()) fuse_maps(run, prefilled);
  run.slots = util::LargeVector<detail::ResultSlot>(n);
  for (std::uint32_t v = 0; v < n; ++v) run.slots[v].set_holders(holders[v]);
  for (const std::uint32_t t : run.targets) run.slots[t].mark_target();
  for (const auto& [id, value] : p.hits.found) run.slots[run.local_of[id]].adopt(value);
  const std::span<const std::uint64_t> groups =
      run.ranks != nullptr ? run.ranks->groups() : std::span<const std::uint64_t>{};
  run.plan = detail::plan_execution(graph, run.order, run.local_of.data(), holders,
                                    options.fuse_tasks, options.threads, prefilled, groups);
}

// The needs of a task with options, checked against the Executor's resources before anything
// runs.
std::vector<detail::ResourceNeed> resource_needs(const detail::GraphState& graph, NodeId task,
                                                 const TaskOptions& options,
                                                 const detail::ResourceBroker& broker) {
  std::vector<detail::ResourceNeed> needs;
  for (const auto& [name, units] : options.resources) {
    const std::optional<std::uint32_t> index = broker.index_of(name);
    if (!index) {
      throw GraphError(fmt::format(
          "task '{}' needs resource '{}', which this Executor does not declare (give it a "
          "capacity in ExecutorOptions::resources)",
          graph.label(task), name));
    }
    if (units > broker.capacity(*index)) {
      throw GraphError(fmt::format(
          "task '{}' needs {} units of resource '{}', more than its capacity of {}: it could "
          "never run",
          graph.label(task), units, name, broker.capacity(*index)));
    }
    if (units > 0) needs.push_back(detail::ResourceNeed{*index, units});
  }
  return needs;
}

// Phase "prepare slots", continued: the state of each task with options (an async unit).
void prepare_async_tasks(detail::RunState& run, const detail::ResourceBroker& broker) {
  const detail::ExecutionPlan& plan = run.plan;
  if (plan.async_units.empty()) return;
  run.async_of_unit.assign(plan.units(), UINT32_MAX);
  std::size_t count = 0;
  for (const std::uint8_t a : plan.async_units) count += a;
  run.async_tasks = std::vector<detail::AsyncTask>(count);
  std::size_t next = 0;
  for (std::uint32_t u = 0; u < plan.units(); ++u) {
    if (plan.async_units[u] == 0) continue;
    detail::AsyncTask& t = run.async_tasks[next];
    t.task = plan.chain_tasks[plan.chain_begin[plan.unit_begin[u]]];
    t.unit = u;
    t.options = run.graph->options(run.order[t.task]);
    t.needs = resource_needs(*run.graph, run.order[t.task], *t.options, broker);
    run.async_of_unit[u] = static_cast<std::uint32_t>(next++);
  }
}

// Phase "start observers": tells them the run starts, then reports the cache hits.
void start_observers(const detail::ObserverList& observers, const RunView& view,
                     const CacheLookup& hits) {
  observers.on_run_start(view);
  const auto now = Clock::now();  // after the start: a trace's origin
  for (std::size_t i = 0; i < hits.found.size(); ++i) {
    observers.on_task(TaskEvent{
        .task = hits.found[i].first, .outcome = hits.found_in[i], .start = now, .end = now});
  }
}

// Phase "collect stats".
RunStats stats_of(const PlannedRun& p, std::size_t threads, Clock::time_point start) {
  const detail::RunState& run = *p.run;
  RunStats stats;
  stats.tasks = run.order.size();
  stats.executed = run.executed.load(std::memory_order_relaxed);
  stats.flow_nodes = run.plan.units();
  stats.memory_hits = p.hits.memory_hits;
  stats.disk_hits = p.hits.disk_hits;
  stats.disk_bytes_read = p.hits.disk_bytes_read;
  stats.disk_writes = run.disk_writes.load(std::memory_order_relaxed);
  stats.not_persisted = run.not_persisted.load(std::memory_order_relaxed);
  stats.disk_bytes_written = run.disk_bytes_written.load(std::memory_order_relaxed);
  stats.items_executed = run.items_computed.load(std::memory_order_relaxed);
  stats.items_computed = stats.items_executed;  // the deprecated name
  stats.items_cached = run.items_cached.load(std::memory_order_relaxed);
  stats.threads = threads;
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stats.not_keyed = p.not_keyed;
  stats.retries = run.retries.load(std::memory_order_relaxed);
  stats.timeouts = run.timeouts.load(std::memory_order_relaxed);
  stats.io_tasks = run.io_tasks.load(std::memory_order_relaxed);
  stats.resource_wait_seconds =
      static_cast<double>(run.resource_wait_ns.load(std::memory_order_relaxed)) * 1e-9;
  stats.failed = run.failures.size();
  stats.not_run = stats.tasks - stats.memory_hits - stats.disk_hits - stats.executed;
  stats.disk_write_failures = run.disk_write_failures.load(std::memory_order_relaxed);
  stats.fused = static_cast<std::size_t>(
      std::count(run.fused_away.begin(), run.fused_away.end(), std::uint8_t{1}));
  return stats;
}

// Throws a recorded failure as the error that names its task: a TimeoutError for a timeout, else
// a TaskError (naming the item, for map and reduce).
[[noreturn]] void throw_task_error(const detail::RunState& run, const detail::Failure& f) {
  const NodeId failed = run.order[f.task];
  std::string label = run.graph->label(failed);
  if (f.timeout_ms > 0) throw TimeoutError(label, failed, f.timeout_ms, f.attempts);
  try {
    std::rethrow_exception(f.error);
  } catch (const detail::ItemFailure& item) {
    throw TaskError(std::move(label), failed, item.error, item.index, f.attempts);
  } catch (...) {
    throw TaskError(std::move(label), failed, f.error, std::nullopt, f.attempts);
  }
}

// Phase "rethrow": Cancelled for a cancelled run; else the first failure, or with keep_going all
// of them as a RunError.
void rethrow_failure(const detail::RunState& run, const RunStats& stats) {
  if (run.cancel_requested.load(std::memory_order_acquire)) {
    throw Cancelled(fmt::format(
        "cancelled: {} of {} tasks finished ({} from the caches), {} not run", stats.executed,
        stats.tasks, stats.memory_hits + stats.disk_hits, stats.not_run));
  }
  if (!run.has_failure.load(std::memory_order_acquire)) return;
  if (!run.keep_going) throw_task_error(run, run.failures.front());
  std::vector<TaskError> failures;
  failures.reserve(run.failures.size());
  for (const detail::Failure& f : run.failures) {
    try {
      throw_task_error(run, f);
    } catch (const TaskError& e) {
      failures.push_back(e);  // a TimeoutError kept as its TaskError (timed_out() says so)
    }
  }
  throw RunError(std::move(failures), stats.not_run);
}

// ---- across ranks -------------------------------------------------------------------------------

// CPU seconds the process has used (a rank's busy time).
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The lookups a rank makes across ranks: only of the tasks whose results it holds (it runs them,
// or rank 0 for a map or reduce) and could send.
struct RankLookup {
  CacheLookup* hits;
  const std::vector<std::uint32_t>* owners;  // by node id (place_tasks)
  std::size_t rank;

  static bool lookup_of(void* self, NodeId id) {
    const auto* l = static_cast<RankLookup*>(self);
    if (detail::RankRun::holder((*l->owners)[id]) != l->rank) return false;
    if (!l->hits->graph->node(id).vtable->transferable) return false;
    return l->hits->lookup(id);
  }
};

// Bits over `upstream`: 1 for the tasks found in this rank's caches.
std::string hit_bits(std::span<const NodeId> upstream, const CacheLookup& hits) {
  std::string bits((upstream.size() + 7) / 8, '\0');
  std::unordered_map<NodeId, std::uint32_t> pos;
  for (const auto& hit : hits.found) pos.emplace(hit.first, 0);
  for (std::size_t i = 0; i < upstream.size(); ++i) {
    if (pos.contains(upstream[i])) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
  }
  return bits;
}

// Forgets the hits this rank found that another rank's hit made unnecessary (culled away).
void drop_unused_hits(CacheLookup& hits, const std::vector<NodeId>& order) {
  std::unordered_map<NodeId, bool> needed;
  for (const NodeId id : order) needed.emplace(id, true);
  std::size_t kept = 0;
  hits.memory_hits = 0;
  hits.disk_hits = 0;
  for (std::size_t i = 0; i < hits.found.size(); ++i) {
    if (!needed.contains(hits.found[i].first)) continue;
    (hits.found_in[i] == TaskOutcome::kMemoryHit ? hits.memory_hits : hits.disk_hits) += 1;
    hits.found[kept] = std::move(hits.found[i]);
    hits.found_in[kept++] = hits.found_in[i];
  }
  hits.found.resize(kept);
  hits.found_in.resize(kept);
}

// Throws GraphError on every rank when the ranks built different graphs, naming the first task
// that differs (a second exchange, of every task's hash, finds it).
void check_same_graph(detail::ClusterLink& link, std::uint64_t run,
                      const std::vector<std::string>& summaries, const detail::GraphState& graph,
                      std::span<const NodeId> upstream, const std::vector<Hash128>& hashes) {
  const auto head = [](const std::string& s) { return s.substr(0, 24); };
  const bool same = std::all_of(summaries.begin(), summaries.end(), [&](const std::string& s) {
    return head(s) == head(summaries[0]);
  });
  if (same) return;
  std::string mine(reinterpret_cast<const char*>(hashes.data()), hashes.size() * sizeof(Hash128));
  const std::vector<std::string> all = link.all_gather(run, 1, std::move(mine));
  std::size_t first = SIZE_MAX;
  std::size_t other = 0;
  for (std::size_t r = 0; r < all.size(); ++r) {
    const std::string& a = all[r];
    const std::string& b = all[link.rank()];
    std::size_t i = 0;
    while (i * sizeof(Hash128) < std::min(a.size(), b.size()) &&
           a.compare(i * sizeof(Hash128), sizeof(Hash128), b, i * sizeof(Hash128),
                     sizeof(Hash128)) == 0) {
      ++i;
    }
    if (a.size() == b.size() && i * sizeof(Hash128) == a.size()) continue;
    if (i < first) {
      first = i;
      other = r;
    }
  }
  const std::string what =
      first < upstream.size()
          ? fmt::format("task '{}' (the {}th of the {} tasks needed)", graph.label(upstream[first]),
                        first + 1, upstream.size())
          : fmt::format("the number of tasks needed ({} here)", upstream.size());
  throw GraphError(fmt::format(
      "the ranks built different graphs: {} differs between rank {} and rank {} (every rank "
      "must build the same graph and compute the same targets, in the same order)",
      what, std::min(link.rank(), other), std::max(link.rank(), other)));
}

// What a rank tells the others at the end of a run: whether it was cancelled, its figures, and
// the failures of the tasks it ran.
std::string end_report(const detail::RunState& run, const RunStats& stats, double busy,
                       std::size_t not_run) {
  detail::ByteWriter w;
  w.u64(run.cancel_requested.load(std::memory_order_acquire) ? 1 : 0);
  w.u64(stats.executed).u64(stats.items_executed);
  w.u64(static_cast<std::uint64_t>(busy * 1e9)).u64(not_run).u64(run.failures.size());
  std::string bytes = w.take();
  for (const detail::Failure& f : run.failures) {
    const std::string one = detail::encode_failure(
        detail::FailureReport{f.task, run.ranks->rank(), f.attempts, f.timeout_ms, f.error});
    bytes += detail::ByteWriter().str(one).take();
  }
  return bytes;
}

// The run across ranks as every rank sees it, from all ranks' end reports.
struct RanksOutcome {
  bool cancelled = false;
  std::size_t not_run = 0;
  std::vector<detail::FailureReport> failures;  // one per task, by local index
  std::vector<RankStats> ranks;
};

RanksOutcome merge_reports(const std::vector<std::string>& reports) {
  RanksOutcome out;
  for (const std::string& report : reports) {
    detail::ByteReader r(report);
    out.cancelled = r.u64() != 0 || out.cancelled;
    RankStats rank;
    rank.executed = r.u64();
    rank.items_executed = r.u64();
    rank.busy_seconds = static_cast<double>(r.u64()) * 1e-9;
    out.not_run += r.u64();
    out.ranks.push_back(rank);
    for (std::uint64_t n = r.u64(); n > 0; --n) {
      const std::string one = r.str();
      detail::ByteReader f(one);
      out.failures.push_back(detail::decode_failure(f));
    }
  }
  // The same task failing on several ranks (a split map) is reported once, from the lowest rank.
  std::sort(out.failures.begin(), out.failures.end(), [](const auto& a, const auto& b) {
    return std::tie(a.task, a.rank) < std::tie(b.task, b.rank);
  });
  out.failures.erase(std::unique(out.failures.begin(), out.failures.end(),
                                 [](const auto& a, const auto& b) { return a.task == b.task; }),
                     out.failures.end());
  return out;
}

// Throws a failure reported by a rank as the TaskError every rank throws (with the original
// exception on the rank it happened on).
[[noreturn]] void throw_rank_failure(const detail::RunState& run, const detail::FailureReport& f) {
  const NodeId failed = run.order[f.task];
  std::string label = run.graph->label(failed);
  if (f.timeout_ms > 0) throw TimeoutError(label, failed, f.timeout_ms, f.attempts, f.rank);
  std::exception_ptr original = std::make_exception_ptr(Error(f.message));
  if (f.rank == run.ranks->rank()) {
    for (const detail::Failure& local : run.failures) {
      if (local.task != f.task) continue;
      original = local.error;
      try {
        std::rethrow_exception(local.error);
      } catch (const detail::ItemFailure& item) {
        original = item.error;
      } catch (...) {
      }
    }
  }
  throw TaskError(std::move(label), failed, original, f.item, f.attempts, f.rank);
}

// Phase "rethrow" across ranks: the same exception on every rank.
void rethrow_across_ranks(const detail::RunState& run, const RanksOutcome& outcome,
                          const RunStats& stats) {
  if (std::optional<std::string> broken = run.ranks->cluster_failure()) throw Error(*broken);
  if (outcome.cancelled) {
    throw Cancelled(fmt::format("cancelled: {} of {} tasks not run", outcome.not_run, stats.tasks));
  }
  if (outcome.failures.empty()) return;
  if (!run.keep_going) throw_rank_failure(run, outcome.failures.front());
  std::vector<TaskError> failures;
  failures.reserve(outcome.failures.size());
  for (const detail::FailureReport& f : outcome.failures) {
    try {
      throw_rank_failure(run, f);
    } catch (const TaskError& e) {
      failures.push_back(e);
    }
  }
  throw RunError(std::move(failures), outcome.not_run);
}

}  // namespace

struct Executor::Impl {
  explicit Impl(ExecutorOptions opts);

  PlannedRun plan(std::span<const DelayedBase* const> targets);
  detail::RunResults run(std::span<const DelayedBase* const> targets);
  detail::RunResults run_across_ranks(std::span<const DelayedBase* const> targets);
  std::vector<std::uint32_t> plan_across_ranks(PlannedRun& p, std::uint64_t id);
  void prepare_across_ranks(PlannedRun& p, std::uint64_t id,
                            const std::vector<std::uint32_t>& owners);
  RanksOutcome finish_across_ranks(const PlannedRun& p, std::uint64_t id, RunStats& stats,
                                   double busy_from);
  void open_memory_cache(PlannedRun& p);
  void cull_and_look_up(PlannedRun& p);
  void give_services(detail::RunState& run);
  void execute(detail::RunState& run, std::uint64_t cancels_at_start);
  void end_run(const PlannedRun& p, const detail::ObserverList& watching);
  void write_trace() const;

  void register_run(detail::RunState* run, std::uint64_t cancels_at_start);
  void unregister_run(detail::RunState* run);

  ExecutorOptions options;
  detail::WorkerPool pool;
  detail::MemoryCache cache;
  detail::IoPool io;
  detail::Timer timer;
  detail::ResourceBroker resources;
  std::atomic<std::uint64_t> queued_write_bytes{0};
  std::mutex runs_mutex;
  std::vector<detail::RunState*> running;  // what cancel() reaches
  // cancel() calls so far: a run that started planning before one and registers after it is
  // cancelled too (it was running when cancel() was called).
  std::atomic<std::uint64_t> cancels{0};
  std::optional<DiskCache> disk_cache;  // with a cache_dir
  detail::DiskStore* disk = nullptr;    // its store
  // Called in order: options.observers, the deprecated options.observer, the trace's recorder.
  std::vector<std::shared_ptr<RunObserver>> observers;
  std::shared_ptr<TraceRecorder> trace;  // with trace_path
  mutable std::mutex stats_mutex;
  RunStats last_stats;
  // With a cluster of several ranks: the link to the other ranks' Executors, the computes made
  // so far (each rank numbers them alike), which run one at a time.
  std::unique_ptr<detail::ClusterLink> link;
  std::mutex ranks_mutex;
  std::uint64_t runs_across_ranks = 0;
  std::atomic<bool> warned_replicated{false};
};

// ExecutorOptions::io_threads' default: I/O tasks mostly wait, so many may run per core.
std::size_t default_io_threads(std::size_t cores) { return std::max<std::size_t>(32, 4 * cores); }

Executor::Impl::Impl(ExecutorOptions opts)
    : options(std::move(opts)),
      pool(options.threads),
      cache(options.memory_cache_bytes),
      io(options.io_threads != 0 ? options.io_threads
                                 : default_io_threads(detail::WorkerPool::current_concurrency())),
      resources(options.resources) {
  options.threads = pool.threads();
  options.io_threads = io.max_threads();
  if (!options.log) options.log = warn_on_stderr;
  if (!options.cache_dir.empty()) {
    using Durability = detail::DiskStore::Durability;
    disk_cache = detail::adopt_store(std::make_unique<detail::DiskStore>(
        options.cache_dir, [log = options.log](const std::string& m) { log(m); },
        detail::DiskStore::kCreate,
        options.durable_cache ? Durability::kDurable : Durability::kKillSafe));
    disk = &detail::store_of(*disk_cache);
  }
  for (const auto& o : options.observers) {
    if (o) observers.push_back(o);
  }
  if (options.observer) observers.push_back(options.observer);
  if (!options.trace_path.empty()) {
    trace = std::make_shared<TraceRecorder>();
    observers.push_back(trace);
  }
  if (options.cluster && options.cluster->size() > 1) {
    if (options.cluster->size() > detail::kMaxRanks) {
      throw std::invalid_argument(fmt::format("a cluster of {} ranks: dagflow runs on {} at most",
                                              options.cluster->size(), detail::kMaxRanks));
    }
    link = std::make_unique<detail::ClusterLink>(options.cluster);
  }
}

// Phases "resolve targets", "key" and "cull + look up": everything a run decides before it
// touches a result slot.
PlannedRun Executor::Impl::plan(std::span<const DelayedBase* const> targets) {
  PlannedRun p;
  if (targets.empty()) return p;
  resolve_targets(p, targets);
  if (disk != nullptr) {
    p.run->disk = disk;
    p.run->keys = keys_by_node(*p.run->graph, p.target_ids);
  }
  open_memory_cache(p);
  cull_and_look_up(p);
  p.not_keyed = count_not_keyed(*p.run);
  return p;
}

void Executor::Impl::open_memory_cache(PlannedRun& p) {
  if (!cache.enabled()) return;
  p.cache = cache.graph_cache(p.run->graph);
  p.run->cache = p.cache.get();
  p.run->cache_owner = &cache;
  p.run->tick = cache.next_tick();
  p.run->keep_after = kKeepAfterUs * detail::CycleClock::ticks_per_us();
}

// Culls the graph to what the targets need: a cached result prunes its upstream.
void Executor::Impl::cull_and_look_up(PlannedRun& p) {
  detail::RunState& run = *p.run;
  CacheLookup& hits = p.hits;
  hits = CacheLookup{.memory = run.cache,
                     .memory_owner = &cache,
                     .graph = run.graph.get(),
                     .tick = run.tick,
                     .disk = run.disk,
                     .keys = &run.keys,
                     .log = &options.log};
  if (run.cache != nullptr && run.cache->entries() > 0) hits.cache = run.cache;
  const bool look_up = hits.cache != nullptr || hits.disk != nullptr;
  run.order = detail::needed_tasks(*run.graph, p.target_ids,
                                   look_up ? &CacheLookup::lookup_of : nullptr, &hits);
}

// What a run uses of its Executor while it runs: set before anything (another rank's message
// included) can reach the run.
void Executor::Impl::give_services(detail::RunState& run) {
  run.services = detail::RunServices{.io = &io,
                                     .timer = &timer,
                                     .resources = &resources,
                                     .compute_threads = options.threads,
                                     .queued_write_bytes = &queued_write_bytes};
  run.keep_going = options.keep_going;
}

// Phase "execute": hands the run to the workers and waits for it, and for its disk writes.
void Executor::Impl::execute(detail::RunState& run, std::uint64_t cancels_at_start) {
  const bool has_async = !run.plan.async_units.empty();
  const detail::UnitGraph units{
      .units = run.plan.units(),
      .pred_begin = run.plan.pred_begin.data(),
      .preds = run.plan.preds.data(),
      .run_unit = &detail::RunState::run_unit,
      .context = &run,
      .async = has_async ? run.plan.async_units.data() : nullptr,
      .start_async = &detail::RunState::start_async,
      .resume = &detail::RunState::resume_async,
  };
  register_run(&run, cancels_at_start);
  run.started.store(true, std::memory_order_release);
  try {
    pool.run(run.ranks != nullptr ? run.ranks->unit_graph(units) : units);
  } catch (...) {  // the flow graph could not be built: nothing may outlive the run
    unregister_run(&run);
    run.wait_for_writes();
    throw;
  }
  (void)run.executed.load(std::memory_order_acquire);  // see RunState
  unregister_run(&run);
  run.wait_for_writes();
}

void Executor::Impl::register_run(detail::RunState* run, std::uint64_t cancels_at_start) {
  const std::lock_guard lock(runs_mutex);
  running.push_back(run);
  if (cancels.load(std::memory_order_relaxed) != cancels_at_start) run->cancel();
}

void Executor::Impl::unregister_run(detail::RunState* run) {
  const std::lock_guard lock(runs_mutex);
  running.erase(std::find(running.begin(), running.end(), run));
}

// After the workers are done, failed run or not: the memory cache makes room, the observers
// hear the end, the trace file is rewritten.
void Executor::Impl::end_run(const PlannedRun& p, const detail::ObserverList& watching) {
  if (p.cache != nullptr) cache.after_run();
  if (watching.empty()) return;
  watching.on_run_end();
  write_trace();
}

void Executor::Impl::write_trace() const {
  if (!trace) return;
  try {
    trace->write_chrome_trace(options.trace_path);
  } catch (const Error& e) {
    options.log(e.what());
  }
}

// Phases "resolve targets", "key", "place", "look up" and "agree" across ranks: every rank
// culls the same tasks (the union of the hits all ranks found) from the same graph. Returns the
// rank of each task (by node id).
std::vector<std::uint32_t> Executor::Impl::plan_across_ranks(PlannedRun& p, std::uint64_t id) {
  detail::RunState& run = *p.run;
  const detail::GraphState& graph = *run.graph;
  const std::vector<NodeId> upstream = detail::needed_tasks(graph, p.target_ids);
  run.keys = keys_by_node(graph, p.target_ids);
  run.disk = disk;
  std::vector<std::uint32_t> owners = detail::place_tasks(graph, upstream, link->size());
  open_memory_cache(p);
  p.hits = CacheLookup{.memory = run.cache,
                       .memory_owner = &cache,
                       .graph = &graph,
                       .tick = run.tick,
                       .disk = run.disk,
                       .keys = &run.keys,
                       .log = &options.log};
  if (run.cache != nullptr && run.cache->entries() > 0) p.hits.cache = run.cache;
  RankLookup lookup{&p.hits, &owners, link->rank()};
  (void)detail::needed_tasks(graph, p.target_ids, &RankLookup::lookup_of, &lookup);
  const std::vector<Hash128> hashes = detail::structure_hashes(graph, upstream, run.keys);
  Hasher whole;
  for (const Hash128& h : hashes) whole.add(h.low).add(h.high);
  const Hash128 digest = whole.digest();
  std::string mine =
      detail::ByteWriter().u64(digest.low).u64(digest.high).u64(upstream.size()).take();
  mine += hit_bits(upstream, p.hits);
  const std::vector<std::string> all = link->all_gather(id, 0, std::move(mine));
  check_same_graph(*link, id, all, graph, upstream, hashes);
  std::vector<std::uint8_t>& cut = p.cut;  // by node id: found by some rank
  cut.assign(owners.size(), 0);
  for (const std::string& s : all) {
    for (std::size_t i = 0; i < upstream.size(); ++i) {
      if ((static_cast<unsigned char>(s[24 + i / 8]) >> (i % 8) & 1U) != 0) cut[upstream[i]] = 1;
    }
  }
  run.order = detail::needed_tasks(
      graph, p.target_ids,
      [](void* c, NodeId n) { return (*static_cast<std::vector<std::uint8_t>*>(c))[n] != 0; },
      &cut);
  drop_unused_hits(p.hits, run.order);
  p.not_keyed = count_not_keyed(run);
  return owners;
}

// Phase "prepare slots" across ranks: which ranks run and need each task, the slots, the plan
// (units of one group of ranks each) and this rank's part of it.
void Executor::Impl::prepare_across_ranks(PlannedRun& p, std::uint64_t id,
                                          const std::vector<std::uint32_t>& owners) {
  detail::RunState& run = *p.run;
  index_tasks(run);
  for (NodeId t : p.target_ids) run.targets.push_back(run.local_of[t]);
  std::vector<std::uint8_t> cut(run.order.size(), 0);
  for (std::uint32_t v = 0; v < run.order.size(); ++v) {
    cut[v] = run.order[v] < p.cut.size() ? p.cut[run.order[v]] : 0;
  }
  run.ranks = std::make_unique<detail::RankRun>(*link, id, run);
  run.ranks->assign(owners, cut);
  run.targets.clear();  // prepare_slots lists them again
  prepare_slots(p, options, std::move(cut));
  run.ranks->build_units(run.plan);
  prepare_async_tasks(run, resources);
  if (run.ranks->replicated() > 0 && !warned_replicated.exchange(true)) {
    options.log(fmt::format(
        "{} tasks ran on more than one rank: their results have no Serializable type, so they "
        "cannot be sent (give their types cereal serialisation to run each once)",
        run.ranks->replicated()));
  }
}

// Phase "report" across ranks: every rank learns what all did; the run's messages have all
// arrived once this returns.
RanksOutcome Executor::Impl::finish_across_ranks(const PlannedRun& p, std::uint64_t id,
                                                 RunStats& stats, double busy_from) {
  const detail::RunState& run = *p.run;
  std::size_t not_run = 0;
  for (std::uint32_t v = 0; v < run.order.size(); ++v) {
    if (!run.ranks->primary_here(v) || run.slots[v].is_ready()) continue;
    const bool failed = std::any_of(run.failures.begin(), run.failures.end(),
                                    [v](const detail::Failure& f) { return f.task == v; });
    if (!failed) ++not_run;
  }
  const std::vector<std::string> reports =
      link->all_gather(id, 2, end_report(run, stats, process_cpu_seconds() - busy_from, not_run));
  RanksOutcome outcome = merge_reports(reports);
  stats.rank = link->rank();
  stats.ranks = outcome.ranks;
  stats.not_run = outcome.not_run;
  stats.replicated = run.ranks->replicated();
  stats.failed = outcome.failures.size();
  return outcome;
}

// compute() across ranks: the phases of run(), with the ranks agreeing on the plan before and on
// the outcome after.
detail::RunResults Executor::Impl::run_across_ranks(std::span<const DelayedBase* const> targets) {
  const std::lock_guard one_at_a_time(ranks_mutex);
  const auto start = Clock::now();
  const double busy_from = process_cpu_seconds();
  const std::uint64_t cancels_at_start = cancels.load(std::memory_order_relaxed);
  const std::uint64_t id = ++runs_across_ranks;
  PlannedRun p;
  if (targets.empty()) return detail::RunResults(std::move(p.run));
  give_services(*p.run);
  resolve_targets(p, targets);
  const std::vector<std::uint32_t> owners = plan_across_ranks(p, id);
  if (p.not_keyed > 0 && disk != nullptr)
    warn_not_keyed(options.log, p.not_keyed, p.run->order.size());
  prepare_across_ranks(p, id, owners);
  const detail::ObserverList watching(observers, options.log);
  const RunViewOf view(*p.run, p.hits.found.size(), options.threads);
  if (!watching.empty()) {
    p.run->observers = &watching;
    start_observers(watching, view, p.hits);
  }
  const detail::OpenRun open(*link, id, *p.run->ranks);
  p.run->ranks->send_hits();
  execute(*p.run, cancels_at_start);
  end_run(p, watching);
  RunStats stats = stats_of(p, options.threads, start);
  const RanksOutcome outcome = finish_across_ranks(p, id, stats, busy_from);
  // Every rank has had what it needed from this one, so the sends that borrowed results are
  // ending: once they are over, the targets among those results move out instead of copying.
  p.run->ranks->wait_for_lent_values(std::chrono::seconds(1));
  {
    std::lock_guard lock(stats_mutex);
    last_stats = stats;
  }
  rethrow_across_ranks(*p.run, outcome, stats);
  return detail::RunResults(std::move(p.run));
}

detail::RunResults Executor::Impl::run(std::span<const DelayedBase* const> targets) {
  if (link != nullptr && detail::t_current_task == nullptr) return run_across_ranks(targets);
  const auto start = Clock::now();
  const std::uint64_t cancels_at_start = cancels.load(std::memory_order_relaxed);
  PlannedRun p = plan(targets);
  if (p.target_ids.empty()) return detail::RunResults(std::move(p.run));
  give_services(*p.run);
  if (p.not_keyed > 0 && disk != nullptr)
    warn_not_keyed(options.log, p.not_keyed, p.run->order.size());
  prepare_slots(p, options);
  prepare_async_tasks(*p.run, resources);
  const detail::ObserverList watching(observers, options.log);
  const RunViewOf view(*p.run, p.hits.found.size(), options.threads);
  if (!watching.empty()) {
    p.run->observers = &watching;
    start_observers(watching, view, p.hits);
  }
  execute(*p.run, cancels_at_start);
  end_run(p, watching);
  const RunStats stats = stats_of(p, options.threads, start);
  {
    std::lock_guard lock(stats_mutex);
    last_stats = stats;
  }
  rethrow_failure(*p.run, stats);
  return detail::RunResults(std::move(p.run));
}

Executor::Executor() : Executor(ExecutorOptions{}) {}
Executor::Executor(ExecutorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Executor::~Executor() = default;

detail::RunResults Executor::run(std::span<const DelayedBase* const> targets) {
  return impl_->run(targets);
}

void Executor::compute(const std::vector<Delayed<void>>& targets) {
  detail::RunResults results = run_all(targets);
  for (std::size_t i = 0; i < targets.size(); ++i) results.take<void>(i);
}

DryRun Executor::dry_run(std::span<const DelayedBase* const> targets) {
  const PlannedRun p = impl_->plan(targets);
  if (p.cache != nullptr) impl_->cache.after_run();
  DryRun dry;
  if (p.target_ids.empty()) return dry;
  const std::vector<NodeId>& order = p.run->order;
  std::vector<std::uint8_t> is_hit(id_bound(*p.run->graph, order), 0);
  for (const auto& hit : p.hits.found) {
    dry.cached.push_back(hit.first);
    is_hit[hit.first] = 1;
  }
  for (NodeId id : order) {
    if (is_hit[id] == 0) dry.to_run.push_back(id);
  }
  return dry;
}

std::vector<std::string> Executor::all_gather(std::string mine) {
  if (impl_->link == nullptr) return {std::move(mine)};
  const std::lock_guard one_at_a_time(impl_->ranks_mutex);
  return impl_->link->all_gather(++impl_->runs_across_ranks, 0, std::move(mine));
}

void Executor::cancel() noexcept {
  const std::lock_guard lock(impl_->runs_mutex);
  impl_->cancels.fetch_add(1, std::memory_order_relaxed);
  for (detail::RunState* run : impl_->running) run->cancel();
}

const ExecutorOptions& Executor::options() const noexcept { return impl_->options; }

RunStats Executor::last_run_stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->last_stats;
}

CacheStats Executor::memory_cache_stats() const {
  const detail::MemoryCacheCounts c = impl_->cache.counts();
  return CacheStats{c.entries, c.bytes};
}

void Executor::clear_memory_cache() { impl_->cache.clear(); }

DiskCache* Executor::disk_cache() noexcept {
  return impl_->disk_cache ? &*impl_->disk_cache : nullptr;
}

CacheStats Executor::disk_cache_stats() const {
  return impl_->disk_cache ? impl_->disk_cache->stats() : CacheStats{};
}

CacheStats Executor::prune_disk_cache(std::uint64_t max_bytes) {
  return impl_->disk_cache ? impl_->disk_cache->prune(max_bytes) : CacheStats{};
}

}  // namespace dagflow
