// Executor: runs the tasks a Graph's targets need on all cores (oneTBB flow graph).
//
// An Executor may be used by several threads at once: each compute() is an independent run.
// compute() may also be called from inside a running task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <dagflow/engine/cluster.hpp>
#include <dagflow/engine/detail/run_results.hpp>
#include <dagflow/engine/disk_cache.hpp>
#include <dagflow/engine/observer.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/graph.hpp>

namespace dagflow {

/// Settings of an Executor. `Executor ex({.threads = 4});`
struct ExecutorOptions {
  /// Compute worker threads; 0 (the default) = all cores. Tasks that mostly wait belong on the
  /// I/O threads instead (TaskOptions::io, io_threads). More than the cores is allowed: the
  /// Executor then raises oneTBB's process-wide thread cap while it lives.
  std::size_t threads = 0;
  /// Merge fine-grained tasks into fewer flow-graph nodes (default on): linear chains always run
  /// as one node; in graphs of thousands of tasks (and in any graph with `threads` = 1 and no
  /// task with TaskOptions), all tasks at one depth share a node that runs them in parallel.
  /// Off: one flow-graph node per task, which keeps every task of every depth free to overlap
  /// (worth it only for few, long, unevenly sized tasks in a huge graph).
  bool fuse_tasks = true;
  /// Budget of the memory cache, in bytes (default 256 MiB; 0 = off). Results are kept across
  /// compute() calls of this Executor, so computing a target again runs only what is not kept.
  /// A result is kept when it is worth keeping — it is a target of the compute(), or its task
  /// ran for 2 us or more (keeping a result costs a few hundred nanoseconds, so a cheaper task is
  /// faster to run again) — its type is copyable and has a ValueSize, it fits in the budget, and
  /// neither its task nor anything upstream is impure; everything else is freed as soon as its
  /// last reader finishes. The budget counts a kept result's ValueSize plus 96 bytes for its
  /// allocation and table entry. Least recently used results make room between runs, and the
  /// results of a Graph are dropped when it is destroyed.
  std::size_t memory_cache_bytes = std::size_t{256} << 20;
  /// Directory of the persistent cache (default empty = none); relative paths resolve against
  /// the working directory, and it is created (mode 0700) when missing. Each result of a task
  /// with a content key (see task_keys) and a Serializable type is written there, one file per
  /// key, and found again by later runs and other processes: a hit prunes the task's whole
  /// upstream. A damaged entry is a miss (recomputed and replaced, with a warning). The
  /// Executor's constructor throws std::invalid_argument for a directory that is a symlink,
  /// world-writable or owned by another user.
  std::filesystem::path cache_dir{};
  /// Where warnings go (a damaged cache entry, a full disk...); default: one line on stderr
  /// prefixed "dagflow: warning: ". Called from any thread.
  std::function<void(std::string_view)> log{};
  /// Deprecated: use `observers`. An observer set here is called after those of `observers`.
  std::shared_ptr<RunObserver> observer{};
  /// When set, every compute() (re)writes this file with a Chrome trace of all the Executor's
  /// runs so far (see TraceRecorder; relative paths resolve against the working directory).
  /// A trace that cannot be written is a warning through `log`, never a failed compute.
  std::filesystem::path trace_path{};
  /// Receive an event for every task of every compute() (see RunObserver), in this order;
  /// default none. An observer that throws never fails the run: its first failure in each
  /// compute() is reported through `log`, and it keeps receiving events.
  std::vector<std::shared_ptr<RunObserver>> observers{};
  /// Threads for I/O tasks (TaskOptions::io) and disk-cache writes; 0 (the default) = dagflow's
  /// choice: 4 per core, at least 32. They are started as I/O work arrives (none for a program
  /// without any) and run beside the `threads` compute workers, which never wait for I/O.
  std::size_t io_threads = 0;
  /// Capacity of each named resource (TaskOptions::resources), e.g. {{"db", 2}}: tasks holding
  /// it never exceed it, across all computes of this Executor. A task naming a resource that is
  /// not declared here, or needing more units than its capacity, is a GraphError before
  /// anything runs.
  std::map<std::string, std::size_t> resources{};
  /// After a task fails, keep running everything that does not depend on it (and cache it);
  /// compute() then throws RunError listing every failure. Off (the default): the first
  /// failure cancels the run and compute() throws its TaskError.
  bool keep_going = false;
  /// The ranks of an SPMD job to share the work with (see Cluster; e.g.
  /// dagflow::mpi::Session::cluster()); default none: this process alone. With a cluster of
  /// more than one rank, compute() is collective: every rank calls it on the same graph and
  /// targets, in the same order, and each gets every target's value. Computes of one Executor
  /// then run one at a time, and a compute() called from inside a task runs on its rank alone.
  std::shared_ptr<Cluster> cluster{};
  /// Fuse chains of maps (default on): a map whose result only a map, reduce or map_reduce
  /// reads, as its items, runs inside that reader, so `reduce(g, op, init, map(g, f, map(g, h,
  /// xs)))` computes f(h(x)) per item (composed at compile time when the reader is given map's
  /// own handle, a Mapped; a batch of items at a time otherwise) and neither intermediate
  /// vector is ever made. A map that is a target of the compute(), has another reader
  /// (ordering-only ones count), has TaskOptions, or is found in a cache is computed as usual.
  /// Results, and the bits of reductions, are the same either way; the fused map has no result of
  /// its own to cache (its observers' event says TaskOutcome::kFused), and the reader's per-block
  /// disk entries are keyed by the whole chain and the source items. Off: every map makes its
  /// vector.
  bool fuse_maps = true;
  /// Make every disk-cache entry durable before it counts as written (default off): its file is
  /// fsync'ed before the rename that puts it in place, then its directory after, so an entry
  /// written survives a power loss or an OS crash. Costs two disk flushes per entry, on the I/O
  /// threads (on a compute worker instead when they are far behind). A pipeline's run record is
  /// made durable the same way. Off, entries are as safe against a killed process (the rename
  /// comes after the last write, so there is never a partial entry), but a power loss can damage
  /// recent ones: a damaged entry fails its checksum, so it is a miss and its task is computed
  /// again.
  bool durable_cache = false;
  // New fields are appended below, never inserted above: designated initialisers follow this
  // order.
};

struct DryRun;
struct RankStats;
struct RunStats;

/// Runs delayed tasks. Owns its worker threads and its memory cache; not copyable.
///
///   dagflow::Executor ex;                    // all cores
///   int r = ex.compute(b);                   // one target: its value
///   auto [x, y] = ex.compute(a, s);          // several: a tuple, shared work done once
///   std::size_t ran = ex.last_run_stats().executed;
class Executor {
 public:
  /// An Executor with the default options (all cores, 256 MiB memory cache, no disk cache).
  Executor();
  /// An Executor with `options`. Throws std::invalid_argument for a cache_dir that cannot be
  /// used (see ExecutorOptions::cache_dir), and dagflow::Error when the system refuses to start
  /// its worker threads (a low `ulimit -u`), naming the reason.
  explicit Executor(ExecutorOptions options);
  /// Destroy an Executor only once every compute() on it has returned.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Runs every task `target` needs, each at most once, and returns its value (moved out when
  /// nothing else holds it). Throws TaskError (TimeoutError for a timeout) if a task fails after
  /// its retries: the run is cancelled (tasks not yet started never start, running ones are asked
  /// to stop, see this_task::stop_requested) and the Executor stays usable. With keep_going,
  /// throws RunError instead, after everything else ran. Throws Cancelled when cancel() stopped
  /// it, GraphError when the graph cannot run as asked (an undeclared resource...), and
  /// std::invalid_argument for an empty Delayed or one whose Graph is gone.
  template <class T>
  [[nodiscard]] T compute(const Delayed<T>& target);

