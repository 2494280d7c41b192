// Pipeline: a validated PipelineSpec bound to its ops; runs are pipeline_run.cpp's, the DOT
// drawing is here.
#include <dagflow/pipeline/pipeline.hpp>
// (the header this file implements first)

#include <cstdlib>
#include <memory>
#include <mutex>
#include <pwd.h>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "pipeline_run.hpp"
#include "run_record.hpp"

namespace dagflow {

NodeError::NodeError(const std::string& what, std::string node, std::string op,
                     std::exception_ptr cause)
    : Error(what), node_(std::move(node)), op_(std::move(op)), cause_(std::move(cause)) {}

void CancelToken::cancel() noexcept {
  // Set before the Executors hear it: a compute that starts meanwhile sees the flag instead
  // (see pipeline_run.cpp).
  cancelled_.store(true);
  const std::lock_guard lock(mutex_);
  for (Executor* executor : executors_) executor->cancel();
}

void CancelToken::attach(Executor& executor) {
  const std::lock_guard lock(mutex_);
  executors_.push_back(&executor);
  if (cancelled_.load()) executor.cancel();
}

void CancelToken::detach(Executor& executor) noexcept {
  const std::lock_guard lock(mutex_);
  std::erase(executors_, &executor);
}

PipelineCancelled::PipelineCancelled(const std::string& what, PipelineResult result)
    : Cancelled(what), result_(std::make_shared<const PipelineResult>(std::move(result))) {}

PipelineRunError::PipelineRunError(const RunError& error, std::vector<NodeError> node_errors,
                                   PipelineResult result)
    : RunError(error),
      node_errors_(std::move(node_errors)),
      result_(std::make_shared<const PipelineResult>(std::move(result))) {}

Pipeline Pipeline::load(const std::filesystem::path& file, OpRegistry ops, LoadOptions options) {
  PipelineSpec spec = load_pipeline_spec(file, ops, options);
  return Pipeline(std::move(spec), std::move(ops), std::move(options));
}

Pipeline::Pipeline(PipelineSpec spec, OpRegistry ops, LoadOptions options)
    : spec_(std::move(spec)), ops_(std::move(ops)), options_(std::move(options)) {
  for (const std::filesystem::path& plugin : spec_.plugins) ops_.load_plugin(plugin);
  for (const NodeSpec& node : spec_.nodes) {
    if (ops_.find(node.op) == nullptr) {
      throw std::invalid_argument("Pipeline: node '" + node.id + "' uses op '" + node.op +
                                  "', which is not in the registry");
    }
    if (node.reduce.empty()) continue;
    if (ops_.find(node.reduce) == nullptr) {
      throw std::invalid_argument("Pipeline: node '" + node.id + "' reduces with op '" +
                                  node.reduce + "', which is not in the registry");
    }
    if (node.map.empty() || !node.inputs.empty()) {
      throw std::invalid_argument("Pipeline: node '" + node.id +
                                  "' has a reduce op, so it needs a map and no other inputs");
    }
  }
}

std::filesystem::path default_cache_dir_in(const std::filesystem::path& pipeline_dir) {
  return pipeline_dir / ".dagflow" / "cache";
}

namespace {

// Can this process create entries below `dir` (an existing directory, or the nearest existing
// one above a missing one)? The Executor refuses a cache directory another user owns.
std::string unusable_reason(const std::filesystem::path& cache) {
  std::error_code ec;
  if (std::filesystem::exists(cache, ec)) {
    try {
      (void)DiskCache::open(cache);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return ::access(cache.c_str(), W_OK | X_OK) == 0 ? std::string()
                                                     : cache.string() + " is not writable";
  }
  std::filesystem::path existing = cache.parent_path();
  while (!existing.empty() && !std::filesystem::exists(existing, ec)) {
    existing = existing.parent_path();
  }
  if (existing.empty() || ::access(existing.c_str(), W_OK | X_OK) == 0) return {};
  return existing.string() + " is not writable";
}

std::filesystem::path user_cache_home() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");  // NOLINT(concurrency-mt-unsafe): read once
  if (xdg != nullptr && std::filesystem::path(xdg).is_absolute()) return xdg;
  const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe)
  if (home != nullptr && std::filesystem::path(home).is_absolute()) {
    return std::filesystem::path(home) / ".cache";
  }
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return std::filesystem::path(pw->pw_dir) / ".cache";
  }
  return {};
}

}  // namespace

