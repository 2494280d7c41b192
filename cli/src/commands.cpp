#include "commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/executor.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/pipeline.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow {

namespace {

namespace fs = std::filesystem;

Pipeline load(const LoadArgs& args) {
  return Pipeline::load(
      args.file, OpRegistry::builtins(),
      LoadOptions{
          .set = args.set, .allow_outside = args.allow_outside, .allow_shell = args.allow_shell});
}

std::string_view outcome_name(NodeOutcome outcome) {
  switch (outcome) {
    case NodeOutcome::kExecuted:
      return "executed";
    case NodeOutcome::kCached:
      return "cached";
    case NodeOutcome::kNotNeeded:
      return "not_needed";
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

// The --stats-json file, opened (and so checked) before the run starts, so that a bad path costs
// nothing; written only after a successful run, and removed if the run fails, so that a failed
// run never leaves an empty or stale stats file behind.
class StatsFile {
 public:
  explicit StatsFile(const std::string& path) : path_(path) {
    if (path_.empty()) return;
    out_.open(path_, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!out_) {
      throw CommandError(
          fmt::format("cannot write stats to '{}': {}", path_, std::strerror(errno)));
    }
  }
  StatsFile(const StatsFile&) = delete;
  StatsFile& operator=(const StatsFile&) = delete;
  ~StatsFile() {
    if (out_.is_open()) {
      out_.close();
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }

  void write(const PipelineResult& result) {
    if (path_.empty()) return;
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
    const Value stats = Value::Map{{"executed", s.executed},
                                   {"cache_hits", s.cache_hits},
                                   {"items_executed", s.items_executed},
                                   {"items_cached", s.items_cached},
                                   {"seconds", s.seconds},
                                   {"nodes", std::move(nodes)}};
    out_ << to_json(stats, JsonStyle::kPretty) << '\n';
    out_.close();
    if (!out_) {
      throw CommandError(
          fmt::format("cannot write stats to '{}': {}", path_, std::strerror(errno)));
    }
  }

 private:
  std::string path_;
  std::ofstream out_;
};

// One line for people: "wordcount: 4 nodes, 1 executed, 1 cached, 2 skipped (items: 0 executed,
// 20 cached) in 0.02 s". Skipped nodes were not needed: what they feed came from the cache.
// Items are shown only when the pipeline maps an op over a list.
std::string summary_line(const Pipeline& pipeline, const PipelineResult& result) {
  const PipelineStats& s = result.stats;
  std::string line = fmt::format("{}: {} nodes, {} executed, {} cached", pipeline.spec().name,
                                 result.nodes.size(), s.executed, s.cache_hits);
  const std::size_t skipped = result.nodes.size() - s.executed - s.cache_hits;
  if (skipped > 0) line += fmt::format(", {} skipped", skipped);
  bool has_map = false;
  for (const NodeSpec& node : pipeline.spec().nodes) has_map = has_map || !node.map.empty();
  if (has_map) {
    line += fmt::format(" (items: {} executed, {} cached)", s.items_executed, s.items_cached);
  }
  line += fmt::format(" in {:.2f} s", s.seconds);
  return line;
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
  for (std::size_t i = 0; i < op.inputs().size(); ++i) {
    std::cout << (i == 0 ? "" : ", ") << op.inputs()[i];
  }
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
  std::string flags;
  const auto add_flag = [&](std::string_view flag) {
    flags += flags.empty() ? "" : ", ";
    flags += flag;
  };
  if (op.is_probe()) add_flag("probe (runs on every run, before the rest)");
  if (op.runs_commands()) add_flag("runs commands (needs --allow-shell)");
  if (op.has_side_effects()) add_flag("side effects (never cached)");
  if (!flags.empty()) std::cout << "  flags:  " << flags << '\n';
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
  return fs::absolute(args.file).parent_path() / ".dagflow" / "cache";
}

}  // namespace

int run_command(const RunArgs& args) {
  const Pipeline pipeline = load(args.load);
  ExecutorOptions options;
  options.threads = args.threads;
  if (!args.no_cache) {
    options.cache_dir =
        args.cache_dir.empty() ? pipeline.default_cache_dir() : fs::absolute(args.cache_dir);
  }
  StatsFile stats(args.stats_json);
  const PipelineResult result = pipeline.run(std::move(options));
  stats.write(result);

  if (args.json) {
    std::cout << to_json(Value(result.outputs), JsonStyle::kPretty) << '\n';
  } else {
    for (const std::string& id : pipeline.spec().outputs) {
      const auto it = result.outputs.find(id);
      if (it != result.outputs.end()) std::cout << id << ": " << to_json(it->second) << '\n';
    }
  }
  std::cout.flush();
  std::cerr << summary_line(pipeline, result) << '\n';
  return kExitOk;
}

int validate_command(const LoadArgs& args) {
  const Pipeline pipeline = load(args);
  const PipelineSpec& spec = pipeline.spec();
  std::cout << fmt::format("{}: ok ({} nodes, outputs: {})\n", args.file, spec.nodes.size(),
                           fmt::join(spec.outputs, ", "));
  return kExitOk;
}

int graph_command(const LoadArgs& args) {
  const std::string dot = load(args).to_dot();
  std::cout << dot;
  if (!dot.empty() && dot.back() != '\n') std::cout << '\n';
  return kExitOk;
}

int ops_command(const std::string& name) {
  const OpRegistry ops = OpRegistry::builtins();
  if (name.empty()) {
    bool first = true;
    for (const auto& [op_name, op] : ops.ops()) {
      if (!first) std::cout << '\n';
      first = false;
      print_op(op);
    }
    return kExitOk;
  }
  const OpInfo* op = ops.find(name);
  if (op == nullptr) {
    const std::vector<std::string> near = ops.suggest(name);
    if (near.empty()) {
      throw CommandError(fmt::format("unknown op '{}' (`dagflow ops` lists them all)", name));
    }
    // "did you mean 'a'?", "'a' or 'b'?", "'a', 'b' or 'c'?", as the pipeline loader says it.
    std::string list;
    for (std::size_t i = 0; i < near.size(); ++i) {
      if (i > 0) list += i + 1 == near.size() ? " or " : ", ";
      list += fmt::format("'{}'", near[i]);
    }
    throw CommandError(fmt::format("unknown op '{}' (did you mean {}?)", name, list));
  }
  print_op(*op);
  return kExitOk;
}

int cache_command(CacheAction action, const CacheArgs& args) {
  const fs::path dir = cache_dir_of(args);
  std::error_code ec;
  // Nothing is created just to be looked at (the Executor would create a missing directory).
  if (!fs::exists(fs::symlink_status(dir, ec))) {
    std::cout << fmt::format("{}: 0 entries (no cache yet)\n", dir.string());
    return kExitOk;
  }
  Executor executor({.threads = 1, .memory_cache_bytes = 0, .cache_dir = dir});
  const CacheStats before = executor.disk_cache_stats();
  switch (action) {
    case CacheAction::kStats:
      std::cout << fmt::format("{}: {} ({} bytes)\n", dir.string(), entries_text(before),
                               before.bytes);
      break;
    case CacheAction::kClear:
    case CacheAction::kPrune: {
      const CacheStats after =
          executor.prune_disk_cache(action == CacheAction::kClear ? 0 : args.max_bytes);
      const CacheStats removed{.entries = before.entries - std::min(before.entries, after.entries),
                               .bytes = before.bytes - std::min(before.bytes, after.bytes)};
      std::cout << fmt::format("{}: removed {}; {} remain\n", dir.string(), entries_text(removed),
                               entries_text(after));
      break;
    }
  }
  return kExitOk;
}

}  // namespace dagflow
