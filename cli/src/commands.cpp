#include "commands.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/trace.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>
#include <dagflow/pipeline/pipeline.hpp>
#include <dagflow/pipeline/records.hpp>
#include <dagflow/util/posix_io.hpp>
#include <dagflow/util/suggest.hpp>

#include "graphviz.hpp"
#include "interrupts.hpp"
#include "progress.hpp"
#include "ranks.hpp"
#include "ranks_trace.hpp"
#include "summary.hpp"

namespace dagflow::cli {

namespace {

namespace fs = std::filesystem;

// --resource NAME=N, each as written, as LoadOptions::resources.
std::map<std::string, std::size_t> capacities_of(const std::vector<std::string>& given) {
  std::map<std::string, std::size_t> capacities;
  for (const std::string& text : given) {
    const std::size_t equals = text.find('=');
    const std::string_view count = equals == std::string::npos
                                       ? std::string_view()
                                       : std::string_view(text).substr(equals + 1);
    std::size_t units = 0;
    const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), units);
    if (equals == 0 || count.empty() || error != std::errc() ||
        end != count.data() + count.size()) {
      throw CommandError(fmt::format(
          "--resource {}: expected NAME=N, N a whole number of units (0 or more)", text));
    }
    capacities.insert_or_assign(text.substr(0, equals), units);
  }
  return capacities;
}

// The built-in ops and those of the --plugin files (relative to the working directory).
OpRegistry ops_with(const std::vector<std::string>& plugins) {
  OpRegistry ops = OpRegistry::builtins();
  for (const std::string& plugin : plugins) ops.load_plugin(plugin);
  return ops;
}

Pipeline load(const LoadArgs& args) {
  return Pipeline::load(args.file, ops_with(args.plugins),
                        LoadOptions{.set = args.set,
                                    .allow_outside = args.allow_outside,
                                    .allow_shell = args.allow_shell,
                                    .allow_plugins = args.allow_plugins,
                                    .resources = capacities_of(args.resources)});
}

std::optional<Capability> refused_capability(const std::exception_ptr& error) noexcept;

// The capability `error` (or the failure it wraps) says was refused, if any.
std::optional<Capability> refused_capability(const std::exception& error) noexcept {
  if (const auto* e = dynamic_cast<const CapabilityError*>(&error)) return e->refused();
  if (const auto* e = dynamic_cast<const PipelineError*>(&error)) return e->refused();
  if (const auto* e = dynamic_cast<const NodeError*>(&error)) return refused_capability(e->cause());
  if (const auto* e = dynamic_cast<const TaskError*>(&error)) {
    return refused_capability(e->original());
  }
  return std::nullopt;
}

std::optional<Capability> refused_capability(const std::exception_ptr& error) noexcept {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return refused_capability(e);
  } catch (...) {
  }
  return std::nullopt;
}

std::string_view outcome_name(NodeOutcome outcome) {
  switch (outcome) {
    case NodeOutcome::kExecuted:
      return "executed";
    case NodeOutcome::kCached:
      return "cached";
    case NodeOutcome::kNotNeeded:
      return "not_needed";
    case NodeOutcome::kFailed:
      return "failed";
    case NodeOutcome::kNotRun:
      return "not_run";
  }
  return "not_needed";
}