  /// Several targets of one Graph in one run: a std::tuple of their values, in order.
  template <class T0, class T1, class... Ts>
  [[nodiscard]] std::tuple<T0, T1, Ts...> compute(const Delayed<T0>& first,
                                                  const Delayed<T1>& second,
                                                  const Delayed<Ts>&... rest);

  /// Any number of targets of one type, in one run: their values, in order.
  template <class T>
  [[nodiscard]] std::vector<T> compute(const std::vector<Delayed<T>>& targets);
  /// Any number of side-effect steps (tasks returning void), in one run.
  void compute(const std::vector<Delayed<void>>& targets);

  /// Which tasks a compute() of `targets` would run and which results it would take from the
  /// caches, without running anything (`make -n`). Cache entries are read and verified, as a
  /// compute() would. A map listed to run may still find its blocks in the disk cache.
  [[nodiscard]] DryRun dry_run(std::span<const DelayedBase* const> targets);

  /// Cancels every compute() of this Executor running now (one still planning included), from
  /// any thread (a signal handler
  /// must not call it: it takes a lock): tasks not yet started never start, running ones see
  /// this_task::stop_requested(), and each of those compute() calls throws Cancelled once its
  /// running tasks have returned. What finished is cached. Later computes are unaffected.
  void cancel() noexcept;

