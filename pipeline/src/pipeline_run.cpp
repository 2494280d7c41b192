// One run of a pipeline, in phases: resolve what was asked for, build the Graph (probes run while
// it is built), plan against the last run's record (forced nodes, writers' files), explain,
// execute, record.
//
// Each node becomes one task whose key (with a disk cache) is its op, its arguments and the keys
// of its inputs. Probes (ops such as `glob` that look at the outside world) run first: their
// results enter the graph as literal arguments of their readers' tasks, keyed by content (a path
// by the file's bytes), so everything downstream has a content key before the run starts.
// Static keys find what is cached; the record then does what static keys cannot: a node that
// re-runs checks whether its inputs' contents are those it last ran on, and if so takes its last
// result (early cut-off).
#include "pipeline_run.hpp"
// (the header this file implements first)

#include <algorithm>
#include <chrono>
#include <mutex>
#include <span>
#include <stdexcept>
#include <sys/stat.h>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/keys.hpp>
#include <dagflow/graph/serialization.hpp>
#include <dagflow/pipeline/records.hpp>
#include <dagflow/util/file_read.hpp>
#include <dagflow/util/suggest.hpp>

#include "across_ranks.hpp"
#include "run_record.hpp"
#include "type_names.hpp"

namespace dagflow::detail {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

Hash128 content_hash(const Value& v) {
  Hasher h;
  h.add(v);
  return h.digest();
}

Hash128 bytes_hash(std::string_view bytes) {
  Hasher h;
  h.update(bytes.data(), bytes.size());
  return h.digest();
}

// Where a writer's file bytes are kept: by content, so identical files are kept once.
Hash128 kept_bytes_key(const Hash128& content) {
  Hasher h;
  h.add(std::string_view("dagflow-output-bytes")).add(content.low).add(content.high);
  return h.digest();
}

// A node's arguments as they key its task and as the record keeps them. A file the op writes is
// named, not hashed by content: its bytes are what the task makes, not what it is given (and
// hashing them would change the key whenever the task ran). Files it reads stay keyed by content.
Value::Map keyed_args(const OpInfo& op, const Value::Map& args) {
  Value::Map keyed = args;
  for (const ArgSpec& a : op.args()) {
    auto it = keyed.find(a.name);
    if (a.is_output_path && it != keyed.end() && it->second.kind() == ValueKind::kPath) {
      it->second = Value(it->second.as_path().resolved.string());
    }
  }
  return keyed;
}

// The arguments as a record compares them: paths by name (their content is in the key), so that
// they read back from JSON as they were written.
Value::Map recorded_args(const Value::Map& args) {
  return from_json(to_json(Value(args))).as_map();
}

// A node's body that starts after RunRequest::cancel was cancelled: its compute() may have
// started too late to hear the token (cancel() reaches only the computes running when it is
// called), but by the time one of its tasks runs it is running, so the token is passed on again,
// and the body does no work.
void stop_if_cancelled(CancelToken* cancel) {
  if (cancel == nullptr || !cancel->cancelled()) return;
  cancel->cancel();
  throw Cancelled("cancelled");
}

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

// The body of a (non-map) node. With a disk cache it notes the contents of its inputs and result
// for the record, and before running the op it tries early cut-off: inputs whose contents are
// those of its last run, with the same op and arguments, give the last result, kept in the cache
// under the last key.
struct NodeBody {
  const OpInfo* op;
  const OpContext* context;
  const Value::Map* args;
  DiskCache* cache;              // null: no disk cache, nothing noted
  const RecordedNode* previous;  // null: no usable record of this node
  bool may_cut_off;
  NodeTrace* trace;
  CancelToken* cancel;  // null: none
  // The node's input ids when its op takes several keyed inputs (OpInfo::has_keyed_inputs), else
  // null.
  const std::vector<std::string>* keyed_inputs = nullptr;

  Value call(std::span<const Value* const> inputs) const {
    stop_if_cancelled(cancel);
    if (cache == nullptr) return call_op(inputs);
    std::vector<Hash128> seen;
    seen.reserve(inputs.size());
    for (const Value* v : inputs) seen.push_back(content_hash(*v));
    std::optional<Value> result = cut_off(seen);
    trace->cut_off = result.has_value();
    if (!result) result = call_op(inputs);
    trace->result = trace->cut_off ? previous->result : content_hash(*result);
    trace->input_hashes = std::move(seen);
    if (op->writes_files(*args)) trace->written = *result;
    trace->ran = true;
    return std::move(*result);
  }

  // The op called with the inputs, or with one map input id -> value for keyed inputs.
  Value call_op(std::span<const Value* const> inputs) const {
    if (keyed_inputs == nullptr) return op->call(*context, inputs, *args);
    Value::Map named;
    for (std::size_t k = 0; k < inputs.size(); ++k) named.emplace((*keyed_inputs)[k], *inputs[k]);
    const Value all(std::move(named));
    const Value* one[] = {&all};
    return op->call(*context, one, *args);
  }

  [[nodiscard]] std::optional<Value> cut_off(const std::vector<Hash128>& seen) const {
    if (!may_cut_off || previous->input_hashes != seen || !previous->result) return std::nullopt;
    return cache->load<Value>(*previous->key);
  }
};

// The results of a node's inputs that are probes: (position among the node's inputs, value).
// They reach the node's task as one literal argument, keyed by content like any literal (a path
// by its file's bytes), not as tasks: a task that only passed a probe's result on would show in
// traces and task counts while doing nothing (the probe itself ran already, as a task). The
// positions are keyed too, so that nodes reading the same values in other places never share a
// key. One argument for all of them, rather than a literal in each place, keeps the forms of a
// task's arguments (each one an instance of the Graph's templates) to one per count of tasks.
using ProbeInputs = std::vector<std::pair<std::uint64_t, Value>>;

// The values an op is called with, in order: the probes' results at their positions, and the
// task's other inputs (`rest`, in order) in the places left.
std::vector<const Value*> with_probes(const ProbeInputs& probes,
                                      std::span<const Value* const> rest) {
  std::vector<const Value*> all(probes.size() + rest.size(), nullptr);
  for (const auto& [at, v] : probes) all[at] = &v;
  std::size_t next = 0;
  for (const Value*& v : all) {
    if (v == nullptr) v = rest[next++];
  }
  return all;
}

std::vector<const Value*> pointers_to(const std::vector<Value>& values) {
  std::vector<const Value*> out;
  out.reserve(values.size());
  for (const Value& v : values) out.push_back(&v);
  return out;
}

// The task of a node: its body, with the node's arguments as a keyed literal (and its probe
// inputs' results as another, when it has any). One callable type for every op, so the op's
// name and version (not this type) are its cache identity.
struct NodeCall : OpCall {
  const NodeBody* body;

  template <class... Inputs>
  Value operator()(const Value& /*args: keyed, read through body*/, const Inputs&... inputs) const {
    const Value* values[] = {&inputs..., nullptr};  // nullptr: never a zero-length array
    return body->call(std::span<const Value* const>(values, sizeof...(Inputs)));
  }
  Value operator()(const Value& /*args*/, const std::vector<Value>& inputs) const {
    return body->call(pointers_to(inputs));
  }
  template <class... Inputs>
  Value operator()(const Value& /*args*/, const ProbeInputs& probes,
                   const Inputs&... inputs) const {
    const Value* values[] = {&inputs..., nullptr};
    return body->call(
        with_probes(probes, std::span<const Value* const>(values, sizeof...(Inputs))));
  }
  Value operator()(const Value& /*args*/, const ProbeInputs& probes,
                   const std::vector<Value>& inputs) const {
    return body->call(with_probes(probes, pointers_to(inputs)));
  }
};

// What a map node calls for each element of its list (through dagflow::map): the op with the
// element, then the node's other inputs. Its arguments are not hashed here: the map's salt,
// made from them and this state, keys them (see add_map_task).
struct ItemCall : OpCall {
  const Value::Map* args;
  CancelToken* cancel;  // null: none
  bool named;           // each item comes as [item, its files' names] (see WithNames)

  [[nodiscard]] const Value& unwrap(const Value& item) const {
    return named ? item.as_list().front() : item;
  }
  template <class... Inputs>
  Value operator()(const Value& item, const Inputs&... inputs) const {
    stop_if_cancelled(cancel);
    const Value* values[] = {&unwrap(item), &inputs...};
    return op->call(*context, values, *args);
  }
  Value operator()(const Value& item, const std::vector<Value>& inputs) const {
    stop_if_cancelled(cancel);
    std::vector<const Value*> values;
    values.reserve(inputs.size() + 1);
    values.push_back(&unwrap(item));
    for (const Value& v : inputs) values.push_back(&v);
    return op->call(*context, values, *args);
  }
  // With probes' results among the other inputs (the item is at position 0, the map's list's).
  Value operator()(const Value& item, const ProbeInputs& probes,
                   const std::vector<Value>& inputs) const {
    stop_if_cancelled(cancel);
    std::vector<const Value*> rest = pointers_to(inputs);
    rest.insert(rest.begin(), &unwrap(item));
    return op->call(*context, with_probes(probes, rest), *args);
  }
  // An item of a streamed file (a line or a chunk, see PipelineRun::streamed): a string.
  template <class... Inputs>
  Value operator()(std::string_view item, const Inputs&... inputs) const {
    return (*this)(Value(std::string(item)), inputs...);
  }
};

// A map node whose op has an array form (OpInfo::array_map) and no other input: one task that
// maps a typed array in a single pass, with no Value per element; a boxed list is mapped item
// by item. A failed element is named as a map's is (the Executor's item index). The node's
// arguments come as a keyed literal, as NodeCall's do.
struct ArrayMapCall : OpCall {
  const Value::Map* args;
  CancelToken* cancel;  // null: none

