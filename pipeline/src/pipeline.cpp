// Pipeline: a validated PipelineSpec turned into a dagflow Graph and run.
//
// Each node becomes one task whose key (with a disk cache) is its op, its arguments and the keys
// of its inputs. Probes (ops such as `glob` that look at the outside world) run first, while
// the graph is built: their results enter the graph as literals, keyed by content (a path by
// the file's bytes), so everything downstream has a content key before the run starts and a
// re-run finds it in the cache unless what the probe saw changed.
#include <dagflow/pipeline/pipeline.hpp>
// (the header this file implements first)

#include <algorithm>
#include <chrono>
#include <mutex>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/graph/graph.hpp>

namespace dagflow {

NodeError::NodeError(const std::string& what, std::string node, std::string op,
                     std::exception_ptr cause)
    : Error(what), node_(std::move(node)), op_(std::move(op)), cause_(std::move(cause)) {}

namespace {

using Clock = std::chrono::steady_clock;

// What a node's task calls: a registry op, in the pipeline's context.
struct OpCall {
  const OpInfo* op;
  const OpContext* context;

  // The op's name and version (the task's op identity) say which registry entry `op` is. The
  // context's directory can change what an op reads or writes, so it is part of the key; its
  // capability flags only refuse, never change a result.
  bool hash_state(Hasher& h) const {
    h.add(context->base_dir.string());
    return true;
  }
};

// The body of a node's task: the op called with the node's inputs and arguments. One callable
// type for every op, so the op's name and version (not this type) are its cache identity.
struct NodeCall : OpCall {
  template <class... Inputs>
  Value operator()(const Value& args, const Inputs&... inputs) const {
    const Value* values[] = {&inputs..., nullptr};  // nullptr: never a zero-length array
    return op->call(*context, std::span<const Value* const>(values, sizeof...(Inputs)),
                    args.as_map());
  }
  Value operator()(const Value& args, const std::vector<Value>& inputs) const {
    std::vector<const Value*> values;
    values.reserve(inputs.size());
    for (const Value& v : inputs) values.push_back(&v);
    return op->call(*context, values, args.as_map());
  }
};

// What a map node calls for each element of its list (through dagflow::map): the op with the
// element, then the node's other inputs. Its arguments are not hashed here: the map's salt,
// made from them and this state, keys them (see add_map_task).
struct ItemCall : OpCall {
  const Value::Map* args;

  template <class... Inputs>
  Value operator()(const Value& item, const Inputs&... inputs) const {
    const Value* values[] = {&item, &inputs...};
    return op->call(*context, values, *args);
  }
  Value operator()(const Value& item, const std::vector<Value>& inputs) const {
    std::vector<const Value*> values;
    values.reserve(inputs.size() + 1);
    values.push_back(&item);
    for (const Value& v : inputs) values.push_back(&v);
    return op->call(*context, values, *args);
  }
};

// A probe's result, entered into the graph as a literal.
struct LiteralCall {
  Value operator()(const Value& v) const { return v; }
};

// Calls `add(inputs...)`: up to four inputs one by one (each passed to the task body shared,
// never copied), more as one list (a std::vector<Delayed<Value>>: one dependency list).
template <class Add>
Delayed<Value> with_inputs(std::span<const Delayed<Value>> in, const Add& add) {
  switch (in.size()) {
    case 0:
      return add();
    case 1:
      return add(in[0]);
    case 2:
      return add(in[0], in[1]);
    case 3:
      return add(in[0], in[1], in[2]);
    case 4:
      return add(in[0], in[1], in[2], in[3]);
    default:
      return add(std::vector<Delayed<Value>>(in.begin(), in.end()));
  }
}

// A node's task: its op called with its arguments and inputs.
Delayed<Value> add_task(Graph& g, const OpInfo& op, const OpContext& context, const NodeSpec& node,
                        std::span<const Delayed<Value>> in) {
  const auto body = dagflow::op(op.name(), NodeCall{{&op, &context}}).with_version(op.version());
  return with_inputs(
      in, [&](const auto&... inputs) { return g.delayed(body, Value(node.args), inputs...); });
}

// A map node's task: dagflow::map over the list (`in` first; a list Value is read in place, see
// ListAdapter<Value>), the other inputs passed to every item. The arguments and the op's state
// decide results too, so they make the map's salt, which keys the task and its blocks; the other
// inputs' values join the block keys as map's extras.
Delayed<Value> add_map_task(Graph& g, const OpInfo& op, const OpContext& context,
                            const NodeSpec& node, std::span<const Delayed<Value>> in) {
  const ItemCall call{{&op, &context}, &node.args};
  Hasher salt;
  salt.add(Value(node.args));
  (void)call.hash_state(salt);
  const ChunkOptions options{.label = node.id, .salt = salt.digest()};
  const auto fn = dagflow::op(op.name(), call).with_version(op.version());  // task "map(<op>)"
  return with_inputs(in.subspan(1), [&](const auto&... inputs) {
    return dagflow::map(g, fn, in.front(), inputs..., options);
  });
}

// Counts what happened to each pipeline node from the Executor's task events.
class NodeTally final : public RunObserver {
 public:
  explicit NodeTally(std::vector<NodeRunInfo>& nodes) : nodes_(nodes) {}

