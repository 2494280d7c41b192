// Pipeline: a YAML pipeline file, loaded, validated and run.
//
//   dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
//   dagflow::Pipeline p = dagflow::Pipeline::load("wordcount.yaml", ops);
//   dagflow::PipelineResult r = p.run({.cache_dir = p.default_cache_dir()});
//   std::cout << dagflow::to_json(r.outputs.at("top"));
//
// Format (version 1):
//   name: wordcount                  # required
//   params: {dir: texts, k: 3}       # optional; overridable with LoadOptions::set (--set)
//   nodes:                           # required: node id -> node
//     files: {op: glob, args: {pattern: "${dir}/*.txt"}}
//     counts: {op: word_count, map: files}      # the op applied to each element of `files`
//     total: {op: merge_counts, inputs: [counts]}
//     top: {op: top_k, inputs: [total], args: {k: "${k}"}}
//   outputs: [top]                   # optional; default: the nodes nothing consumes
// A map node may also say `reduce: OP` (`total: {op: word_count, map: files, reduce:
// merge_counts}`): one task that combines the op's results as they come with OP, a registry op
// that merges a list of partial results into one (called with two at a time, and with [] when
// the list is empty); the node gives that one value instead of the list.
// A node also takes `doc` (a string), `cache: false` (run every time, and so does everything
// downstream) and how its task runs (NodeSpec::options): `io: true`, `resources: {db: 1}`,
// `retries: 3`, `retry_delay: 100ms`, `timeout: 30s` (durations need a unit: ms, s, min, h).
// A top-level `resources: {db: 2}` declares the capacities the nodes' resources come from.
// Everything is checked before anything runs, types included (what a node gives, its op's
// OpInfo::result_type, against what each op downstream takes), and every mistake found is reported
// at once: one PipelineError listing each "FILE:LINE:COL: message". Thread-safety: a loaded
// Pipeline is only read: its const members (run() and dry_run() included, each with an Executor of
// its own) may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/engine/executor.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/task_options.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow {

/// A position in a pipeline file, 1-based; 0 when unknown.
struct SourceMark {
  int line = 0;
  int column = 0;
};

/// One mistake in a pipeline (or in --set, or a file that cannot be read).
struct PipelineProblem {
  /// The file as given, or "--set".
  std::string file;
  SourceMark mark{};
  /// What is wrong, without the position.
  std::string message;
  /// The capability the pipeline needs and the load options do not allow (the message then ends
  /// with refusal_text of it), or nullopt for any other mistake.
  std::optional<Capability> refused{};
};

/// The most problems one PipelineError lists: the loader counts the ones after it without
/// keeping them.
inline constexpr std::size_t kMaxPipelineProblems = 20;

/// An invalid pipeline: what() has one line per problem, each "FILE:LINE:COL: message"
/// ("FILE: message" without a position), and when some were not kept a last line
/// "FILE: N more errors not shown". The loader lists problems in the order found, except that
/// those refusing a capability come last (a front end may add how to allow it after what()).
/// file(), mark() and message() are those of the first problem.
class PipelineError : public Error {
 public:
  /// One problem.
  PipelineError(std::string file, SourceMark mark, std::string message,
                std::optional<Capability> refused = std::nullopt);
  /// `problems` (at least one, else std::invalid_argument), and how many more were found but
  /// not kept.
  explicit PipelineError(std::vector<PipelineProblem> problems, std::size_t not_shown = 0);

  [[nodiscard]] const std::string& file() const noexcept { return problems_.front().file; }
  [[nodiscard]] SourceMark mark() const noexcept { return problems_.front().mark; }
  /// The first problem's message, without the position.
  [[nodiscard]] const std::string& message() const noexcept { return problems_.front().message; }
  /// The capability the first problem that refuses one refuses (see PipelineProblem::refused),
  /// or nullopt when none does.
  [[nodiscard]] std::optional<Capability> refused() const noexcept;
  /// Every problem listed in what(), in order; never empty.
  [[nodiscard]] const std::vector<PipelineProblem>& all() const noexcept { return problems_; }
  /// How many problems were found beyond all() (the loader keeps kMaxPipelineProblems).
  [[nodiscard]] std::size_t not_shown() const noexcept { return not_shown_; }