  Value operator()(const Value& /*args: keyed, read through `args`*/, const Value& list) const {
    stop_if_cancelled(cancel);
    if (list.is_array()) {
      try {
        Value results = op->array_map()(list, *args);
        detail::count_map_items(list.list_size(), 0, {});
        return results;
      } catch (const ItemError& e) {
        throw detail::ItemFailure(e.index(), std::make_exception_ptr(Error(e.what())));
      }
    }
    const Value::List& items = ListAdapter<Value>::items(list);
    Value::List results;
    results.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      try {
        const Value* item[] = {&items[i]};
        results.push_back(op->call(*context, item, *args));
      } catch (...) {
        detail::throw_item_failure(i);
      }
    }
    detail::count_map_items(items.size(), 0, {});
    return ListAdapter<Value>::from_results(std::move(results));
  }
};

// What a map node with `reduce` combines its items' results with (through dagflow::map_reduce):
// the reduce op, a registry op that merges a list of partial results, called with two of them
// (an item's result or a block's) and its default arguments. No items give what it gives for
// [] (map_reduce's no_items protocol: its init is then unused).
struct CombineCall : OpCall {
  CancelToken* cancel;  // null: none

  Value operator()(Value a, Value b) const {
    stop_if_cancelled(cancel);
    Value::List both;
    both.reserve(2);
    both.push_back(std::move(a));
    both.push_back(std::move(b));
    return call(Value(std::move(both)));
  }
  [[nodiscard]] Value no_items() const {
    stop_if_cancelled(cancel);
    return call(Value(Value::List{}));
  }
  [[nodiscard]] Value call(const Value& list) const {
    static const Value::Map kDefaults;  // every argument takes its default (the loader checked)
    const Value* values[] = {&list};
    return op->call(*context, values, kDefaults);
  }
};

// Names of files that reach a file-reading op from another node (read from a list file, say),
// made path Values: then what keys them, and what early cut-off compares, is the files'
// content, not their names.
struct AsPaths {
  const OpContext* context;

  bool hash_state(Hasher& h) const {  // relative names resolve against the directory
    h.add(context->base_dir.string());
    return true;
  }
  Value operator()(const Value& v) const {
    if (v.kind() == ValueKind::kString) {
      return Value::path(context->input_path(v.as_string()), v.as_string());
    }
    if (v.kind() != ValueKind::kList) return v;  // a path already, or the op's type error
    Value::List out;
    out.reserve(v.as_list().size());
    for (const Value& x : v.as_list()) out.push_back((*this)(x));
    return out;
  }
};

// An op input that names a file, or a list of them (the types a path parameter declares).
bool is_file_type(std::string_view type) {
  static const std::string path = ValueConvert<std::filesystem::path>::type_name();
  static const std::string paths = list_type(path);
  return type == path || type == paths;
}

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

// A node's task: its body called with its arguments and inputs (`in` the tasks', `probes` the
// probes' results).
Delayed<Value> add_task(Graph& g, const OpInfo& op, const NodeBody& body, const NodeSpec& node,
                        std::span<const Delayed<Value>> in, const ProbeInputs& probes) {
  const auto fn =
      dagflow::op(op.name(), NodeCall{{&op, body.context}, &body}).with_version(op.version());
  Value::Map keyed = keyed_args(op, node.args);
  // Keyed inputs' ids are part of the result (its map's keys), so of the key; one input's is not.
  if (body.keyed_inputs != nullptr) {
    keyed.emplace("dagflow.input_ids",
                  Value::List(body.keyed_inputs->begin(), body.keyed_inputs->end()));
  }
  const Value args(std::move(keyed));
  if (probes.empty()) {
    return with_inputs(in, [&](const auto&... inputs) { return g.delayed(fn, args, inputs...); });
  }
  return with_inputs(in,
                     [&](const auto&... inputs) { return g.delayed(fn, args, probes, inputs...); });
}

// What a map node applies to each element, with or without `reduce`: its op as a dagflow::op
// (the task is then "map(<op>)" or "map_reduce(<op>)"), and the options of the task. The
// arguments and the op's state decide results too, so they make the salt, which keys the task
// (and a plain map's blocks).
struct MapItems {
  Op<ItemCall> fn;
  ChunkOptions options;

  MapItems(const OpInfo& op, const OpContext& context, const NodeSpec& node, CancelToken* cancel,
           bool named = false)
      : fn(dagflow::op(op.name(), ItemCall{{&op, &context}, &node.args, cancel, named})
               .with_version(op.version())) {
    Hasher salt;
    salt.add(Value(keyed_args(op, node.args)));
    (void)fn.fn().hash_state(salt);
    options = {.label = node.id, .salt = salt.digest()};
  }
};

// A map node's task: dagflow::map over the list (a Delayed<Value>, or a probe's result as a
// literal: a list Value is read in place, see ListAdapter<Value>), or over a streamed file (its
// items the file's lines or chunks as strings). The other inputs (`in` the tasks', `probes` the
// probes' results) are passed to every item; their values join the block keys as map's extras.
// With probes the tasks' values come as one list: a map over a probe's result that also takes
// another probe's is rare, and one argument form is enough for it.
template <class List>
Delayed<Value> add_map_task(Graph& g, const OpInfo& op, const OpContext& context,
                            const NodeSpec& node, const List& list,
                            std::span<const Delayed<Value>> in, const ProbeInputs& probes,
                            CancelToken* cancel, bool named) {
  const MapItems items(op, context, node, cancel, named);
  if (!probes.empty()) {
    return dagflow::map(g, items.fn, list, probes,
                        std::vector<Delayed<Value>>(in.begin(), in.end()), items.options);
  }
  return with_inputs(in, [&](const auto&... inputs) {
    return dagflow::map(g, items.fn, list, inputs..., items.options);
  });
}

// A map node with `reduce`: dagflow::map_reduce over the list (a task's or a probe's result) or
// the streamed file (its only input: the loader refuses others), the items' results combined as
// they come by the reduce op. One task whose key holds both ops' names and versions (over a
// streamed file, each block's combined result is an entry of its own too).
template <class List>
Delayed<Value> add_map_reduce_task(Graph& g, const OpInfo& op, const OpInfo& reduce,
                                   const OpContext& context, const NodeSpec& node, const List& list,
                                   CancelToken* cancel) {
  const MapItems items(op, context, node, cancel);
  const auto combine = dagflow::op(reduce.name(), CombineCall{{&reduce, &context}, cancel})
                           .with_version(reduce.version());
  ChunkOptions options = items.options;
  options.any_order = reduce.any_order();
  return dagflow::map_reduce(g, items.fn, combine, Value(), list, options);
}

// Why a node runs, and how a cached writer kept its files: worked out before the run (when
// asked), shown for what happened.
struct Explanation {
  std::string would_run{};  // why it would run
  std::string kept{};       // a cached writer's restored files

  [[nodiscard]] std::string of(NodeOutcome outcome, bool cut_off) const {
    if (cut_off) return "its inputs came out as in its last run: its last result (early cut-off)";
    return outcome == NodeOutcome::kExecuted ? would_run
           : outcome == NodeOutcome::kCached ? kept
                                             : std::string();
  }
};

// Counts what happened to each pipeline node from the Executor's task events, and keeps what
// the record needs of them (failures, map block keys). Alone, a node is settled (its outcome and
// reason decided, RunRequest::on_node called) as its event arrives. Across ranks a rank sees only
// the events of its own tasks (a map's, one per rank): they are counted apart until the ranks
// have exchanged them (after each compute), and every rank then settles the same sums.
class NodeTally final : public RunObserver {
 public:
  NodeTally(std::vector<NodeRunInfo>& nodes, const std::vector<NodeTrace>& traces,
            const std::vector<Explanation>& explanations,
            std::function<void(const NodeRunInfo&)> on_node, bool across_ranks)
      : nodes_(nodes),
        traces_(traces),
        explanations_(explanations),
        on_node_(std::move(on_node)),
        across_ranks_(across_ranks) {
    counts_.resize(nodes.size());
    if (across_ranks_) unshared_.resize(nodes.size());
  }