  // Graph task id -> pipeline node index (tasks that are no node's body are not counted).
  void attribute(NodeId task, std::size_t node) {
    if (node_of_.size() <= task) node_of_.resize(std::size_t{task} + 1, kNone);
    node_of_[task] = node;
  }

  void on_task(const TaskEvent& event) override {
    if (event.task >= node_of_.size() || node_of_[event.task] == kNone) return;
    std::lock_guard lock(mutex_);
    NodeRunInfo& node = nodes_[node_of_[event.task]];
    node.items_executed += event.items_computed;
    node.items_cached += event.items_cached;
    node.seconds += std::chrono::duration<double>(event.end - event.start).count();
    const bool ran =
        event.outcome == TaskOutcome::kExecuted || event.outcome == TaskOutcome::kFailed;
    // A map all of whose blocks came from the cache ran only to compute their keys.
    const bool all_cached = event.items_computed == 0 && event.items_cached > 0;
    node.outcome = ran && !all_cached ? NodeOutcome::kExecuted : NodeOutcome::kCached;
  }

 private:
  static constexpr std::size_t kNone = SIZE_MAX;
  std::vector<NodeRunInfo>& nodes_;
  std::vector<std::size_t> node_of_;  // written while the graph is built, read during runs
  std::mutex mutex_;
};

std::string describe_failure(const PipelineSpec& spec, const NodeSpec& node,
                             std::optional<std::size_t> item, const std::exception_ptr& cause) {
  std::string where = spec.file;
  if (node.mark.line > 0) where += fmt::format(":{}:{}", node.mark.line, node.mark.column);
  const std::string at_item = item ? fmt::format(" at item {}", *item) : std::string();
  return fmt::format("{}: node '{}' (op {}) failed{}: {}", where, node.id, node.op, at_item,
                     detail::message_of(cause));
}

}  // namespace

Pipeline Pipeline::load(const std::filesystem::path& file, OpRegistry ops, LoadOptions options) {
  PipelineSpec spec = load_pipeline_spec(file, ops, options);
  return Pipeline(std::move(spec), std::move(ops), std::move(options));
}

Pipeline::Pipeline(PipelineSpec spec, OpRegistry ops, LoadOptions options)
    : spec_(std::move(spec)), ops_(std::move(ops)), options_(std::move(options)) {
  for (const NodeSpec& node : spec_.nodes) {
    if (ops_.find(node.op) == nullptr) {
      throw std::invalid_argument("Pipeline: node '" + node.id + "' uses op '" + node.op +
                                  "', which is not in the registry");
    }
  }
}

std::filesystem::path default_cache_dir_in(const std::filesystem::path& pipeline_dir) {
  return pipeline_dir / ".dagflow" / "cache";
}

std::filesystem::path Pipeline::default_cache_dir() const {
  return default_cache_dir_in(spec_.base_dir);
}

PipelineResult Pipeline::run(ExecutorOptions options) const {
  return execute(std::move(options), false);
}

PipelineResult Pipeline::dry_run(ExecutorOptions options) const {
  return execute(std::move(options), true);
}

PipelineResult Pipeline::execute(ExecutorOptions options, bool dry) const {
  const auto start = Clock::now();
  PipelineResult result;
  result.nodes.resize(spec_.nodes.size());
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    result.nodes[i].id = spec_.nodes[i].id;
    result.nodes[i].op = spec_.nodes[i].op;
  }
  auto tally = std::make_shared<NodeTally>(result.nodes);
  options.observers.insert(options.observers.begin(), tally);  // counted before others see it
  Executor executor(std::move(options));  // throws std::invalid_argument for a refused cache
  const OpContext context{
      .base_dir = spec_.base_dir,
      .allow_outside = options_.allow_outside,
      .allow_shell = options_.allow_shell,
  };