 private:
  std::vector<PipelineProblem> problems_;
  std::size_t not_shown_ = 0;
};

/// A node of a pipeline failed while running: what() is
/// "FILE:LINE:COL: node 'counts' (op word_count) failed[ on rank 1][ at item 3]: <the error>"
/// (the rank it failed on is named in runs across ranks).
class NodeError : public Error {
 public:
  NodeError(const std::string& what, std::string node, std::string op, std::exception_ptr cause);
  [[nodiscard]] const std::string& node() const noexcept { return node_; }
  [[nodiscard]] const std::string& op() const noexcept { return op_; }
  [[nodiscard]] const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::string node_;
  std::string op_;
  std::exception_ptr cause_;
};

/// How to load a pipeline.
struct LoadOptions {
  /// "NAME=VALUE" overrides of params (--set); VALUE is read as a YAML 1.2 core-schema scalar.
  std::vector<std::string> set{};
  /// Ops may write outside the pipeline's directory (Capability::kWriteOutside).
  bool allow_outside = false;
  /// Ops that run commands may be used (Capability::kRunCommands).
  bool allow_shell = false;
  /// The file's top-level `plugins` may be loaded (Capability::kLoadPlugins): a pipeline file
  /// runs no code but the ops' own until the user allows it.
  bool allow_plugins = false;
  /// Capacities of resources (--resource NAME=N): each replaces the capacity the file's
  /// top-level `resources` gives that name, or declares a name the file does not.
  std::map<std::string, std::size_t> resources{};
};

/// Files larger than this are refused before they are read.
inline constexpr std::size_t kMaxPipelineBytes = std::size_t{16} << 20;

/// One node as loaded: substitutions done, argument defaults filled in, path arguments resolved.
struct NodeSpec {
  std::string id;
  std::string op;
  std::vector<std::string> inputs{};
  /// The id of the list the op is mapped over; empty when the node is not a map.
  std::string map{};
  /// With `map`: the op that combines the op's results into the node's one value (called with a
  /// list of two partial results, and with [] when the list is empty); empty for a plain map.
  /// Such a map takes no other inputs.
  std::string reduce{};
  Value::Map args{};
  std::string doc{};
  bool cache = true;
  /// Where the node's id is in the file.
  SourceMark mark{};
  /// How its task runs, from the node's keys `io`, `resources`, `retries`, `retry_delay` and
  /// `timeout` (a map node's apply to its one map task). `io` is the op's OpInfo::io() unless
  /// the node says otherwise; every resource named is declared in PipelineSpec::resources with
  /// at least the units asked for.
  TaskOptions options{};
};

/// A validated pipeline.
struct PipelineSpec {
  std::string name;
  /// The file as given, for messages.
  std::string file;
  /// The file's directory, absolute: relative paths in the file resolve against it.
  std::filesystem::path base_dir;
  /// Params after --set.
  Value::Map params{};
  /// Every node, dependencies before dependents (file order where there is a choice).
  std::vector<NodeSpec> nodes{};
  /// Ids of the outputs, in order.
  std::vector<std::string> outputs{};
  /// Capacity of each resource the nodes may hold (the top-level `resources`, after
  /// LoadOptions::resources): given to the Executor of every run (ExecutorOptions::resources).
  std::map<std::string, std::size_t> resources{};
  /// The op plugins the file's top-level `plugins` loads (absolute paths), in order; loaded into
  /// the registry a Pipeline is made with (OpRegistry::load_plugin).
  std::vector<std::filesystem::path> plugins{};
};

/// The directory of the pipeline file `file`, absolute and normalised: where the pipeline's
/// relative paths lead (PipelineSpec::base_dir) and its cache lives by default. Throws
/// std::filesystem::filesystem_error when the working directory cannot be found.
[[nodiscard]] std::filesystem::path pipeline_dir_of(const std::filesystem::path& file);