  // Graph task id -> pipeline node index (tasks that are no node's body are not counted).
  void attribute(NodeId task, std::size_t node) {
    if (node_of_.size() <= task) node_of_.resize(std::size_t{task} + 1, kNone);
    node_of_[task] = node;
  }

  void on_task(const TaskEvent& event) override {
    if (event.task >= node_of_.size() || node_of_[event.task] == kNone) return;
    if (event.will_retry) return;  // a failed attempt to be retried: the node goes on
    const std::size_t i = node_of_[event.task];
    std::lock_guard lock(mutex_);
    NodeCount& c = across_ranks_ ? unshared_[i] : counts_[i];
    const bool failed = event.outcome == TaskOutcome::kFailed;
    c.seen = true;
    // A map fused into its reader ran there.
    c.ran = c.ran || failed || event.outcome == TaskOutcome::kExecuted ||
            event.outcome == TaskOutcome::kFused;
    c.failed = c.failed || failed;
    c.items_executed += event.items_computed;
    c.items_cached += event.items_cached;
    c.seconds += std::chrono::duration<double>(event.end - event.start).count();
    c.blocks.insert(c.blocks.end(), event.block_keys.begin(), event.block_keys.end());
    if (!across_ranks_) settle(i);
  }

  // Across ranks: what this rank counted since it last told the others, by node (then reset).
  [[nodiscard]] std::vector<std::pair<std::uint32_t, NodeCount>> take_unshared() {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::uint32_t, NodeCount>> out;
    for (std::size_t i = 0; i < unshared_.size(); ++i) {
      if (!unshared_[i].seen) continue;
      out.emplace_back(static_cast<std::uint32_t>(i), std::move(unshared_[i]));
      unshared_[i] = NodeCount{};
    }
    return out;
  }

  // Across ranks: every rank's counts (in rank order, the same on every rank), then the nodes
  // they name settled, in pipeline order. The traces must be merged first (cut-off is read).
  void merge(const std::vector<RankNews>& news) {
    std::lock_guard lock(mutex_);
    std::vector<char> named(counts_.size(), 0);
    for (const RankNews& rank : news) {
      for (const auto& [i, count] : rank.counts) {
        if (i >= counts_.size()) continue;
        counts_[i].add(count);
        named[i] = 1;
      }
    }
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      if (named[i] != 0) settle(i);
    }
  }

  [[nodiscard]] bool failed(std::size_t node) const { return counts_[node].failed; }
  [[nodiscard]] const std::vector<Hash128>& blocks(std::size_t node) const {
    return counts_[node].blocks;
  }

 private:
  static constexpr std::size_t kNone = SIZE_MAX;

  // Decides node i's outcome from its counts; the caller holds mutex_.
  void settle(std::size_t i) {
    const NodeCount& c = counts_[i];
    NodeRunInfo& node = nodes_[i];
    // A failed map counts no items (as one process counts them: once every item is done), even
    // where a rank finished its share of the blocks before another rank's share failed.
    node.items_executed = c.failed ? 0 : c.items_executed;
    node.items_cached = c.failed ? 0 : c.items_cached;
    node.seconds = c.seconds;
    // A map all of whose blocks came from the cache ran only to compute their keys; a node cut
    // off took its last result.
    const bool all_cached = node.items_executed == 0 && node.items_cached > 0;
    const bool cut_off = !c.failed && traces_[i].cut_off;
    node.outcome = c.failed                            ? NodeOutcome::kFailed
                   : c.ran && !(all_cached || cut_off) ? NodeOutcome::kExecuted
                                                       : NodeOutcome::kCached;
    node.reason = explanations_[i].of(node.outcome, cut_off);
    if (on_node_) on_node_(node);
  }

  std::vector<NodeRunInfo>& nodes_;
  const std::vector<NodeTrace>& traces_;
  const std::vector<Explanation>& explanations_;
  std::function<void(const NodeRunInfo&)> on_node_;
  const bool across_ranks_;
  std::vector<std::size_t> node_of_;  // written while the graph is built, read during runs
  std::vector<NodeCount> counts_;     // settled: this run's, across ranks every rank's
  std::vector<NodeCount> unshared_;   // across ranks: this rank's, not yet exchanged
  std::mutex mutex_;
};

// "FILE:LINE:COL: node 'x' (op y) failed[ on rank 1][ after 3 attempts][ at item 2]: <its
// error>", or "... timed out[ on rank 1] after 300 ms[ (3 attempts)]". The rank is named in runs
// across ranks (where the task ran is where to look for its logs).
std::string describe_failure(const PipelineSpec& spec, const NodeSpec& node, const TaskError& e) {
  std::string where = spec.file;
  if (node.mark.line > 0) where += fmt::format(":{}:{}", node.mark.line, node.mark.column);
  const std::string on_rank = e.rank() ? fmt::format(" on rank {}", *e.rank()) : std::string();
  if (e.timed_out()) {
    const std::string attempts =
        e.attempts() > 1 ? fmt::format(" ({} attempts)", e.attempts()) : std::string();
    return fmt::format("{}: node '{}' (op {}) timed out{} after {} ms{}", where, node.id, node.op,
                       on_rank, node.options.timeout.count(), attempts);
  }
  const std::string after =
      e.attempts() > 1 ? fmt::format(" after {} attempts", e.attempts()) : std::string();
  const std::string at_item = e.item() ? fmt::format(" at item {}", *e.item()) : std::string();
  return fmt::format("{}: node '{}' (op {}) failed{}{}{}: {}", where, node.id, node.op, on_rank,
                     after, at_item, detail::message_of(e.original()));
}

// Every path in a writer's result (a path, or lists and maps of them).
void collect_paths(const Value& v, std::vector<const PathValue*>& out) {
  if (v.kind() == ValueKind::kPath) out.push_back(&v.as_path());
  if (v.kind() == ValueKind::kList) {
    for (const Value& x : v.as_list()) collect_paths(x, out);
  }
  if (v.kind() == ValueKind::kMap) {
    for (const auto& [k, x] : v.as_map()) collect_paths(x, out);
  }
}

// A writer's results name files made from its items' names, which a path's key (its file's
// content) does not hold: a writer map's items are keyed by both, each passed as [item, the
// names of its files] (ItemCall unwraps it), so that two files with the same bytes never share
// a block entry, nor does a renamed file take its old name's result.
Value with_names(const Value& list) {
  if (list.kind() != ValueKind::kList) return list;  // the map reports it
  Value::List out;
  out.reserve(list.as_list().size());
  for (const Value& item : list.as_list()) {
    std::vector<const PathValue*> paths;
    collect_paths(item, paths);
    Value::List names;
    names.reserve(paths.size());
    for (const PathValue* p : paths) names.emplace_back(p->resolved.string());
    out.emplace_back(Value::List{item, Value(std::move(names))});
  }
  return out;
}

struct WithNames {
  bool hash_state(Hasher& /*h*/) const { return true; }  // stateless
  Value operator()(const Value& list) const { return with_names(list); }
};

struct FileStamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