// "1.5 MiB": for people; the exact byte count is printed beside it.
std::string human_bytes(std::uint64_t bytes) {
  constexpr std::string_view kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  auto size = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (size >= 1024 && unit + 1 < std::size(kUnits)) {
    size /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", size, kUnits[unit]);
}

std::string entries_text(const CacheStats& stats) {
  return fmt::format("{} {}, {}", stats.entries, stats.entries == 1 ? "entry" : "entries",
                     human_bytes(stats.bytes));
}

// A file the command writes once its work is done (--stats-json, --trace, --timeline, graph
// --output), opened (and so checked) before the work starts, so that a bad path costs nothing.
// Removed again when it was never written, so that a failed run leaves no empty or stale file.
class OutputFile {
 public:
  // `what` names the contents in messages ("stats"). An empty path: no file.
  OutputFile(std::string path, std::string_view what) : path_(std::move(path)), what_(what) {
    if (path_.empty()) return;
    out_.open(path_, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!out_) fail();
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (out_.is_open()) {
      out_.close();
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }

  [[nodiscard]] bool wanted() const noexcept { return !path_.empty(); }

  // Writes `text` and closes the file. Throws CommandError when that fails.
  void write(std::string_view text) {
    out_ << text;
    out_.close();
    if (!out_) fail();
  }

 private:
  [[noreturn]] void fail() const {
    throw CommandError(
        fmt::format("cannot write {} to '{}': {}", what_, path_, util::errno_text(errno)));
  }

  std::string path_;
  std::string_view what_;
  std::ofstream out_;
};

// The --stats-json file's contents.
std::string stats_json(const PipelineResult& result) {
  Value::List nodes;
  for (const NodeRunInfo& node : result.nodes) {
    nodes.emplace_back(Value::Map{{"id", node.id},
                                  {"op", node.op},
                                  {"outcome", outcome_name(node.outcome)},
                                  {"items_executed", node.items_executed},
                                  {"items_cached", node.items_cached},
                                  {"seconds", node.seconds}});
  }
  const PipelineStats& s = result.stats;
  Value::Map stats{{"executed", s.executed},
                   {"cache_hits", s.cache_hits},
                   {"items_executed", s.items_executed},
                   {"items_cached", s.items_cached},
                   {"failed", s.failed},
                   {"not_run", s.not_run},
                   {"seconds", s.seconds},
                   {"nodes", std::move(nodes)}};
  if (!s.ranks.empty()) {  // across ranks: what each did
    Value::List ranks;
    for (std::size_t r = 0; r < s.ranks.size(); ++r) {
      ranks.emplace_back(Value::Map{{"rank", r},
                                    {"executed", s.ranks[r].executed},
                                    {"items_executed", s.ranks[r].items_executed},
                                    {"busy_seconds", s.ranks[r].busy_seconds}});
    }
    stats.emplace("ranks", std::move(ranks));
  }
  return to_json(Value(std::move(stats)), JsonStyle::kPretty) + "\n";
}

// The Chrome trace (--trace) and SVG timeline (--timeline) of a run: recorded while it runs,
// written after it, whether it succeeded or not. Across ranks every rank records its tasks for
// the trace and rank 0 writes it, one process per rank (gather_ranks()); the timeline is rank 0's.
class TraceFiles {
 public:
  TraceFiles(const RunArgs& args, bool leads)
      : trace_file_(leads ? args.trace : std::string(), "the trace"),
        timeline_file_(leads ? args.timeline : std::string(), "the timeline"),
        traced_(!args.trace.empty()) {
    if (traced_ || timeline_file_.wanted()) recorder_ = std::make_shared<TraceRecorder>();
  }

  [[nodiscard]] const std::shared_ptr<TraceRecorder>& recorder() const { return recorder_; }

  // Across ranks, after the run (collective when --trace was given, on every rank alike):
  // rank 0 gets every rank's trace.
  void gather_ranks(Ranks& ranks) {
    if (ranks.size() == 1 || !traced_) return;
    const std::vector<std::string> all = ranks.all_gather(recorder_->chrome_trace());
    if (!ranks.leads()) return;
    try {
      ranks_trace_ = chrome_trace_of_ranks(all);
    } catch (const std::exception& e) {  // rank 0's trace alone, rather than no exit code agreed
      std::cerr << "dagflow: warning: the trace holds rank 0's tasks only: " << e.what() << '\n';
    }
  }

  // Throws CommandError when a file cannot be written.
  void write() {
    if (trace_file_.wanted()) {
      trace_file_.write(ranks_trace_.empty() ? recorder_->chrome_trace() : ranks_trace_);
    }
    if (timeline_file_.wanted()) timeline_file_.write(recorder_->timeline_svg());
  }

  // After a failed run: what was recorded up to the failure. A file that cannot be written is
  // a warning then, so that the run's own error is the one reported.
  void write_after_failure() noexcept {
    try {
      write();
    } catch (const std::exception& e) {
      std::cerr << "dagflow: warning: " << e.what() << '\n';
    }
  }

 private:
  OutputFile trace_file_;
  OutputFile timeline_file_;
  bool traced_;
  std::shared_ptr<TraceRecorder> recorder_;
  std::string ranks_trace_;  // rank 0, across ranks: every rank's trace
};

void print_outputs(const Pipeline& pipeline, const PipelineResult& result, bool json) {
  if (json) {
    std::cout << to_json(Value(result.outputs), JsonStyle::kPretty) << '\n';
    return;
  }
  for (const std::string& id : pipeline.spec().outputs) {
    const auto it = result.outputs.find(id);
    if (it != result.outputs.end()) std::cout << id << ": " << to_json(it->second) << '\n';
  }
  for (const auto& [id, value] : result.outputs) {  // named targets that are no output
    const auto& outputs = pipeline.spec().outputs;
    if (std::find(outputs.begin(), outputs.end(), id) == outputs.end()) {
      std::cout << id << ": " << to_json(value) << '\n';
    }
  }
}

// What a node's line of `dagflow run --dry-run` says.
enum class DryState : std::uint8_t { kWouldRun, kCached, kNotNeeded, kProbe, kProbeFailed };
constexpr std::size_t kDryStates = 5;

DryState dry_state(const Pipeline& pipeline, const NodeRunInfo& node) {
  if (node.outcome == NodeOutcome::kFailed) return DryState::kProbeFailed;
  const OpInfo* op = pipeline.ops().find(node.op);
  if (op != nullptr && op->is_probe()) return DryState::kProbe;
  switch (node.outcome) {
    case NodeOutcome::kExecuted:
      return DryState::kWouldRun;
    case NodeOutcome::kCached:
      return DryState::kCached;
    case NodeOutcome::kNotNeeded:
    case NodeOutcome::kFailed:
    case NodeOutcome::kNotRun:
      break;
  }
  return DryState::kNotNeeded;
}

std::string_view dry_state_text(DryState state) {
  switch (state) {
    case DryState::kWouldRun:
      return "would run";
    case DryState::kCached:
      return "cached";
    case DryState::kNotNeeded:
      return "not needed";
    case DryState::kProbe:
      return "probe ran";
    case DryState::kProbeFailed:
      return "failed";
  }
  return "not needed";
}

std::string_view dry_state_json(DryState state) {
  switch (state) {
    case DryState::kWouldRun:
      return "would_run";
    case DryState::kCached:
      return "cached";
    case DryState::kNotNeeded:
      return "not_needed";
    case DryState::kProbe:
      return "probe";
    case DryState::kProbeFailed:
      return "probe_failed";
  }
  return "not_needed";
}

// "would run   counts (map word_count): 1 of 6 items changed: texts/a.txt": a node, what
// happens to it, and why (or its error); a map with `reduce` says "(map word_count, reduce:
// merge_counts)".
std::string node_line(const NodeSpec& spec, const NodeRunInfo& node, std::string_view state) {
  const std::string reduce = spec.reduce.empty() ? "" : ", reduce: " + spec.reduce;
  std::string line = fmt::format("{:<12}{} ({}{}{})", state, node.id,
                                 spec.map.empty() ? "" : "map ", node.op, reduce);
  if (!node.error.empty()) return line + ": " + node.error;
  if (!node.reason.empty()) return line + ": " + node.reason;
  return line;
}

RunRequest request_of(const RunArgs& args) {
  return RunRequest{.targets = args.targets,
                    .force = args.force,
                    .force_all = args.force_all,
                    .explain = args.verbose};
}

// `dagflow run --dry-run`, like `make -n`: a line per node ("would run   counts (map
// word_count)"), or with --json {"nodes": [{"id", "op", "state"}]}; a summary on stderr.
int dry_run_command(const Pipeline& pipeline, ExecutorOptions options, const RunArgs& args) {
  // A missing cache holds nothing: look at none rather than have the Executor create it.
  std::error_code ec;
  if (!options.cache_dir.empty() && !fs::exists(options.cache_dir, ec)) options.cache_dir.clear();
  const PipelineResult plan = pipeline.dry_run(std::move(options), request_of(args));
  std::size_t count[kDryStates] = {};
  Value::List nodes;
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    const NodeRunInfo& node = plan.nodes[i];
    const DryState state = dry_state(pipeline, node);
    ++count[static_cast<std::size_t>(state)];
    if (args.json) {
      Value::Map entry{{"id", node.id},
                       {"op", node.op},
                       {"state", dry_state_json(state)},
                       {"reason", node.reason.empty() ? Value() : Value(node.reason)}};
      if (!node.error.empty()) entry.emplace("error", node.error);
      nodes.emplace_back(std::move(entry));
    } else {
      std::cout << node_line(pipeline.spec().nodes[i], node, dry_state_text(state)) << '\n';
    }
  }
  if (args.json) {
    std::cout << to_json(Value(Value::Map{{"nodes", std::move(nodes)}}), JsonStyle::kPretty)
              << '\n';
  }
  std::cout.flush();
  if (!args.quiet) {
    std::cerr << fmt::format(
        "{}: dry run, {} nodes: {} would run, {} cached, {} not needed, {} {} ran{}\n",
        pipeline.spec().name, plan.nodes.size(), count[0], count[1], count[2], count[3],
        count[3] == 1 ? "probe" : "probes",
        count[4] == 0 ? ""
                      : fmt::format(", {} {} failed (a run would stop there, exit 1)", count[4],
                                    count[4] == 1 ? "probe" : "probes"));
  }
  return kExitOk;
}

// Prints `text` indented by two spaces, its words wrapped to lines of at most kLineWidth
// characters (a longer word gets a line of its own); its own line breaks are kept.
void print_wrapped(std::string_view text) {
  constexpr std::size_t kLineWidth = 80;
  constexpr std::string_view kIndent = "  ";
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view paragraph = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    std::string line;
    while (!paragraph.empty()) {
      const std::size_t start = paragraph.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      paragraph.remove_prefix(start);
      const std::string_view word = paragraph.substr(0, paragraph.find(' '));
      paragraph.remove_prefix(word.size());
      if (!line.empty() && kIndent.size() + line.size() + 1 + word.size() > kLineWidth) {
        std::cout << kIndent << line << '\n';
        line.clear();
      }
      if (!line.empty()) line += ' ';
      line += word;
    }
    std::cout << kIndent << line << '\n';
  }
}