  /// Across ranks (ExecutorOptions::cluster): a collective like compute() — every rank calls it,
  /// in the same order relative to its computes — that returns every rank's `mine`, by rank
  /// (how a program shares what it decided or measured, e.g. rank 0 collecting traces). Without
  /// a cluster: {mine}. Throws dagflow::Error when the cluster fails.
  [[nodiscard]] std::vector<std::string> all_gather(std::string mine);

  /// Statistics of the most recent compute() that finished (from any thread), failed or not.
  [[nodiscard]] RunStats last_run_stats() const;
  /// The options this Executor was made with (threads resolved: never 0).
  [[nodiscard]] const ExecutorOptions& options() const noexcept;

  /// Entries and bytes held by the memory cache.
  [[nodiscard]] CacheStats memory_cache_stats() const;
  /// Empties the memory cache (values still held by running computes stay alive until they end).
  void clear_memory_cache();

  /// The disk cache of cache_dir (see DiskCache); null without one.
  [[nodiscard]] DiskCache* disk_cache() noexcept;

  /// disk_cache()->stats(), or zeros without a cache_dir.
  [[nodiscard]] CacheStats disk_cache_stats() const;
  /// disk_cache()->prune(max_bytes) (so prune_disk_cache(0) clears it), or zeros without a
  /// cache_dir. Safe while computes run (they may then recompute what was removed).
  CacheStats prune_disk_cache(std::uint64_t max_bytes);

 private:
  template <class... Ts, std::size_t... I>
  static std::tuple<Ts...> take_all(detail::RunResults& results,
                                    std::index_sequence<I...> /*unused*/);