std::optional<FileStamp> stamp_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStamp{static_cast<std::uint64_t>(st.st_size),
                   std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// Is a writer's file as it was written? Size and mtime unchanged say yes without reading it.
enum class FileState : std::uint8_t { kIntact, kMissing, kChanged };
FileState state_of(const RecordedOutput& o) {
  const std::optional<FileStamp> now = stamp_of(o.path);
  if (!now) return FileState::kMissing;
  if (now->size == o.size && now->mtime_ns == o.mtime_ns) return FileState::kIntact;
  try {
    return bytes_hash(util::read_regular_file(o.path)) == o.hash ? FileState::kIntact
                                                                 : FileState::kChanged;
  } catch (const util::ReadFileError&) {
    return FileState::kMissing;
  }
}

std::string shown_item(const Value& item) {
  return item.kind() == ValueKind::kPath ? item.as_path().shown : to_json(item);
}

// "1 of 6 items changed: texts/a.txt", "2 items removed", or "" when the items are those
// recorded.
std::string items_reason(const std::vector<std::pair<std::string, Hash128>>& now,
                         const std::vector<std::pair<std::string, Hash128>>& before) {
  std::vector<std::string> changed;
  for (const auto& item : now) {
    if (std::find(before.begin(), before.end(), item) == before.end())
      changed.push_back(item.first);
  }
  std::size_t removed = 0;
  for (const auto& item : before) {
    const auto same_name = [&](const auto& x) { return x.first == item.first; };
    if (std::none_of(now.begin(), now.end(), same_name)) ++removed;
  }
  std::string out;
  if (!changed.empty()) {
    const std::size_t shown = std::min<std::size_t>(changed.size(), 3);
    out = fmt::format(
        "{} of {} items changed: {}", changed.size(), now.size(),
        fmt::join(changed.begin(), changed.begin() + static_cast<std::ptrdiff_t>(shown), ", "));
    if (changed.size() > shown) out += fmt::format(" and {} more", changed.size() - shown);
  }
  if (removed > 0) {
    out += fmt::format("{}{} item{} removed", out.empty() ? "" : "; ", removed,
                       removed == 1 ? "" : "s");
  }
  return out;
}

// "argument k changed", "inputs a, b changed"; "" for none.
std::string changed_names(std::string_view noun, const std::vector<std::string>& names) {
  if (names.empty()) return {};
  return fmt::format("{}{} {} changed", noun, names.size() == 1 ? "" : "s", fmt::join(names, ", "));
}

std::string changed_args(const Value::Map& now, const Value::Map& before) {
  std::vector<std::string> names;
  for (const auto& [name, value] : now) {
    auto it = before.find(name);
    if (it == before.end() || !(it->second == value)) names.push_back(name);
  }
  for (const auto& [name, value] : before) {
    if (!now.contains(name)) names.push_back(name);
  }
  return changed_names("argument", names);
}

class PipelineRun {
 public:
  PipelineRun(const PipelineSpec& spec, const OpRegistry& ops, const LoadOptions& load,
              ExecutorOptions options, const RunRequest& request, bool dry);
  PipelineResult go();

 private:
  void make_executor();
  void run_phases();
  void resolve_targets();
  void mark_needed();
  void read_previous_record();
  void build_graph();
  void add_node(std::size_t i);
  [[nodiscard]] bool streamed(std::size_t i) const;
  void add_stream_source(std::size_t i);
  void add_map_node(std::size_t i, std::span<const Delayed<Value>> inputs,
                    const ProbeInputs& probes);
  [[nodiscard]] const DelayedBase& handle(std::size_t i) const;
  void run_probe(std::size_t i);
  void plan();
  void mark_rechecked();
  void check_writers();
  [[nodiscard]] WriterCheck check_writer_files(std::size_t i) const;
  void apply(const WriterCheck& check);
  void explain();
  [[nodiscard]] std::string reason_for(std::size_t i) const;
  [[nodiscard]] std::string changes_since_record(std::size_t i, const RecordedNode& before) const;
  void plan_dry();
  void restore_outputs();
  std::vector<Value> compute(const std::vector<Delayed<Value>>& targets);
  void exchange_news();
  void exchange_news_after_failure() noexcept;
  void execute();
  void write_record(const std::vector<Value>* values);
  [[nodiscard]] RecordedNode record_of(std::size_t i, const Value* written) const;
  [[nodiscard]] std::vector<RecordedOutput> outputs_of(std::size_t i, const Value& written,
                                                       const std::vector<Hash128>& blocks,
                                                       const RecordedNode* before) const;
  [[nodiscard]] std::vector<std::pair<std::string, Hash128>> items_of(std::size_t i) const;
  [[nodiscard]] const RecordedNode* recorded_with_key(std::size_t i,
                                                      const std::optional<Hash128>& k) const;
  void mark_unfinished(bool cancelled);
  [[nodiscard]] NodeError node_error(const TaskError& e) const;
  [[nodiscard]] PipelineRunError run_error(const RunError& e) const;
  void count();

  [[nodiscard]] const NodeSpec& node(std::size_t i) const { return spec_.nodes[i]; }
  [[nodiscard]] const OpInfo& op(std::size_t i) const { return *ops_.find(node(i).op); }
  [[nodiscard]] const OpInfo& reduce_op(std::size_t i) const { return *ops_.find(node(i).reduce); }
  // A writer node (OpInfo::writes_files for its arguments: `shell` with `outputs`).
  [[nodiscard]] bool writes(std::size_t i) const { return op(i).writes_files(node(i).args); }
  [[nodiscard]] const RecordedNode* previous(std::size_t i) const;
  [[nodiscard]] std::optional<Hash128> key(std::size_t i) const;
  std::vector<std::size_t> inputs_of(std::size_t i) const;
  // Whether node i's op takes its several inputs as one map keyed by their ids.
  bool keyed_inputs(std::size_t i) const;
  // Across ranks (a cluster of more than one rank): computes are collective, and rank 0 alone
  // reads the record and writers' files and writes anything outside the tasks.
  [[nodiscard]] bool across_ranks() const noexcept { return ranks_ > 1; }
  [[nodiscard]] bool writes_outside_tasks() const noexcept { return rank_ == 0; }

  const PipelineSpec& spec_;
  const OpRegistry& ops_;
  const RunRequest& request_;
  CancelToken* const cancel_;  // null: none
  const bool dry_;
  const std::size_t ranks_;  // 1: this process alone
  const std::size_t rank_;
  bool stop_agreed_ = false;                  // across ranks: some rank's run was asked to stop
  std::optional<std::string> shared_record_;  // across ranks: the record's text, from rank 0
  std::string record_problem_;                // rank 0: why the record could not be read
  const Clock::time_point start_ = Clock::now();
  PipelineResult result_;
  std::vector<NodeTrace> traces_;
  std::vector<Explanation> explanations_;
  std::vector<NodeBody> bodies_;
  std::shared_ptr<NodeTally> tally_;
  ExecutorOptions options_;  // until go() makes the Executor
  std::unique_ptr<Executor> executor_;
  DiskCache* cache_ = nullptr;
  OpContext context_;
  Graph graph_;
  std::unordered_map<std::string_view, std::size_t> index_;
  std::vector<Delayed<Value>> task_;
  std::vector<Delayed<TextSource>> stream_;    // a streamed file's source (then no task_)
  std::vector<std::optional<Value>> literal_;  // probes' results (their readers' literals)
  std::vector<std::size_t> targets_;           // asked for, then the needed writers
  std::size_t asked_ = 0;                      // how many of targets_ were asked for
  std::vector<char> needed_, forced_;
  // How a writer's files are made again: not at all, by running it, or by running only the map
  // blocks that made its lost files (their entries erased).
  enum Refresh : char { kIntact = 0, kRunAll = 1, kRunLostBlocks = 2 };
  std::vector<char> refreshed_;            // a Refresh per node
  std::vector<char> rechecked_;            // its result may differ under the same key: run it
  std::vector<char> reads_named_files_;    // reads files whose names another node computes
  std::vector<std::string> file_problem_;  // a writer's file that is missing or changed
  std::vector<std::pair<std::size_t, RecordedOutput>> restore_;
  std::vector<std::optional<Hash128>> keys_;  // by graph task id, with a disk cache
  RunRecord previous_;
  mutable std::optional<std::vector<RunRecord>> others_;  // every record in the cache, when needed
};

PipelineRun::PipelineRun(const PipelineSpec& spec, const OpRegistry& ops, const LoadOptions& load,
                         ExecutorOptions options, const RunRequest& request, bool dry)
    : spec_(spec),
      ops_(ops),
      request_(request),
      cancel_(request.cancel.get()),
      dry_(dry),
      ranks_(options.cluster ? options.cluster->size() : 1),
      rank_(options.cluster ? options.cluster->rank() : 0),
      context_{.base_dir = spec.base_dir,
               .allow_outside = load.allow_outside,
               .allow_shell = load.allow_shell} {
  const std::size_t n = spec_.nodes.size();
  result_.nodes.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    result_.nodes[i].id = node(i).id;
    result_.nodes[i].op = node(i).op;
    index_.emplace(node(i).id, i);
  }
  traces_.resize(n);
  explanations_.resize(n);
  bodies_.resize(n);
  task_.resize(n);
  stream_.resize(n);
  literal_.resize(n);
  needed_.resize(n);
  forced_.resize(n);
  refreshed_.resize(n);
  rechecked_.resize(n);
  reads_named_files_.resize(n);
  file_problem_.resize(n);
  tally_ = std::make_shared<NodeTally>(result_.nodes, traces_, explanations_, request.on_node,
                                       across_ranks());
  options.observers.insert(options.observers.begin(), tally_);  // counted before others see it
  for (const auto& [name, capacity] : spec.resources) options.resources.try_emplace(name, capacity);
  options_ = std::move(options);
}