void print_op(const OpInfo& op) {
  std::cout << op.name() << '\n';
  print_wrapped(op.doc());
  std::cout << "  inputs: ";
  if (op.inputs().empty()) std::cout << "(none)";
  if (op.takes_any_inputs()) std::cout << "any number, as one ";
  for (std::size_t i = 0; i < op.inputs().size(); ++i) {
    std::cout << (i == 0 ? "" : ", ") << op.inputs()[i];
  }
  if (op.has_keyed_inputs()) std::cout << " (or several, as one map input node id -> value)";
  std::cout << '\n';
  std::cout << "  args:   ";
  if (op.args().empty()) std::cout << "(none)\n";
  for (std::size_t i = 0; i < op.args().size(); ++i) {
    const ArgSpec& arg = op.args()[i];
    std::cout << (i == 0 ? "" : "          ") << arg.name << ": " << arg.type;
    if (arg.default_value) std::cout << " = " << to_json(*arg.default_value);
    if (!arg.default_value && arg.is_output_path) {
      std::cout << " (required; a path it writes to)";
    } else if (!arg.default_value) {
      std::cout << " (required)";
    } else if (arg.is_output_path) {
      std::cout << " (a path it writes to)";
    }
    std::cout << '\n';
  }
  std::cout << "  result: " << op.result_type() << '\n';
  std::string flags;
  const auto add_flag = [&](std::string_view flag) {
    flags += flags.empty() ? "" : ", ";
    flags += flag;
  };
  if (op.is_probe()) add_flag("probe (runs on every run, before the rest)");
  if (op.runs_commands()) add_flag("runs commands (needs --allow-shell)");
  const std::string unless =
      op.writer_arg().empty() ? std::string() : " unless a node gives " + op.writer_arg();
  const std::string only =
      op.writer_arg().empty() ? std::string() : " where a node gives " + op.writer_arg();
  if (op.has_side_effects()) add_flag("side effects (never cached" + unless + ")");
  if (op.io()) add_flag("io (runs on the I/O threads unless a node says io: false)");
  if (op.writes_files()) {
    add_flag(op.keeps_file_bytes()
                 ? "writes files (tracked; their bytes kept to restore them" + only + ")"
                 : "writes files (tracked; rewritten when changed" + only + ")");
  }
  if (!flags.empty()) std::cout << "  flags:  " << flags << '\n';
  if (!op.plugin().empty()) std::cout << "  plugin: " << op.plugin().string() << '\n';
}