/// Where the results of the pipeline in `pipeline_dir` are cached unless told otherwise:
/// `.dagflow/cache` in that directory (see pipeline_dir_of).
[[nodiscard]] std::filesystem::path default_cache_dir_in(const std::filesystem::path& pipeline_dir);

/// A pipeline's default cache directory, and why it is not the usual one.
struct DefaultCacheDir {
  std::filesystem::path dir;
  /// Empty when `dir` is default_cache_dir_in(pipeline_dir); else one line saying why the
  /// fallback is used (for the user: the cache and run records live there now).
  std::string notice{};
};

/// Where the cache of the pipeline in `pipeline_dir` goes when none is named: `.dagflow/cache`
/// there when it can be used (it exists and can be written, or it can be created), else — a
/// read-only checkout, installed examples run by another user — `$XDG_CACHE_HOME/dagflow`, or
/// `~/.cache/dagflow` when XDG_CACHE_HOME is unset or relative. Creates nothing. A directory
/// named explicitly (--cache-dir) never falls back: refusing it is an error.
[[nodiscard]] DefaultCacheDir usable_default_cache_dir(const std::filesystem::path& pipeline_dir);

/// Reads and validates a pipeline file. Refuses (PipelineError) what is not a regular file of at
/// most kMaxPipelineBytes before reading it. Parses on the calling thread.
[[nodiscard]] PipelineSpec load_pipeline_spec(const std::filesystem::path& file,
                                              const OpRegistry& ops,
                                              const LoadOptions& options = {});

/// Validates pipeline text; `file` names it in messages and its directory is the base directory.
/// The loader's entry point for tests and the fuzzer.
[[nodiscard]] PipelineSpec parse_pipeline_spec(std::string_view text,
                                               const std::filesystem::path& file,
                                               const OpRegistry& ops,
                                               const LoadOptions& options = {});

/// Counts of one run (`dagflow run --stats-json`).
struct PipelineStats {
  /// Nodes whose body ran (a map counts once, probes count).
  std::size_t executed = 0;
  /// Nodes served whole from the cache (a map all of whose blocks were cached counts here).
  std::size_t cache_hits = 0;
  /// Elements of maps computed, and found in per-block cache entries (a map with `reduce` counts
  /// its elements too; a map fused into the map that reads it counts none: its reader counts the
  /// chain's elements once).
  std::size_t items_executed = 0;
  std::size_t items_cached = 0;
  double seconds = 0;
  /// Nodes that failed, and needed nodes never started (a run that failed or was cancelled).
  std::size_t failed = 0;
  std::size_t not_run = 0;
  /// Across ranks (ExecutorOptions::cluster of more than one rank): what each rank did in the
  /// whole run (its probes' computes too), by rank; empty otherwise. The counts above are the
  /// whole run's on every rank, whichever rank ran each node; `seconds` is this rank's.
  std::vector<RankStats> ranks{};
};

/// What happened to one node in a run. kFailed: it failed (after its retries; a run reports it
/// only when it goes on, see PipelineRunError), or in a dry run a probe that failed (a run would
/// stop there; NodeRunInfo::error says why). kNotRun: a run that failed or was cancelled needed
/// it but never started it.
enum class NodeOutcome : std::uint8_t { kNotNeeded, kExecuted, kCached, kFailed, kNotRun };

struct NodeRunInfo {
  std::string id;
  std::string op;
  NodeOutcome outcome = NodeOutcome::kNotNeeded;
  std::size_t items_executed = 0;
  std::size_t items_cached = 0;
  double seconds = 0;   // time in the node's body (summed over workers for a map)
  std::string error{};  // with kFailed: the failure's message
  /// Why it runs ("argument k changed", "1 of 6 items changed: texts/a.txt", "no cache entry",
  /// "forced", "output out/top.json missing"...), or how a cached writer's files were kept
  /// ("output out/top.json restored"). Filled by dry_run() for what would run, and by run()
  /// when RunRequest::explain is set; empty otherwise.
  std::string reason{};
};