// While it lives, a run's cancel token (when there is one) reaches its Executor.
class CancelScope {
 public:
  CancelScope(CancelToken* token, Executor& executor) : token_(token), executor_(executor) {
    if (token_ != nullptr) token_->attach(executor_);
  }
  ~CancelScope() {
    if (token_ != nullptr) token_->detach(executor_);
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  CancelToken* token_;
  Executor& executor_;
};

// The run, and what a cancelled run or one that went on after failures tells of each node.
PipelineResult PipelineRun::go() {
  resolve_targets();  // before the Executor makes the cache: a wrong name changes nothing
  make_executor();    // throws std::invalid_argument for a refused cache
  const CancelScope cancel_scope(cancel_, *executor_);
  try {
    run_phases();
  } catch (const Cancelled& e) {
    mark_unfinished(true);
    count();
    throw PipelineCancelled(e.what(), std::move(result_));
  } catch (const RunError& e) {
    mark_unfinished(false);
    count();
    throw run_error(e);
  }
  count();
  return std::move(result_);
}

// The run's one Executor (each rank attaches it to the cluster in the same order: one per run).
// Across ranks every rank needs one, or the others' first collective call would wait for it
// forever: a rank whose cache directory is refused makes one without it, and the ranks then
// learn together whether any was refused (every rank throws), whether any run was asked to stop
// already, and the last run record as rank 0 read it (the only rank that reads it, so that no
// rank reads the record rank 0 is writing for the previous run).
void PipelineRun::make_executor() {
  if (!across_ranks()) {
    executor_ = std::make_unique<Executor>(std::move(options_));
    cache_ = executor_->disk_cache();
    return;
  }
  RunStart mine;
  try {
    executor_ = std::make_unique<Executor>(options_);
  } catch (const std::exception& e) {  // std::invalid_argument, std::filesystem::filesystem_error
    if (options_.cache_dir.empty()) throw;  // no cache to do without: nothing else would work
    mine.refused = e.what();
    ExecutorOptions without_cache = std::move(options_);
    without_cache.cache_dir.clear();
    executor_ = std::make_unique<Executor>(std::move(without_cache));
  }
  cache_ = executor_->disk_cache();
  mine.cancelled = cancel_ != nullptr && cancel_->cancelled();
  if (writes_outside_tasks() && cache_ != nullptr) {
    mine.record =
        read_record_text(record_path(cache_->path(), pipeline_file_of(spec_)), record_problem_);
  }
  const std::vector<std::string> all = executor_->all_gather(encode(mine));
  std::vector<RunStart> starts;
  starts.reserve(all.size());
  for (const std::string& bytes : all) starts.push_back(decode_start(bytes));
  for (std::size_t r = 0; r < starts.size(); ++r) {
    if (starts[r].refused.empty()) continue;
    const bool everywhere = std::all_of(starts.begin(), starts.end(), [&](const RunStart& s) {
      return s.refused == starts[r].refused;
    });
    throw std::invalid_argument(everywhere ? starts[r].refused
                                           : fmt::format("rank {}: {}", r, starts[r].refused));
  }
  stop_agreed_ =
      std::any_of(starts.begin(), starts.end(), [](const RunStart& s) { return s.cancelled; });
  shared_record_ = std::move(starts.front().record);
}

void PipelineRun::run_phases() {
  mark_needed();
  read_previous_record();
  build_graph();
  plan();
  if (dry_ || request_.explain) explain();
  if (dry_) {
    plan_dry();
  } else {
    restore_outputs();
    execute();
  }
}

// Phase "resolve": the requested targets and forced nodes, by index. A name that is no node is
// a mistake in the command, reported before anything runs.
void PipelineRun::resolve_targets() {
  std::vector<std::string> ids;
  for (const NodeSpec& n : spec_.nodes) ids.push_back(n.id);
  const auto find = [&](const std::string& id, std::string_view what) {
    auto it = index_.find(id);
    if (it == index_.end()) {
      throw PipelineError(spec_.file, {},
                          fmt::format("{} '{}' is not a node of this pipeline{}", what, id,
                                      util::did_you_mean(util::nearest_names(id, ids))));
    }
    return it->second;
  };
  for (const std::string& id : request_.targets.empty() ? spec_.outputs : request_.targets) {
    const std::size_t i = find(id, "target");
    if (std::find(targets_.begin(), targets_.end(), i) == targets_.end()) targets_.push_back(i);
  }
  asked_ = targets_.size();
  for (const std::string& id : request_.force) forced_[find(id, "forced node")] = 1;
}

bool PipelineRun::keyed_inputs(std::size_t i) const {
  return op(i).has_keyed_inputs() && node(i).map.empty() && node(i).inputs.size() > 1;
}

std::vector<std::size_t> PipelineRun::inputs_of(std::size_t i) const {
  std::vector<std::size_t> in;
  if (!node(i).map.empty()) in.push_back(index_.at(node(i).map));
  for (const std::string& id : node(i).inputs) in.push_back(index_.at(id));
  return in;
}

// Phase "needed": what the targets need (nodes come dependencies first, so one backward sweep).
// Only these are built: a probe nothing needs does not run.
void PipelineRun::mark_needed() {
  for (std::size_t t : targets_) needed_[t] = 1;
  for (std::size_t i = spec_.nodes.size(); i-- > 0;) {
    if (!needed_[i]) continue;
    for (std::size_t in : inputs_of(i)) needed_[in] = 1;
  }
  // Needed writers are targets too: their results name the files to track.
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    const bool target = std::find(targets_.begin(), targets_.end(), i) != targets_.end();
    if (needed_[i] && writes(i) && !target) targets_.push_back(i);
  }
  if (request_.force_all) {
    for (std::size_t i = 0; i < spec_.nodes.size(); ++i) forced_[i] = needed_[i];
  }
}

void PipelineRun::read_previous_record() {
  if (cache_ == nullptr) return;
  std::string problem;
  const fs::path path = record_path(cache_->path(), pipeline_file_of(spec_));
  std::optional<RunRecord> record;
  if (!across_ranks()) {
    record = read_record(path, problem);
  } else if (shared_record_) {
    record = parse_record(*shared_record_, problem);
  } else {
    problem = record_problem_;
  }
  if (record) {
    previous_ = std::move(*record);
  } else if (!problem.empty() && writes_outside_tasks()) {
    executor_->options().log(
        fmt::format("the run record {} cannot be read ({}): every node is treated as new",
                    path.string(), problem));
  }
}

const RecordedNode* PipelineRun::previous(std::size_t i) const {
  auto it = previous_.nodes.find(node(i).id);
  if (it == previous_.nodes.end()) return nullptr;
  const RecordedNode& r = it->second;
  // A record of another op, version or arguments says nothing about this node's results.
  const bool same =
      r.op == node(i).op && r.version == op(i).version() && r.args == recorded_args(node(i).args);
  if (!same) return nullptr;
  // Keyed inputs' ids are in the result: the same contents under other ids make another one.
  if (keyed_inputs(i)) {
    const std::vector<std::string>& ids = node(i).inputs;
    const auto same_id = [](const auto& recorded, const std::string& id) {
      return recorded.first == id;
    };
    if (!std::equal(r.inputs.begin(), r.inputs.end(), ids.begin(), ids.end(), same_id)) {
      return nullptr;
    }
  }
  return &r;
}

std::optional<Hash128> PipelineRun::key(std::size_t i) const {
  const DelayedBase& task = handle(i);
  if (!task.is_valid() || task.id() >= keys_.size()) return std::nullopt;
  return keys_[task.id()];
}

// A node's task: its result's, or a streamed file's source.
const DelayedBase& PipelineRun::handle(std::size_t i) const {
  if (stream_[i].is_valid()) return stream_[i];
  return task_[i];
}

// A file-reading node whose result only maps read, as their list, is not read whole: the maps
// stream it in blocks (OpInfo::stream_source). A target's result is needed whole.
bool PipelineRun::streamed(std::size_t i) const {
  if (op(i).stream_source() == nullptr) return false;
  if (std::find(targets_.begin(), targets_.end(), i) != targets_.end()) return false;
  for (std::size_t j = i + 1; j < spec_.nodes.size(); ++j) {
    if (!needed_[j]) continue;
    const std::vector<std::size_t> in = inputs_of(j);
    const auto reads = std::count(in.begin(), in.end(), i);
    if (reads > 1 || (reads == 1 && (node(j).map != node(i).id))) return false;
  }
  return true;
}

void PipelineRun::add_stream_source(std::size_t i) {
  stream_[i] = op(i).stream_source()(graph_, context_, node(i).args);
}

// Phase "build": one task per needed node, dependencies first; probes run as they are added.
void PipelineRun::build_graph() {
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (needed_[i]) add_node(i);
  }
}

void PipelineRun::add_node(std::size_t i) {
  const NodeSpec& n = node(i);
  std::vector<Delayed<Value>> inputs;  // the tasks of the inputs that are no probe's result
  ProbeInputs probes;                  // the probes' results, by position
  const std::vector<std::size_t> sources = inputs_of(i);
  for (std::size_t k = 0; k < sources.size(); ++k) {
    const std::size_t j = sources[k];
    // A probe's result is a literal of this task; a map's list keeps its place in `inputs` (empty
    // there, like a streamed file's: add_map_node takes it from literal_).
    const bool list = k == 0 && !n.map.empty();
    if (literal_[j] && !list) {
      probes.emplace_back(k, *literal_[j]);
      continue;
    }
    inputs.push_back(literal_[j] ? Delayed<Value>() : task_[j]);
    // A file named by a probe is keyed by content already (the probe's result is a literal);
    // one named by a node's result is known only at run time: checked then (see plan()).
    const std::vector<std::string>& types = op(i).inputs();
    if (k < types.size() && is_file_type(types[k]) && !op(j).is_probe() && !stream_[j].is_valid()) {
      inputs.back() =
          graph_.delayed(dagflow::op("dagflow.as_paths", AsPaths{&context_}), inputs.back());
      reads_named_files_[i] = 1;
    }
  }
  const RecordedNode* before = cache_ != nullptr ? previous(i) : nullptr;
  bodies_[i] = NodeBody{.op = &op(i),
                        .context = &context_,
                        .args = &n.args,
                        .cache = cache_,
                        .previous = before,
                        .may_cut_off = false,  // decided by plan()
                        .trace = &traces_[i],
                        .cancel = cancel_,
                        .keyed_inputs = keyed_inputs(i) ? &n.inputs : nullptr};
  if (streamed(i)) {
    add_stream_source(i);
  } else if (n.map.empty()) {
    task_[i] = add_task(graph_, op(i), bodies_[i], n, inputs, probes);
  } else {
    add_map_node(i, inputs, probes);
  }
  const DelayedBase& task = handle(i);
  graph_.set_label(task, n.id);
  TaskOptions options = n.options;
  // Across ranks, a writer's files land on rank 0's machine, beside the outputs it prints.
  options.on_rank0 = writes(i);
  if (options != TaskOptions{}) graph_.set_options(task, options);
  tally_->attribute(task.id(), i);
  if (op(i).is_probe()) {
    run_probe(i);
    return;
  }
  if (!n.cache || op(i).has_side_effects(node(i).args)) graph_.set_impure(task);
}