// The cache of a pipeline in `pipeline_dir` when none is named: beside it, or where the user's
// caches go when it cannot be written there (said in one line unless `quiet`).
fs::path default_cache(const fs::path& pipeline_dir, bool quiet) {
  DefaultCacheDir cache = usable_default_cache_dir(pipeline_dir);
  if (!cache.notice.empty() && !quiet) std::cerr << "dagflow: notice: " << cache.notice << '\n';
  return std::move(cache.dir);
}

// The cache directory a `dagflow cache` command is about: --cache-dir against the working
// directory, else `.dagflow/cache` beside the pipeline file (found without loading the pipeline,
// so that the cache of a pipeline that no longer loads can still be cleared).
fs::path cache_dir_of(const CacheArgs& args) {
  if (!args.cache_dir.empty()) return fs::absolute(args.cache_dir);
  if (args.file.empty()) {
    throw CommandError("give a pipeline FILE or --cache-dir DIR");
  }
  std::error_code ec;
  const fs::file_status status = fs::status(args.file, ec);
  if (ec) throw CommandError(fmt::format("cannot read '{}': {}", args.file, ec.message()));
  if (!fs::is_regular_file(status)) {
    throw CommandError(fmt::format("'{}' is not a pipeline file", args.file));
  }
  return default_cache(pipeline_dir_of(args.file), /*quiet=*/true);
}

Value op_json(const OpInfo& op) {
  Value::List inputs(op.inputs().begin(), op.inputs().end());
  Value::List args;
  for (const ArgSpec& arg : op.args()) {
    Value::Map a{{"name", arg.name}, {"type", arg.type}, {"output_path", arg.is_output_path}};
    a.emplace("default", arg.default_value ? *arg.default_value : Value());
    a.emplace("required", !arg.default_value.has_value());
    args.emplace_back(std::move(a));
  }
  return Value::Map{{"doc", op.doc()},
                    {"inputs", std::move(inputs)},
                    {"result", op.result_type()},
                    {"args", std::move(args)},
                    {"version", static_cast<std::int64_t>(op.version())},
                    {"probe", op.is_probe()},
                    {"runs_commands", op.runs_commands()},
                    {"side_effects", op.has_side_effects()},
                    {"writes_files", op.writes_files()},
                    {"keeps_file_bytes", op.keeps_file_bytes()},
                    {"io", op.io()},
                    {"keyed_inputs", op.has_keyed_inputs()},
                    {"plugin", op.plugin().empty() ? Value() : Value(op.plugin().string())}};
}

Value stats_value(const CacheStats& stats) {
  return Value::Map{{"entries", stats.entries}, {"bytes", stats.bytes}};
}

void print_cache_result(const CacheArgs& args, const fs::path& dir, const std::string& text,
                        Value::Map json) {
  if (args.json) {
    json.insert_or_assign("cache_dir", dir.string());
    std::cout << to_json(Value(std::move(json)), JsonStyle::kPretty) << '\n';
  } else {
    std::cout << text << '\n';
  }
}

void cache_stats(const DiskCache& cache, const CacheArgs& args) {
  const CacheStats all = cache.stats();
  std::string text =
      fmt::format("{}: {} ({} bytes)", cache.path().string(), entries_text(all), all.bytes);
  Value::Map json{{"total", stats_value(all)}};
  if (!args.file.empty()) {
    const PipelineCacheUse use = pipeline_cache_use(cache, args.file);
    text += use.recorded ? fmt::format("\n{}: {} ({} of them shared with other pipelines)",
                                       args.file, entries_text(use.entries), use.shared.entries)
                         : fmt::format("\n{}: no run recorded in this cache", args.file);
    json.emplace("pipeline", Value::Map{{"file", args.file},
                                        {"recorded", use.recorded},
                                        {"entries", stats_value(use.entries)},
                                        {"shared", stats_value(use.shared)}});
  }
  print_cache_result(args, cache.path(), text, std::move(json));
}