  // Runs the targets: the body of every compute().
  detail::RunResults run(std::span<const DelayedBase* const> targets);
  // run() of a vector of handles.
  template <class T>
  detail::RunResults run_all(const std::vector<Delayed<T>>& targets);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What a compute() of the same targets would do now (Executor::dry_run).
struct DryRun {
  /// Tasks that would run, in a valid run order.
  std::vector<NodeId> to_run;
  /// Tasks whose results are in the memory or disk cache (their upstream is not needed).
  std::vector<NodeId> cached;
};

/// What one rank did in a compute() across ranks (RunStats::ranks).
struct RankStats {
  std::size_t executed = 0;        ///< task bodies it ran
  std::size_t items_executed = 0;  ///< map items it computed
  double busy_seconds = 0;         ///< CPU time its process used during the run
};

/// What one compute() did.
struct RunStats {
  std::size_t tasks = 0;                 ///< tasks the targets needed
  std::size_t executed = 0;              ///< task bodies run by that compute()
  std::size_t flow_nodes = 0;            ///< tbb::flow::graph nodes built (after fusion)
  std::size_t memory_hits = 0;           ///< needed tasks whose result came from the memory cache
  std::size_t disk_hits = 0;             ///< needed tasks whose result came from the disk cache
  std::size_t disk_writes = 0;           ///< results written to the disk cache
  std::size_t not_persisted = 0;         ///< results with a content key but no Serializable type
  std::uint64_t disk_bytes_read = 0;     ///< payload bytes of the disk hits
  std::uint64_t disk_bytes_written = 0;  ///< payload bytes of the disk writes
  std::size_t items_computed = 0;        ///< deprecated: the same count as items_executed
  std::size_t items_cached = 0;          ///< map items taken from per-block disk entries
  std::size_t threads = 0;               ///< worker threads of the Executor
  double seconds = 0;                    ///< wall time of the run
  /// Needed tasks with no content key (impure ones aside), which the disk cache can never keep:
  /// anonymous callables (not a dagflow::op), unhashable literals or captured state, and
  /// everything downstream of those. With a cache_dir, a non-zero count is also a warning
  /// through `log`, once per compute().
  std::size_t not_keyed = 0;
  /// Map items computed (the items of a map whose block was not in the disk cache).
  std::size_t items_executed = 0;
  /// Attempts retried after a failure (TaskOptions::retries).
  std::size_t retries = 0;
  /// Attempts that ran past their timeout.
  std::size_t timeouts = 0;
  /// Task bodies run on the I/O threads (TaskOptions::io).
  std::size_t io_tasks = 0;
  /// Time tasks spent queued for resources, summed over tasks.
  double resource_wait_seconds = 0;
  /// Tasks that failed (after their retries).
  std::size_t failed = 0;
  /// Needed tasks that never ran: they depend on a failed task (keep_going), or the run was
  /// cancelled or failed before they could start.
  std::size_t not_run = 0;
  /// Results whose disk-cache write failed (a full disk...; each also a warning through log).
  std::size_t disk_write_failures = 0;
  /// Across ranks: tasks run on more than one rank because their results cannot be sent (no
  /// Serializable type); each is also a warning through `log`, once per Executor.
  std::size_t replicated = 0;
  /// Across ranks: this process's rank (the figures above are its own, except `tasks` and
  /// `not_run`, which are the whole run's), and what each rank did, by rank. Empty otherwise.
  std::size_t rank = 0;
  std::vector<RankStats> ranks{};
  /// Maps fused into their readers (ExecutorOptions::fuse_maps); each is counted in `executed`
  /// too, though its work ran in its reader.
  std::size_t fused = 0;
};

// ---- implementation -----------------------------------------------------------------------------

template <class T>
T Executor::compute(const Delayed<T>& target) {
  const DelayedBase* targets[] = {&target};
  return run(targets).template take<T>(0);
}

template <class T0, class T1, class... Ts>
std::tuple<T0, T1, Ts...> Executor::compute(const Delayed<T0>& first, const Delayed<T1>& second,
                                            const Delayed<Ts>&... rest) {
  const DelayedBase* targets[] = {&first, &second, &rest...};
  detail::RunResults results = run(targets);
  return take_all<T0, T1, Ts...>(results, std::index_sequence_for<T0, T1, Ts...>{});
}

template <class T>
std::vector<T> Executor::compute(const std::vector<Delayed<T>>& targets) {
  detail::RunResults results = run_all(targets);
  std::vector<T> values;
  values.reserve(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) values.push_back(results.take<T>(i));
  return values;
}

template <class T>
detail::RunResults Executor::run_all(const std::vector<Delayed<T>>& targets) {
  std::vector<const DelayedBase*> pointers;
  pointers.reserve(targets.size());
  for (const Delayed<T>& t : targets) pointers.push_back(&t);
  return run(pointers);
}

template <class... Ts, std::size_t... I>
std::tuple<Ts...> Executor::take_all(detail::RunResults& results,
                                     std::index_sequence<I...> /*unused*/) {
  return std::tuple<Ts...>{results.take<Ts>(I)...};  // braces: taken in order
}

}  // namespace dagflow