// A map node's task: over a streamed file, a probe's result (a literal list) or another node's
// result (`inputs` first: the list's task, empty for the other two, then the others' tasks).
void PipelineRun::add_map_node(std::size_t i, std::span<const Delayed<Value>> inputs,
                               const ProbeInputs& probes) {
  const NodeSpec& n = node(i);
  const std::size_t from = index_.at(n.map);
  // A writer's items are keyed by their names too (a streamed file's, strings, are their names).
  const bool named = writes(i) && n.reduce.empty() && !stream_[from].is_valid();
  const auto add = [&](const auto& list) {
    return n.reduce.empty()
               ? add_map_task(graph_, op(i), context_, n, list, inputs.subspan(1), probes, cancel_,
                              named)
               : add_map_reduce_task(graph_, op(i), reduce_op(i), context_, n, list, cancel_);
  };
  if (op(i).array_map() != nullptr && n.reduce.empty() && !named && inputs.size() == 1 &&
      probes.empty() && !stream_[from].is_valid()) {
    const auto fn = dagflow::op(fmt::format("map({})", op(i).name()),
                                ArrayMapCall{{&op(i), &context_}, &n.args, cancel_})
                        .with_version(op(i).version());
    const Value args(keyed_args(op(i), n.args));
    task_[i] = literal_[from] ? graph_.delayed(fn, args, *literal_[from])
                              : graph_.delayed(fn, args, inputs.front());
  } else if (stream_[from].is_valid()) {
    task_[i] = add(stream_[from]);
  } else if (named && literal_[from]) {
    task_[i] = add(with_names(*literal_[from]));
  } else if (named) {
    task_[i] = add(graph_.delayed(dagflow::op("dagflow.with_names", WithNames{}), inputs.front()));
  } else if (literal_[from]) {
    task_[i] = add(*literal_[from]);
  } else {
    task_[i] = add(inputs.front());
  }
}

// Run a probe now (like any task, so observers see it): what it returns decides the keys of
// everything downstream, which then takes it as a literal keyed by its content (see
// ProbeInputs). Its task, computed once here, is no input of any other (nor a target: execute()
// takes its result from literal_).
void PipelineRun::run_probe(std::size_t i) {
  graph_.set_impure(task_[i]);
  try {
    literal_[i] = std::move(compute({task_[i]}).front());
  } catch (const NodeError& e) {
    if (!dry_) throw;
    // A dry run shows the failure and plans the rest as if the probe were fixed: what needs it
    // would run (a placeholder that is never run stands in for its result).
    result_.nodes[i].outcome = NodeOutcome::kFailed;
    result_.nodes[i].error = e.what();
    task_[i] = graph_.delayed(dagflow::op("dagflow.failed_probe", [] { return Value(); }));
    graph_.set_impure(task_[i]);
    graph_.set_label(task_[i], node(i).id);
  }
}

// Phase "plan": keys, forced nodes and what depends on them, writers whose files need care, and
// which bodies may cut off.
void PipelineRun::plan() {
  if (cache_ == nullptr) return;
  keys_ = task_keys(graph_);
  // A probe's task is impure (no key): where records name its readers' inputs by key, its
  // result's content stands for it, as it does in their keys.
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (literal_[i]) keys_[task_[i].id()] = content_hash(*literal_[i]);
  }
  mark_rechecked();
  check_writers();
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (!needed_[i] || op(i).is_probe()) continue;
    // Forced, or a writer whose files are gone: everything afresh, a map's blocks too. Under a
    // key that may stand for another result now: the body runs (a map finds its unchanged
    // blocks; another node takes its last result when its inputs' contents are unchanged).
    if (forced_[i] || refreshed_[i]) {
      graph_.set_refresh(handle(i), /*parts_too=*/forced_[i] || refreshed_[i] != kRunLostBlocks);
    } else if (rechecked_[i]) {
      graph_.set_refresh(handle(i), /*parts_too=*/false);
    }
    // A writer's last result stands for its files only while they are intact.
    const bool files_ok = !writes(i) || file_problem_[i].empty();
    bodies_[i].may_cut_off =
        bodies_[i].previous != nullptr && bodies_[i].previous->key && !forced_[i] && files_ok;
  }
}

// Static keys cannot see two changes: a forced node's new result, and files whose names a node
// computes. Such a node, and everything downstream of it, runs its body; cut-off then serves
// each one whose inputs came out as in its last run.
void PipelineRun::mark_rechecked() {
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (!needed_[i] || op(i).is_probe()) continue;
    bool recheck = reads_named_files_[i] != 0;
    for (std::size_t in : inputs_of(i)) recheck = recheck || forced_[in] || rechecked_[in];
    rechecked_[i] = recheck ? 1 : 0;
  }
}

// The writers' files, looked at by rank 0 alone across ranks (a file's state must not depend on
// which rank looks, nor on when: rank 0 restores files once the ranks have heard its verdict).
void PipelineRun::check_writers() {
  std::vector<WriterCheck> checks;
  if (writes_outside_tasks()) {
    for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
      if (needed_[i] && writes(i) && !forced_[i]) checks.push_back(check_writer_files(i));
    }
  }
  if (across_ranks()) {
    bool any_writer = false;
    for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
      any_writer = any_writer || (needed_[i] && writes(i) && !forced_[i]);
    }
    if (!any_writer) return;  // every rank knows there is nothing to hear
    const std::vector<std::string> all =
        executor_->all_gather(writes_outside_tasks() ? encode(checks) : std::string());
    checks = decode_writer_checks(all.front());
  }
  for (const WriterCheck& check : checks) apply(check);
}

// A writer whose result is cached keeps its files when they hold what it wrote; a file deleted
// or edited is restored from the kept bytes, or else the writer runs again.
WriterCheck PipelineRun::check_writer_files(std::size_t i) const {
  WriterCheck check{.node = static_cast<std::uint32_t>(i)};
  const std::optional<Hash128> k = key(i);
  if (!k || !cache_->contains(*k)) return check;  // it runs anyway
  const auto it = previous_.nodes.find(node(i).id);
  if (it == previous_.nodes.end() || it->second.key != k) {
    // Cached by another run of the same work: where its files are is not known here.
    check.refreshed = true;
    check.problem = "its files are not in the run record";
    return check;
  }
  const std::vector<RecordedOutput>& outputs = it->second.outputs;
  std::vector<Hash128> lost_blocks;  // of a map's files that have no kept bytes
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const FileState state = state_of(outputs[o]);
    if (state == FileState::kIntact) continue;
    if (check.problem.empty()) {
      check.problem = fmt::format("output {} {}", outputs[o].shown,
                                  state == FileState::kMissing ? "missing" : "changed");
    }
    if (outputs[o].bytes_key && cache_->contains(*outputs[o].bytes_key)) {
      check.restore.push_back(static_cast<std::uint32_t>(o));
    } else if (outputs[o].block && !across_ranks()) {
      lost_blocks.push_back(*outputs[o].block);
    } else {
      check.refreshed = true;
      check.restore.clear();
      return check;
    }
  }
  // Forgetting the blocks makes the map run them alone (a dry run only says it would).
  if (!lost_blocks.empty()) {
    if (!dry_) (void)cache_->erase(lost_blocks);
    check.blocks_only = true;
  }
  return check;
}

// Takes rank 0's verdict on a writer's files (on every rank alike: it decides refresh marks).
void PipelineRun::apply(const WriterCheck& check) {
  const std::size_t i = check.node;
  if (i >= spec_.nodes.size()) return;
  refreshed_[i] = check.refreshed ? kRunAll : check.blocks_only ? kRunLostBlocks : kIntact;
  file_problem_[i] = check.problem;
  const auto it = previous_.nodes.find(node(i).id);
  if (it == previous_.nodes.end()) return;
  for (const std::uint32_t o : check.restore) {
    if (o < it->second.outputs.size()) restore_.emplace_back(i, it->second.outputs[o]);
  }
}