void cache_list(const DiskCache& cache, const CacheArgs& args) {
  const PipelineCacheUse use = pipeline_cache_use(cache, args.file);
  std::string text =
      use.recorded ? "" : fmt::format("{}: no run recorded in this cache", args.file);
  Value::List nodes;
  for (const RecordedNodeUse& node : use.nodes) {
    if (!text.empty()) text += '\n';
    text += fmt::format("{:<12}{} ({}): {}", node.cached ? "cached" : "not cached", node.id,
                        node.op, entries_text(node.entries));
    nodes.emplace_back(Value::Map{{"id", node.id},
                                  {"op", node.op},
                                  {"state", node.cached ? "cached" : "not_cached"},
                                  {"entries", node.entries.entries},
                                  {"bytes", node.entries.bytes}});
  }
  print_cache_result(args, cache.path(), text,
                     Value::Map{{"recorded", use.recorded}, {"nodes", std::move(nodes)}});
}

void cache_clear_pipeline(DiskCache& cache, const CacheArgs& args) {
  const PipelineCacheUse use = pipeline_cache_use(cache, args.file);
  const CacheStats removed = clear_pipeline_cache(cache, args.file);
  const std::string text =
      use.recorded
          ? fmt::format("{}: removed {} of {}; {} shared with other pipelines kept", args.file,
                        entries_text(removed), cache.path().string(), entries_text(use.shared))
          : fmt::format("{}: no run recorded in {}: nothing removed", args.file,
                        cache.path().string());
  print_cache_result(args, cache.path(), text,
                     Value::Map{{"recorded", use.recorded},
                                {"removed", stats_value(removed)},
                                {"kept_shared", stats_value(use.shared)}});
}

void cache_prune(DiskCache& cache, std::uint64_t max_bytes, const CacheArgs& args) {
  const CacheStats before = cache.stats();
  const CacheStats after = cache.prune(max_bytes);
  const CacheStats removed{.entries = before.entries - std::min(before.entries, after.entries),
                           .bytes = before.bytes - std::min(before.bytes, after.bytes)};
  print_cache_result(args, cache.path(),
                     fmt::format("{}: removed {}; {} remain", cache.path().string(),
                                 entries_text(removed), entries_text(after)),
                     Value::Map{{"removed", stats_value(removed)}, {"remain", stats_value(after)}});
}

// The Executor's options from the command line; the cache is the pipeline's unless told (the
// notice of a fallback is rank 0's to print).
ExecutorOptions executor_options(const Pipeline& pipeline, const RunArgs& args, bool leads) {
  ExecutorOptions options;
  options.threads = args.threads;
  options.io_threads = args.io_threads;
  options.keep_going = args.keep_going;
  options.durable_cache = args.durable_cache;
  if (!args.no_cache) {
    options.cache_dir = args.cache_dir.empty()
                            ? default_cache(pipeline.spec().base_dir, args.quiet || !leads)
                            : fs::absolute(args.cache_dir);
  }
  return options;
}

// What `dagflow run` shows while it runs and writes after it: the progress bar, the trace and
// timeline, the stats file. The files are opened (so checked) before the run.
// Across ranks, rank 0 shows progress (of its own tasks) and writes the files.
class RunReports {
 public:
  RunReports(const RunArgs& args, bool leads)
      : stats_(leads ? args.stats_json : std::string(), "stats"), traces_(args, leads) {
    const ProgressMode mode =
        progress_mode(args.progress, args.no_progress, args.quiet, ::isatty(STDERR_FILENO) == 1);
    if (mode != ProgressMode::kOff && leads) progress_ = std::make_shared<ProgressBar>(mode);
  }

  // Adds the observers (and, with a bar, a log that prints around it) to `options`.
  void watch(ExecutorOptions& options) const {
    if (progress_) {
      // Warnings (a damaged cache entry...) on lines of their own, not through the bar.
      options.log = [bar = progress_.get()](std::string_view message) {
        bar->print_line(fmt::format("dagflow: warning: {}", message));
      };
      options.observers.push_back(progress_);
    }
    if (traces_.recorder()) options.observers.push_back(traces_.recorder());
  }

  [[nodiscard]] ProgressBar* progress() const { return progress_.get(); }

  // Across ranks, after the run: collective (see TraceFiles::gather_ranks).
  void gather_ranks(Ranks& ranks) { traces_.gather_ranks(ranks); }

  // After a run that finished. Throws CommandError when a file cannot be written.
  void finish(const PipelineResult& result) {
    if (progress_) progress_->finish(true);
    traces_.write();
    if (stats_.wanted()) stats_.write(stats_json(result));
  }

  // After a run that failed or was interrupted: what was recorded, and the stats when the
  // nodes' outcomes are known. A file that cannot be written is a warning then, so that the
  // run's own outcome is what is reported.
  void finish_early(const PipelineResult* result) noexcept {
    if (progress_) progress_->finish(false);
    traces_.write_after_failure();
    if (result == nullptr || !stats_.wanted()) return;
    try {
      stats_.write(stats_json(*result));
    } catch (const std::exception& e) {
      std::cerr << "dagflow: warning: " << e.what() << '\n';
    }
  }