  Graph g;
  std::vector<Delayed<Value>> task(spec_.nodes.size());
  std::unordered_map<std::string_view, std::size_t> index;
  const auto compute = [&](const std::vector<Delayed<Value>>& targets) {
    try {
      return executor.compute(targets);
    } catch (const TaskError& e) {
      for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
        if (task[i].is_valid() && task[i].id() == e.node()) {
          const NodeSpec& node = spec_.nodes[i];
          throw NodeError(describe_failure(spec_, node, e.item(), e.original()), node.id, node.op,
                          e.original());
        }
      }
      throw;
    }
  };

  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    const NodeSpec& node = spec_.nodes[i];
    const OpInfo& op = *ops_.find(node.op);
    index.emplace(node.id, i);
    std::vector<Delayed<Value>> inputs;
    if (!node.map.empty()) inputs.push_back(task[index.at(node.map)]);
    for (const std::string& id : node.inputs) inputs.push_back(task[index.at(id)]);

    task[i] = node.map.empty() ? add_task(g, op, context, node, inputs)
                               : add_map_task(g, op, context, node, inputs);
    if (op.is_probe()) {
      // Run it now (like any task, so observers see it): what it returns decides the keys of
      // everything downstream, which then sees it as a literal keyed by its content.
      g.set_label(task[i], node.id);
      g.set_impure(task[i]);
      tally->attribute(task[i].id(), i);
      try {
        Value found = std::move(compute({task[i]}).front());
        task[i] = g.delayed(dagflow::op("dagflow.literal", LiteralCall{}), std::move(found));
      } catch (const NodeError& e) {
        if (!dry) throw;
        // A dry run shows the failure and plans the rest as if the probe were fixed: what needs
        // it would run (a placeholder that is never run stands in for its result).
        result.nodes[i].outcome = NodeOutcome::kFailed;
        result.nodes[i].error = e.what();
        task[i] = g.delayed(dagflow::op("dagflow.failed_probe", [] { return Value(); }));
        g.set_impure(task[i]);
      }
      g.set_label(task[i], node.id);
      continue;
    }
    g.set_label(task[i], node.id);
    tally->attribute(task[i].id(), i);
    if (!node.cache || op.has_side_effects()) g.set_impure(task[i]);
  }

  std::vector<Delayed<Value>> targets;
  targets.reserve(spec_.outputs.size());
  for (const std::string& id : spec_.outputs) targets.push_back(task[index.at(id)]);
  if (dry) {
    std::vector<const DelayedBase*> pointers;
    pointers.reserve(targets.size());
    for (const auto& t : targets) pointers.push_back(&t);
    const DryRun plan = executor.dry_run(pointers);
    for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
      if (ops_.find(spec_.nodes[i].op)->is_probe()) continue;  // it ran
      const NodeId id = task[i].id();
      const auto in = [id](const std::vector<NodeId>& ids) {
        return std::find(ids.begin(), ids.end(), id) != ids.end();
      };
      if (in(plan.to_run)) result.nodes[i].outcome = NodeOutcome::kExecuted;
      if (in(plan.cached)) result.nodes[i].outcome = NodeOutcome::kCached;
    }
  } else {
    std::vector<Value> values = compute(targets);
    for (std::size_t i = 0; i < targets.size(); ++i) {
      result.outputs.insert_or_assign(spec_.outputs[i], std::move(values[i]));
    }
  }

  for (const NodeRunInfo& node : result.nodes) {
    if (node.outcome == NodeOutcome::kExecuted) ++result.stats.executed;
    if (node.outcome == NodeOutcome::kCached) ++result.stats.cache_hits;
    result.stats.items_executed += node.items_executed;
    result.stats.items_cached += node.items_cached;
  }
  result.stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
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