// Phase "explain": why each needed node would run (or how its files are kept).
void PipelineRun::explain() {
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (needed_[i]) explanations_[i].would_run = reason_for(i);
  }
  for (const auto& [i, o] : restore_) {
    std::string& kept = explanations_[i].kept;
    kept += fmt::format("{}output {} {} from the cache", kept.empty() ? "" : "; ", o.shown,
                        dry_ ? "would be restored" : "restored");
  }
}

std::string PipelineRun::reason_for(std::size_t i) const {
  if (op(i).is_probe()) return {};  // "probe ran" says it
  if (!node(i).cache) return "cache: false";
  if (op(i).has_side_effects(node(i).args)) return "has side effects: runs every time";
  if (cache_ == nullptr) return "no cache entry";
  if (request_.force_all) return "forced (every node)";
  if (forced_[i]) return "forced";
  if (refreshed_[i]) return file_problem_[i];
  if (reads_named_files_[i]) {
    return "reads files named at run time: runs to compare their contents with its last run";
  }
  if (rechecked_[i]) {
    return "an input may change under the same key (forced, or reading files named at run "
           "time): runs, keeping its last result if its inputs are unchanged";
  }
  const auto it = previous_.nodes.find(node(i).id);
  if (it == previous_.nodes.end()) return "no cache entry (never ran)";
  const RecordedNode& before = it->second;
  if (before.op != node(i).op) return fmt::format("op changed (was {})", before.op);
  if (before.version != op(i).version()) return "op version changed";
  if (std::string args = changed_args(recorded_args(node(i).args), before.args); !args.empty()) {
    return args;
  }
  if (std::string changes = changes_since_record(i, before); !changes.empty()) return changes;
  return "no cache entry";
}

// What changed upstream: the items of a map over a probe's list, else which inputs.
std::string PipelineRun::changes_since_record(std::size_t i, const RecordedNode& before) const {
  const std::vector<std::size_t> in = inputs_of(i);
  if (!node(i).map.empty() && literal_[in.front()]) {
    if (std::string items = items_reason(items_of(i), before.items); !items.empty()) return items;
  }
  std::vector<std::string> changed;
  for (std::size_t j : in) {
    const auto same = [&](const auto& x) { return x.first == node(j).id && x.second == key(j); };
    if (std::none_of(before.inputs.begin(), before.inputs.end(), same)) {
      changed.push_back(node(j).id);
    }
  }
  return changed_names("input", changed);
}

// Each element of a map's list as shown and its content hash (only for a probe's list: other
// lists are not at hand before the run).
std::vector<std::pair<std::string, Hash128>> PipelineRun::items_of(std::size_t i) const {
  std::vector<std::pair<std::string, Hash128>> items;
  const std::optional<Value>& list = literal_[index_.at(node(i).map)];
  if (!list || list->kind() != ValueKind::kList) return items;
  for (const Value& item : list->as_list())
    items.emplace_back(shown_item(item), content_hash(item));
  return items;
}

// A dry run: the Executor's plan, as outcomes (probes have run already).
void PipelineRun::plan_dry() {
  std::vector<const DelayedBase*> pointers;
  for (std::size_t t : targets_) {
    if (!op(t).is_probe()) pointers.push_back(&task_[t]);
  }
  if (pointers.empty()) return;
  const DryRun plan = executor_->dry_run(pointers);
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (!handle(i).is_valid() || op(i).is_probe()) continue;
    const NodeId id = handle(i).id();
    const auto in = [id](const std::vector<NodeId>& ids) {
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    if (in(plan.to_run)) result_.nodes[i].outcome = NodeOutcome::kExecuted;
    if (in(plan.cached)) result_.nodes[i].outcome = NodeOutcome::kCached;
    result_.nodes[i].reason = explanations_[i].of(result_.nodes[i].outcome, false);
  }
}

// Phase "restore": writers' files deleted or edited since the last run, written back from the
// cache (the writer itself is then a cache hit). Across ranks rank 0 writes them, and then tells
// the others which it could not restore: every rank marks those writers to run, and no rank
// keys files for its compute while rank 0 may still be writing them.
void PipelineRun::restore_outputs() {
  if (restore_.empty()) return;
  std::vector<std::uint32_t> lost;  // writers whose kept bytes are gone or damaged
  if (writes_outside_tasks()) {
    for (const auto& [i, o] : restore_) {
      std::optional<std::string> bytes = cache_->load<std::string>(*o.bytes_key);
      if (!bytes || bytes_hash(*bytes) != o.hash) {
        lost.push_back(static_cast<std::uint32_t>(i));
        continue;
      }
      context_.write_file(o.path, *bytes, o.shown);
    }
  }
  if (across_ranks()) {
    Value::List mine;
    for (const std::uint32_t i : lost) mine.emplace_back(i);
    const std::vector<std::string> all = executor_->all_gather(
        writes_outside_tasks() ? to_bytes(Value(std::move(mine))) : std::string());
    lost.clear();
    const Value heard = from_bytes<Value>(all.front());
    for (const Value& i : heard.as_list()) lost.push_back(static_cast<std::uint32_t>(i.as_int()));
  }
  for (const std::uint32_t i : lost) {
    if (i < task_.size()) graph_.set_refresh(task_[i]);  // write them anew
  }
}

std::vector<Value> PipelineRun::compute(const std::vector<Delayed<Value>>& targets) {
  if (!across_ranks()) {
    // Cancelled between two computes (after a probe's, say): the next one would not hear it.
    if (cancel_ != nullptr && cancel_->cancelled()) throw Cancelled("cancelled before it ran");
    try {
      return executor_->compute(targets);
    } catch (const TaskError& e) {
      throw node_error(e);
    }
  }
  // Across ranks a rank cannot skip a compute on its own (the others would wait for it): the
  // ranks agree on stopping when they exchange news, before the first compute and after each.
  if (stop_agreed_) throw Cancelled("cancelled before it ran");
  std::vector<Value> values;
  try {
    values = executor_->compute(targets);
  } catch (const TaskError& e) {
    exchange_news_after_failure();
    throw node_error(e);
  } catch (...) {
    exchange_news_after_failure();
    throw;
  }
  exchange_news();
  return values;
}

// Across ranks, after each compute: every rank sends what its task events said of the nodes and
// the traces of the bodies that ran on it, and merges everyone's alike, so that every rank knows
// what happened to each node (and rank 0 can record it). Also sums what each rank did.
void PipelineRun::exchange_news() {
  RankNews mine{.cancelled = cancel_ != nullptr && cancel_->cancelled(),
                .counts = tally_->take_unshared()};
  for (const auto& [i, count] : mine.counts) {
    if (count.ran && traces_[i].ran) mine.traces.emplace_back(i, traces_[i]);
  }
  const std::vector<std::string> all = executor_->all_gather(encode(mine));
  std::vector<RankNews> news;
  news.reserve(all.size());
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (r == rank_) {  // its own traces are here already
      news.push_back(mine);
      continue;
    }
    news.push_back(decode_news(all[r]));
    for (auto& [i, trace] : news.back().traces) {
      if (i < traces_.size()) traces_[i] = std::move(trace);
    }
  }
  stop_agreed_ =
      std::any_of(news.begin(), news.end(), [](const RankNews& n) { return n.cancelled; });
  tally_->merge(news);
  const RunStats stats = executor_->last_run_stats();
  std::vector<RankStats>& ranks = result_.stats.ranks;
  ranks.resize(std::max(ranks.size(), stats.ranks.size()));
  for (std::size_t r = 0; r < stats.ranks.size(); ++r) {
    ranks[r].executed += stats.ranks[r].executed;
    ranks[r].items_executed += stats.ranks[r].items_executed;
    ranks[r].busy_seconds += stats.ranks[r].busy_seconds;
  }
}

// After a compute that failed on every rank: the news still, for what finished (the record),
// unless the cluster itself failed; the compute's own failure is the one reported.
void PipelineRun::exchange_news_after_failure() noexcept {
  try {
    exchange_news();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the failure being handled is what matters
  }
}

// The failure of a node's task as the pipeline tells it (a helper task's as the engine did).
NodeError PipelineRun::node_error(const TaskError& e) const {
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (handle(i).is_valid() && handle(i).id() == e.node()) {
      return NodeError(describe_failure(spec_, node(i), e), node(i).id, node(i).op, e.original());
    }
  }
  return NodeError(e.what(), e.label(), std::string(), e.original());
}

PipelineRunError PipelineRun::run_error(const RunError& e) const {
  std::vector<NodeError> errors;
  PipelineResult result = result_;
  for (const TaskError& failure : e.failures()) {
    errors.push_back(node_error(failure));
    if (auto it = index_.find(errors.back().node()); it != index_.end()) {
      result.nodes[it->second].error = errors.back().what();
    }
  }
  return PipelineRunError(e, std::move(errors), std::move(result));
}