 private:
  OutputFile stats_;
  TraceFiles traces_;
  std::shared_ptr<ProgressBar> progress_;
};

// `-v`: a line per node as it finishes, with why it ran (printed around the progress bar).
std::function<void(const NodeRunInfo&)> verbose_lines(const Pipeline& pipeline, ProgressBar* bar) {
  // Events name nodes by id: find their specs without a search per line.
  std::unordered_map<std::string_view, const NodeSpec*> specs;
  for (const NodeSpec& n : pipeline.spec().nodes) specs.emplace(n.id, &n);
  return [specs = std::move(specs), bar](const NodeRunInfo& node) {
    const std::string_view state = node.outcome == NodeOutcome::kExecuted ? "ran"
                                   : node.outcome == NodeOutcome::kFailed ? "failed"
                                                                          : "cached";
    const std::string line = node_line(*specs.at(node.id), node, state);
    if (bar != nullptr) {
      bar->print_line(line);
    } else {
      std::cerr << line << '\n';
    }
  };
}

// Up to five ids of the nodes with `outcome`, "a, b and 3 more"; "" for none.
std::string ids_with(const PipelineResult& result, NodeOutcome outcome) {
  constexpr std::size_t kShown = 5;
  std::vector<std::string_view> ids;
  std::size_t more = 0;
  for (const NodeRunInfo& node : result.nodes) {
    if (node.outcome != outcome) continue;
    if (ids.size() < kShown) {
      ids.push_back(node.id);
    } else {
      ++more;
    }
  }
  std::string text = fmt::format("{}", fmt::join(ids, ", "));
  if (more > 0) text += fmt::format(" and {} more", more);
  return text;
}

// After Ctrl-C: the summary, then what finished (cached: the next run resumes from it).
int report_interrupted(const Pipeline& pipeline, const PipelineResult& result,
                       const RunArgs& args) {
  if (!args.quiet) std::cerr << summary_line(pipeline, result) << '\n' << rank_lines(result);
  const PipelineStats& s = result.stats;
  std::string line = fmt::format(
      "dagflow: interrupted: {} of {} needed nodes finished ({} executed, {} cached), kept in "
      "the cache for the next run",
      s.executed + s.cache_hits, s.executed + s.cache_hits + s.failed + s.not_run, s.executed,
      s.cache_hits);
  if (s.not_run > 0) line += "; not finished: " + ids_with(result, NodeOutcome::kNotRun);
  std::cerr << line << '\n';
  return kExitInterrupted;
}

// After a run that went on past failures (-k): every failure, then the summary.
int report_failures(const Pipeline& pipeline, const PipelineRunError& error, const RunArgs& args) {
  for (const NodeError& e : error.node_errors()) {
    std::cerr << "dagflow: error: " << e.what() << flag_hint(e) << '\n';
  }
  const PipelineResult& result = error.result();
  if (!args.quiet) {
    std::cerr << summary_line(pipeline, result) << '\n' << op_table(result) << rank_lines(result);
  }
  return kExitTaskFailed;
}

// What `dagflow run` makes before the run: the pipeline, the Executor's options, the files it
// writes (opened, so checked), the request. Across ranks only rank 0 prints nodes (-v) and
// shows progress; the others' warnings name their rank.
struct RunSetup {
  RunSetup(const RunArgs& args, const Ranks& ranks)
      : pipeline(load(args.load)),
        options(executor_options(pipeline, args, ranks.leads())),
        reports(args, ranks.leads()),
        request(request_of(args)) {
    reports.watch(options);
    if (args.verbose && ranks.leads()) {
      request.on_node = verbose_lines(pipeline, reports.progress());
    }
    request.cancel = std::make_shared<CancelToken>();
    options.cluster = ranks.cluster();
    if (!ranks.leads()) {
      options.log = [rank = ranks.rank()](std::string_view message) {
        std::cerr << fmt::format("dagflow: warning: rank {}: {}\n", rank, message);
      };
    }
  }

  Pipeline pipeline;
  ExecutorOptions options;
  RunReports reports;
  RunRequest request;
};