/// Cancels pipeline runs from another thread (the `dagflow` command's Ctrl-C): give it to the
/// runs (RunRequest::cancel), then call cancel() from any thread — but not from a signal handler,
/// as it takes a lock: let the handler wake a thread that calls it. Thread-safe; not copyable.
///
///   auto stop = std::make_shared<dagflow::CancelToken>();
///   std::jthread watcher([stop] { wait_for_ctrl_c(); stop->cancel(); });
///   try {
///     pipeline.run(options, {.cancel = stop});
///   } catch (const dagflow::PipelineCancelled& e) { /* e.result(): what finished */ }
class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;
  ~CancelToken() = default;

  /// Cancels, for good: the runs using the token stop as Executor::cancel() stops a compute
  /// (tasks not yet started never start; running ones see this_task::stop_requested(), which
  /// kills a `shell` op's command) and throw PipelineCancelled; a run given it later throws that
  /// before running anything. What finished stays cached and recorded.
  void cancel() noexcept;
  /// Whether cancel() was called.
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_.load(); }

  /// While attached, cancel() reaches `executor`'s computes (at once if it was called already).
  /// How a run uses the token; detach before the Executor is destroyed.
  void attach(Executor& executor);
  void detach(Executor& executor) noexcept;

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::vector<Executor*> executors_;  // attached, under mutex_
};

/// What to run, beyond the options of the Executor (`dagflow run FILE [NODE...] --force ...`).
struct RunRequest {
  /// The nodes to compute, with everything they need; empty = the pipeline's outputs.
  std::vector<std::string> targets{};
  /// Nodes to run again even if cached (`--force`); what depends on one re-runs only if its new
  /// result differs from the last one (early cut-off).
  std::vector<std::string> force{};
  /// Run every node the targets need again, still writing the cache (`-B`).
  bool force_all = false;
  /// Fill NodeRunInfo::reason in run() too (`dagflow run -v`).
  bool explain = false;
  /// Called as each node finishes (from the worker that finished it; calls never overlap).
  std::function<void(const NodeRunInfo&)> on_node{};
  /// Cancels the run when its cancel() is called (Ctrl-C); default none.
  std::shared_ptr<CancelToken> cancel{};
};

/// The result of Pipeline::run.
struct PipelineResult {
  /// Each output id -> its value.
  Value::Map outputs{};
  PipelineStats stats{};
  /// Every node, in spec order.
  std::vector<NodeRunInfo> nodes{};
};

/// A run was cancelled (RunRequest::cancel). what() is the Executor's Cancelled message. What
/// finished is cached and recorded, so the next run resumes from it; result() tells what each
/// node did (kNotRun: needed but never started). Its outputs are empty.
class PipelineCancelled : public Cancelled {
 public:
  PipelineCancelled(const std::string& what, PipelineResult result);
  [[nodiscard]] const PipelineResult& result() const noexcept { return *result_; }

 private:
  std::shared_ptr<const PipelineResult> result_;  // shared: an exception is copied
};

/// Nodes failed in a run with ExecutorOptions::keep_going; everything that did not depend on them
/// ran and is cached. A RunError whose failures() name the nodes (TaskError::label() is the node's
/// id); node_errors() says the same as NodeErrors ("FILE:LINE:COL: node 'x' (op y) failed: ...")
/// in the same order, and result() what each node did (kFailed, kNotRun for those downstream).
class PipelineRunError : public RunError {
 public:
  PipelineRunError(const RunError& error, std::vector<NodeError> node_errors,
                   PipelineResult result);
  [[nodiscard]] const std::vector<NodeError>& node_errors() const noexcept { return node_errors_; }
  [[nodiscard]] const PipelineResult& result() const noexcept { return *result_; }

 private:
  std::vector<NodeError> node_errors_;
  std::shared_ptr<const PipelineResult> result_;  // shared: an exception is copied
};