// After a run that stopped early (cancelled) or went on past failures: a node it needed that did
// not finish is kNotRun. A node with no event was needed when a node that needs it was, and was
// not served whole from the cache (a hit prunes its upstream). In a cancelled run a node that
// failed was most likely stopped by the cancel: it did not finish either.
void PipelineRun::mark_unfinished(bool cancelled) {
  std::vector<char> planned(spec_.nodes.size(), 0);
  for (std::size_t t : targets_) planned[t] = 1;
  for (std::size_t i = spec_.nodes.size(); i-- > 0;) {
    NodeRunInfo& n = result_.nodes[i];
    if (cancelled && n.outcome == NodeOutcome::kFailed) n.outcome = NodeOutcome::kNotRun;
    if (!planned[i] || op(i).is_probe()) continue;
    if (n.outcome == NodeOutcome::kNotNeeded) n.outcome = NodeOutcome::kNotRun;
    if (n.outcome == NodeOutcome::kCached) continue;
    for (std::size_t in : inputs_of(i)) planned[in] = 1;
  }
}

// Phase "execute": everything the targets need, on all cores; then the record, also when a node
// failed (for what finished).
void PipelineRun::execute() {
  // A probe's result is here already (it ran as the graph was built): only the others' tasks.
  std::vector<Delayed<Value>> tasks;
  for (std::size_t t : targets_) {
    if (!literal_[t]) tasks.push_back(task_[t]);
  }
  std::vector<Value> computed;
  try {
    if (!tasks.empty()) computed = compute(tasks);
  } catch (...) {
    write_record(nullptr);
    throw;
  }
  std::vector<Value> values;  // by target
  values.reserve(targets_.size());
  auto next = computed.begin();
  for (std::size_t t : targets_) values.push_back(literal_[t] ? *literal_[t] : std::move(*next++));
  write_record(&values);
  for (std::size_t t = 0; t < asked_; ++t) {
    result_.outputs.insert_or_assign(node(targets_[t]).id, std::move(values[t]));
  }
}

// What a record says of node i's result under key `k`: this pipeline's last record, else (a result
// another pipeline computed) that pipeline's record of the same work, which knows its map blocks
// and input contents just as well.
const RecordedNode* PipelineRun::recorded_with_key(std::size_t i,
                                                   const std::optional<Hash128>& k) const {
  if (!k) return nullptr;
  const auto it = previous_.nodes.find(node(i).id);
  if (it != previous_.nodes.end() && it->second.key == k) return &it->second;
  if (!others_) others_ = read_all_records(cache_->path());
  for (const RunRecord& other : *others_) {
    for (const auto& [id, n] : other.nodes) {
      if (n.key == k && n.op == node(i).op) return &n;
    }
  }
  return nullptr;
}

// Phase "record": this run's nodes replace their entries of the last record; nodes this run did
// not finish keep theirs. A record that cannot be written costs explanations and cut-offs
// later, never this run's result: a warning.
void PipelineRun::write_record(const std::vector<Value>* values) {
  if (cache_ == nullptr || !writes_outside_tasks()) return;
  RunRecord record = previous_;
  record.pipeline = pipeline_file_of(spec_).string();
  std::erase_if(record.nodes, [&](const auto& entry) { return !index_.contains(entry.first); });
  for (std::size_t t = 0; t < targets_.size(); ++t) {
    const std::size_t i = targets_[t];
    if (values == nullptr || !writes(i)) continue;
    record.nodes.insert_or_assign(node(i).id, record_of(i, &(*values)[t]));
  }
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    const NodeOutcome outcome = result_.nodes[i].outcome;
    const bool finished = (outcome == NodeOutcome::kExecuted || outcome == NodeOutcome::kCached) &&
                          !tally_->failed(i);
    if (!finished || (values != nullptr && writes(i))) continue;
    const NodeTrace& trace = traces_[i];
    record.nodes.insert_or_assign(node(i).id,
                                  record_of(i, trace.written ? &*trace.written : nullptr));
  }
  const fs::path path = record_path(cache_->path(), pipeline_file_of(spec_));
  try {
    detail::write_record(path, record, executor_->options().durable_cache);
  } catch (const std::exception& e) {
    executor_->options().log(
        fmt::format("the run record {} was not written: {}", path.string(), e.what()));
  }
}

RecordedNode PipelineRun::record_of(std::size_t i, const Value* written) const {
  RecordedNode r{.op = node(i).op,
                 .version = op(i).version(),
                 .args = recorded_args(node(i).args),
                 .key = key(i)};
  for (std::size_t in : inputs_of(i)) r.inputs.emplace_back(node(in).id, key(in));
  const RecordedNode* before = recorded_with_key(i, r.key);
  const NodeTrace& trace = traces_[i];
  if (trace.ran) {
    r.input_hashes = trace.input_hashes;
    r.result = trace.result;
  } else if (before != nullptr) {  // served from the cache: what went into it is as recorded
    r.input_hashes = before->input_hashes;
    r.result = before->result;
  }
  if (!node(i).map.empty()) {
    r.blocks = tally_->blocks(i);
    if (r.blocks.empty() && before != nullptr) r.blocks = before->blocks;
    r.items = before != nullptr && !before->items.empty() ? before->items : items_of(i);
  }
  if (written != nullptr) {
    r.outputs = outputs_of(i, *written, r.blocks, before);
  } else if (before != nullptr) {
    r.outputs = before->outputs;
  }
  return r;
}

// The files a writer's result names, hashed (unchanged ones by size and mtime) and, unless its
// op opts out, their bytes kept in the cache to restore them.
// A map whose op keeps no bytes, with one block per item (`blocks` as many as its results), notes
// which block made each file.
std::vector<RecordedOutput> PipelineRun::outputs_of(std::size_t i, const Value& written,
                                                    const std::vector<Hash128>& blocks,
                                                    const RecordedNode* before) const {
  std::vector<std::pair<const PathValue*, std::optional<Hash128>>> paths;
  const bool by_block = !node(i).map.empty() && node(i).reduce.empty() &&
                        !op(i).keeps_file_bytes() && written.kind() == ValueKind::kList &&
                        !blocks.empty() && blocks.size() == written.as_list().size();
  for (std::size_t k = 0; k < (by_block ? blocks.size() : 1); ++k) {
    std::vector<const PathValue*> found;
    collect_paths(by_block ? written.as_list()[k] : written, found);
    for (const PathValue* p : found) {
      paths.emplace_back(p, by_block ? std::optional(blocks[k]) : std::nullopt);
    }
  }
  std::vector<RecordedOutput> outputs;
  for (const auto& [path, made_by] : paths) {
    const PathValue* p = path;  // a lambda below names it (it cannot capture a binding)
    const std::optional<Hash128>& block = made_by;
    const std::optional<FileStamp> stamp = stamp_of(p->resolved);
    if (!stamp) continue;  // removed since: nothing to track
    const auto same = [&](const RecordedOutput& o) {
      return o.path == p->resolved && o.size == stamp->size && o.mtime_ns == stamp->mtime_ns;
    };
    if (before != nullptr) {
      auto it = std::find_if(before->outputs.begin(), before->outputs.end(), same);
      if (it != before->outputs.end()) {
        outputs.push_back(*it);
        outputs.back().block = block;
        continue;
      }
    }
    std::string bytes;
    try {
      bytes = util::read_regular_file(p->resolved);
    } catch (const util::ReadFileError&) {
      continue;
    }
    RecordedOutput o{.path = p->resolved,
                     .shown = p->shown,
                     .hash = bytes_hash(bytes),
                     .size = stamp->size,
                     .mtime_ns = stamp->mtime_ns,
                     .block = block};
    if (op(i).keeps_file_bytes()) {
      const Hash128 kept = kept_bytes_key(o.hash);
      if (cache_->contains(kept) || cache_->store(kept, bytes)) o.bytes_key = kept;
    }
    outputs.push_back(std::move(o));
  }
  return outputs;
}

void PipelineRun::count() {
  for (const NodeRunInfo& n : result_.nodes) {
    if (n.outcome == NodeOutcome::kExecuted) ++result_.stats.executed;
    if (n.outcome == NodeOutcome::kCached) ++result_.stats.cache_hits;
    if (n.outcome == NodeOutcome::kFailed) ++result_.stats.failed;
    if (n.outcome == NodeOutcome::kNotRun) ++result_.stats.not_run;
    result_.stats.items_executed += n.items_executed;
    result_.stats.items_cached += n.items_cached;
  }
  result_.stats.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
}

}  // namespace

fs::path pipeline_file_of(const PipelineSpec& spec) {
  return pipeline_record_name(spec.base_dir / fs::path(spec.file).filename());
}

PipelineResult execute_pipeline(const PipelineSpec& spec, const OpRegistry& ops,
                                const LoadOptions& load, ExecutorOptions options,
                                const RunRequest& request, bool dry) {
  return PipelineRun(spec, ops, load, std::move(options), request, dry).go();
}

}  // namespace dagflow::detail