// Across ranks: every rank's exit code and error text (and rank 0's `leader_note`), gathered.
// Rank 0 prints each error text it has not printed yet (`printed`), once, naming the rank it
// came from when that is not rank 0 — with `all_distinct`, every distinct text; otherwise only
// those of ranks whose code differs from rank 0's (one failure seen by every rank may read a
// little differently where it happened). Every rank then exits with the same code: the lowest
// rank's that is not 0.
struct Agreed {
  int code = kExitOk;
  std::string leader_note;
};
Agreed agree(Ranks& ranks, const Failure& mine, std::string_view printed, bool all_distinct,
             const std::string& leader_note = {}) {
  const Value said = Value::Map{{"code", mine.code}, {"text", mine.text}, {"note", leader_note}};
  const std::vector<std::string> all = ranks.all_gather(to_json(said));
  Agreed agreed;
  std::vector<std::string> shown{std::string(printed)};
  int leader_code = kExitOk;
  for (std::size_t r = 0; r < all.size(); ++r) {
    const Value::Map heard = from_json(all[r]).as_map();
    const int code = static_cast<int>(heard.at("code").as_int());
    const std::string& text = heard.at("text").as_string();
    if (r == 0) {
      agreed.leader_note = heard.at("note").as_string();
      leader_code = code;
    }
    if (code != kExitOk && agreed.code == kExitOk) agreed.code = code;
    if (!ranks.leads() || text.empty() || (!all_distinct && r > 0 && code == leader_code)) {
      continue;
    }
    if (std::find(shown.begin(), shown.end(), text) != shown.end()) continue;
    shown.push_back(text);
    if (r == 0) {
      std::cerr << text;
      continue;
    }
    constexpr std::string_view kError = "dagflow: error: ";
    const std::string_view rest =
        text.starts_with(kError) ? std::string_view(text).substr(kError.size()) : text;
    std::cerr << fmt::format("dagflow: error: rank {}: {}", r, rest);
  }
  return agreed;
}

// How a run ended, for the reports after it.
enum class RunEnd : std::uint8_t { kDone, kInterrupted, kFailures, kError };

// `dagflow run` once prepared: the run, the files, then what rank 0 prints.
int run_prepared(RunSetup& setup, const RunArgs& args, Ranks& ranks) {
  const Pipeline& pipeline = setup.pipeline;
  RunReports& reports = setup.reports;
  const InterruptWatch interrupts(setup.request.cancel);  // until everything is reported
  RunEnd end = RunEnd::kDone;
  PipelineResult result;
  std::optional<PipelineRunError> failures;
  Failure failure;  // kError: what was thrown
  try {
    result = pipeline.run(std::move(setup.options), setup.request);
  } catch (const PipelineCancelled& e) {
    end = RunEnd::kInterrupted;
    result = e.result();
  } catch (const PipelineRunError& e) {
    end = RunEnd::kFailures;
    failures.emplace(e);
  } catch (...) {
    end = RunEnd::kError;
    failure = current_failure();
  }
  reports.gather_ranks(ranks);

  const bool leads = ranks.leads();
  int code = kExitOk;
  switch (end) {
    case RunEnd::kDone:
      try {
        reports.finish(result);
      } catch (...) {
        failure = current_failure();  // an output file that could not be written
        if (leads) std::cerr << failure.text;
        code = failure.code;
        break;
      }
      if (leads) {
        print_outputs(pipeline, result, args.json);
        std::cout.flush();
        if (!args.quiet) {
          std::cerr << summary_line(pipeline, result) << '\n'
                    << op_table(result) << rank_lines(result);
        }
      }
      break;
    case RunEnd::kInterrupted:
      reports.finish_early(&result);
      code = leads ? report_interrupted(pipeline, result, args) : kExitInterrupted;
      break;
    case RunEnd::kFailures:
      reports.finish_early(&failures->result());
      code = leads ? report_failures(pipeline, *failures, args) : kExitTaskFailed;
      break;
    case RunEnd::kError:
      reports.finish_early(nullptr);
      if (leads) std::cerr << failure.text;
      code = failure.code;
      break;
  }
  if (ranks.size() == 1) return code;
  // The ranks' failures are the same but for one that happened to a rank alone: rank 0 says it.
  return agree(ranks, Failure{code, failure.text}, leads ? failure.text : std::string(),
               /*all_distinct=*/false)
      .code;
}

}  // namespace

Failure current_failure() noexcept {
  try {
    try {
      throw;
    } catch (const PipelineError& e) {
      return {kExitInvalid, fmt::format("{}{}\n", e.what(), flag_hint(e))};
    } catch (const NodeError& e) {
      return {kExitTaskFailed, fmt::format("dagflow: error: {}{}\n", e.what(), flag_hint(e))};
    } catch (const TaskError& e) {
      return {kExitTaskFailed, fmt::format("dagflow: error: {}{}\n", e.what(), flag_hint(e))};
    } catch (const CommandError& e) {
      return {kExitInvalid, fmt::format("dagflow: error: {}\n", e.what())};
    } catch (const std::invalid_argument& e) {  // e.g. a cache directory the Executor refuses
      return {kExitInvalid, fmt::format("dagflow: error: {}\n", e.what())};
    } catch (const fs::filesystem_error& e) {  // e.g. cannot create the cache dir
      return {kExitInvalid, fmt::format("dagflow: error: {}\n", e.what())};
    } catch (const Error& e) {
      return {kExitInvalid, fmt::format("dagflow: error: {}{}\n", e.what(), flag_hint(e))};
    } catch (const std::bad_alloc&) {
      return {kExitInvalid, "dagflow: error: out of memory\n"};
    } catch (const std::exception& e) {
      return {kExitInvalid, fmt::format("dagflow: internal error: {}\n", e.what())};
    } catch (...) {
      return {kExitInvalid, "dagflow: internal error: unknown exception\n"};
    }
  } catch (...) {  // no memory left to say it
    return {kExitInvalid, {}};
  }
}