DefaultCacheDir usable_default_cache_dir(const std::filesystem::path& pipeline_dir) {
  const std::filesystem::path beside = default_cache_dir_in(pipeline_dir);
  const std::string problem = unusable_reason(beside);
  const std::filesystem::path home = user_cache_home();
  if (problem.empty() || home.empty()) return {beside};
  const std::filesystem::path fallback = home / "dagflow";
  return {fallback, "cannot keep the cache beside the pipeline (" + problem + "): using " +
                        fallback.string()};
}

std::filesystem::path Pipeline::default_cache_dir() const {
  return default_cache_dir_in(spec_.base_dir);
}

PipelineResult Pipeline::run(ExecutorOptions options, const RunRequest& request) const {
  return execute(std::move(options), request, false);
}

PipelineResult Pipeline::dry_run(ExecutorOptions options, const RunRequest& request) const {
  return execute(std::move(options), request, true);
}

PipelineResult Pipeline::execute(ExecutorOptions options, const RunRequest& request,
                                 bool dry) const {
  return detail::execute_pipeline(spec_, ops_, options_, std::move(options), request, dry);
}

std::filesystem::path Pipeline::record_file(const std::filesystem::path& cache_dir) const {
  return detail::record_path(cache_dir, detail::pipeline_file_of(spec_));
}

namespace {
std::string dot_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}
}  // namespace

std::string Pipeline::to_dot(std::span<const NodeRunInfo> states) const {
  std::string dot = "digraph " + dot_quoted(spec_.name) + " {\n  rankdir=LR;\n";
  dot += "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  if (!states.empty()) {  // a legend for the colours
    dot +=
        "  subgraph cluster_legend {\n    label=\"cache state\"; fontname=\"Helvetica\";\n"
        "    legend_run [label=\"would run\", style=\"rounded,filled\", "
        "fillcolor=\"#FFD8A8\"];\n"
        "    legend_cached [label=\"cached\", style=\"rounded,filled\", "
        "fillcolor=\"#B2F2BB\"];\n"
        "    legend_skipped [label=\"not needed\", style=\"rounded,filled\", "
        "fillcolor=\"#E9ECEF\"];\n  }\n";
  }
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    const NodeSpec& node = spec_.nodes[i];
    const OpInfo& op = *ops_.find(node.op);
    std::string label = node.id + "\n" + (node.map.empty() ? node.op : "map " + node.op);
    if (!node.reduce.empty()) label += "\nreduce: " + node.reduce;
    std::string attributes = "label=" + dot_quoted(label);
    if (op.is_probe()) attributes += ", shape=ellipse";
    if (!node.map.empty()) attributes += ", peripheries=2";
    if (!node.doc.empty()) attributes += ", tooltip=" + dot_quoted(node.doc);
    if (i < states.size()) {
      const NodeOutcome outcome = states[i].outcome;
      attributes +=
          outcome == NodeOutcome::kExecuted ? ", style=\"rounded,filled\", fillcolor=\"#FFD8A8\""
          : outcome == NodeOutcome::kCached ? ", style=\"rounded,filled\", fillcolor=\"#B2F2BB\""
          : outcome == NodeOutcome::kFailed ? ", style=\"rounded,filled\", fillcolor=\"#FFA8A8\""
                                            : ", style=\"rounded,filled\", fillcolor=\"#E9ECEF\"";
    }
    dot += "  " + dot_quoted(node.id) + " [" + attributes + "];\n";
  }
  for (const NodeSpec& node : spec_.nodes) {
    if (!node.map.empty()) {
      dot += "  " + dot_quoted(node.map) + " -> " + dot_quoted(node.id) +
             " [style=bold, label=\"each\"];\n";
    }
    for (const std::string& input : node.inputs) {
      dot += "  " + dot_quoted(input) + " -> " + dot_quoted(node.id) + ";\n";
    }
  }
  return dot + "}\n";
}

}  // namespace dagflow