/// A loaded pipeline bound to its ops.
class Pipeline {
 public:
  /// Loads and validates `file` (see load_pipeline_spec).
  [[nodiscard]] static Pipeline load(const std::filesystem::path& file, OpRegistry ops,
                                     LoadOptions options = {});
  /// A spec made elsewhere (unchecked but for this): throws std::invalid_argument when a node's
  /// op or reduce op is not in `ops`, or a node with `reduce` has no map or other inputs.
  Pipeline(PipelineSpec spec, OpRegistry ops, LoadOptions options = {});

  [[nodiscard]] const PipelineSpec& spec() const noexcept { return spec_; }
  [[nodiscard]] const OpRegistry& ops() const noexcept { return ops_; }
  /// `.dagflow/cache` in the pipeline's directory (default_cache_dir_in(spec().base_dir)).
  [[nodiscard]] std::filesystem::path default_cache_dir() const;

  /// Runs the outputs, or the request's targets (probes first, then everything they need on all
  /// cores), and returns their values. With a disk cache, it is make-like: a node runs only when
  /// its key (op, version, arguments, inputs) is not in the cache; a node that re-runs and
  /// returns what it returned last time lets what depends on it be served from the cache (early
  /// cut-off); writers' files are tracked (see OpInfo::writes_files); and the run is recorded
  /// beside the cache (also when it fails, for what finished). Each node's task runs with its
  /// NodeSpec::options, and the Executor gets the pipeline's resource capacities
  /// (PipelineSpec::resources) unless `options.resources` names them itself. Throws NodeError
  /// when a node fails (after its retries), PipelineRunError instead with
  /// `options.keep_going`, PipelineCancelled when RunRequest::cancel cancels it, PipelineError
  /// for a target or forced node that does not exist, and std::invalid_argument for a refused
  /// cache_dir.
  ///
  /// Across ranks (`options.cluster` of more than one rank), every rank calls run() on the same
  /// pipeline with the same request, and gets the same result and the same exceptions (a cache
  /// directory refused on one rank fails every rank, its message starting "rank N: "). Nodes
  /// run where the Executor places them (probes and nodes with side effects on rank 0), and the
  /// ranks exchange what each did after each compute, so that outcomes, counts and on_node calls
  /// are those of one process. Only rank 0 reads the run record and writers' files and writes
  /// anything outside the nodes (the record, restored files); writers write their own files
  /// wherever they run, so the pipeline's directory and the cache must be one shared file system.
  [[nodiscard]] PipelineResult run(ExecutorOptions options = {},
                                   const RunRequest& request = {}) const;

  /// What run() would do now, running only the probes (`dagflow run --dry-run`, like
  /// `make -n`): each node's outcome is kExecuted when it would run (probes have run), kCached
  /// when its result is in the cache, kNotNeeded when nothing needs it. No outputs. A probe
  /// that takes the result of another node needs that node computed first: it is. A probe that
  /// fails is kFailed with its message (no exception): what needs it would run once it is fixed.
  /// Each node that would run says why (NodeRunInfo::reason).
  [[nodiscard]] PipelineResult dry_run(ExecutorOptions options = {},
                                       const RunRequest& request = {}) const;

  /// The file of this pipeline's run record in `cache_dir` (see dagflow/pipeline/records.hpp).
  [[nodiscard]] std::filesystem::path record_file(const std::filesystem::path& cache_dir) const;

  /// The pipeline as a Graphviz DOT digraph (nodes labelled "id\nop", maps "id\nmap op" drawn
  /// with a double border, and "id\nmap op\nreduce: op2" with `reduce`; probes as ellipses).
  /// With `states` (PipelineResult::nodes of run() or dry_run()), nodes are filled by outcome:
  /// would run / ran orange, cached green, not needed grey, a failed probe red.
  [[nodiscard]] std::string to_dot(std::span<const NodeRunInfo> states = {}) const;

 private:
  PipelineResult execute(ExecutorOptions options, const RunRequest& request, bool dry) const;

  PipelineSpec spec_;
  OpRegistry ops_;
  LoadOptions options_;
};

}  // namespace dagflow