std::string_view flag_hint(const std::exception& error) noexcept {
  const std::optional<Capability> refused = refused_capability(error);
  if (!refused) return {};
  switch (*refused) {
    case Capability::kWriteOutside:
      return " (pass --allow-outside)";
    case Capability::kRunCommands:
      return " (pass --allow-shell)";
    case Capability::kLoadPlugins:
      return " (pass --allow-plugins)";
  }
  return {};
}

int run_command(const RunArgs& args, Ranks& ranks) {
  if (args.dry_run) {  // it computes nothing: rank 0's alone, as the other commands
    if (!ranks.leads()) return kExitOk;
    const Pipeline pipeline = load(args.load);
    return dry_run_command(pipeline, executor_options(pipeline, args, true), args);
  }
  std::unique_ptr<RunSetup> setup;
  if (ranks.size() == 1) {
    setup = std::make_unique<RunSetup>(args, ranks);
    return run_prepared(*setup, args, ranks);
  }
  // Across ranks, no rank may start a run that another cannot join (its first compute would
  // wait for that rank forever): every rank prepares, then all hear whether all could. Rank 0's
  // cache directory becomes every rank's (its choice looks at the file system).
  Failure mine;
  try {
    setup = std::make_unique<RunSetup>(args, ranks);
  } catch (...) {
    mine = current_failure();
  }
  const std::string cache_dir = setup && ranks.leads() ? setup->options.cache_dir.string() : "";
  const Agreed agreed = agree(ranks, mine, {}, /*all_distinct=*/true, cache_dir);
  if (agreed.code != kExitOk) return agreed.code;
  setup->options.cache_dir = agreed.leader_note;
  return run_prepared(*setup, args, ranks);
}

int validate_command(const LoadArgs& args) {
  const Pipeline pipeline = load(args);
  const PipelineSpec& spec = pipeline.spec();
  std::cout << fmt::format("{}: ok ({} nodes, outputs: {})\n", args.file, spec.nodes.size(),
                           fmt::join(spec.outputs, ", "));
  return kExitOk;
}

int graph_command(const GraphArgs& args) {
  const Pipeline pipeline = load(args.load);
  // Checked before the probes run: a missing Graphviz or a bad path costs nothing.
  const fs::path dot_program = args.format == "svg" ? find_graphviz_dot() : fs::path();
  OutputFile output(args.output, "the graph");

  std::vector<NodeRunInfo> states;
  if (!args.no_cache) {
    const fs::path cache_dir = args.cache_dir.empty()
                                   ? default_cache(pipeline.spec().base_dir, /*quiet=*/true)
                                   : fs::absolute(args.cache_dir);
    std::error_code ec;
    // Only an existing cache is looked at: the Executor would create a missing one.
    if (fs::is_directory(cache_dir, ec)) {
      states = pipeline.dry_run({.cache_dir = cache_dir}).nodes;
    }
  }
  std::string text = pipeline.to_dot(states);
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (args.format == "svg") text = dot_to_svg(dot_program, text);

  if (output.wanted()) {
    output.write(text);
  } else {
    std::cout << text;
  }
  return kExitOk;
}

int ops_command(const OpsArgs& args) {
  const std::string& name = args.name;
  const OpRegistry ops = ops_with(args.plugins);
  std::vector<const OpInfo*> chosen;
  if (name.empty()) {
    for (const auto& [op_name, op] : ops.ops()) chosen.push_back(&op);
  } else if (const OpInfo* op = ops.find(name)) {
    chosen.push_back(op);
  } else {
    const std::vector<std::string> near = ops.suggest(name);
    if (near.empty()) {
      throw CommandError(fmt::format("unknown op '{}' (`dagflow ops` lists them all)", name));
    }
    throw CommandError(fmt::format("unknown op '{}'{}", name, util::did_you_mean(near)));
  }
  if (args.json) {
    Value::Map all;
    for (const OpInfo* op : chosen) all.emplace(op->name(), op_json(*op));
    std::cout << to_json(Value(std::move(all)), JsonStyle::kPretty) << '\n';
    return kExitOk;
  }
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (i > 0) std::cout << '\n';
    print_op(*chosen[i]);
  }
  return kExitOk;
}

int cache_command(CacheAction action, const CacheArgs& args) {
  (void)ops_with(args.plugins);  // a bad --plugin is refused here as by every other command
  const fs::path dir = cache_dir_of(args);
  if (action == CacheAction::kList && args.file.empty()) {
    throw CommandError("`cache list` needs a pipeline FILE");
  }
  std::optional<DiskCache> cache = DiskCache::open(dir);  // never creates one
  if (!cache) {
    print_cache_result(args, dir, fmt::format("{}: 0 entries (no cache yet)", dir.string()),
                       Value::Map{{"cache_dir", dir.string()}, {"entries", 0}, {"bytes", 0}});
    return kExitOk;
  }
  switch (action) {
    case CacheAction::kStats:
      cache_stats(*cache, args);
      break;
    case CacheAction::kList:
      cache_list(*cache, args);
      break;
    case CacheAction::kClear:
      if (!args.file.empty()) {
        cache_clear_pipeline(*cache, args);
        break;
      }
      [[fallthrough]];
    case CacheAction::kPrune:
      cache_prune(*cache, action == CacheAction::kClear ? 0 : args.max_bytes, args);
      break;
  }
  return kExitOk;
}

}  // namespace dagflow::cli
