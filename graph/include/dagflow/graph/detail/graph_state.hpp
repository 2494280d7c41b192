// GraphState: the storage behind a Graph (nodes, edges, task payloads, labels). Not API.
//
// Not thread-safe while tasks are added; once built, any number of runs may read it at once.
// Node ids are handed out in creation order and an argument can only name a task that already
// exists, so until Graph::after orders a task after a younger one, id order is a topological
// order. From then on each node carries a rank (`ord`) that is kept topological as edges are
// added, and an edge that would close a cycle is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include <dagflow/graph/detail/result_slot.hpp>
#include <dagflow/graph/task_options.hpp>
#include <dagflow/graph/types.hpp>

namespace dagflow {
class Hasher;
struct Hash128;
}  // namespace dagflow

namespace dagflow::detail {

struct OpIdentity;

/// What a task body reads its dependencies from: its own edges, mapped to the run's slots.
struct TaskInputs {
  const NodeId* edges;            // this node's dependency ids, in argument order
  ResultSlot* slots;              // the run's result slots, by local index
  const std::uint32_t* local_of;  // node id -> local index in the run

  [[nodiscard]] ResultSlot& dependency(std::size_t k) const { return slots[local_of[edges[k]]]; }
};

inline constexpr std::size_t kNotRetainable = SIZE_MAX;

/// A new result whose elements are still to be written (ArrayTransfer::make).
struct NewArray {
  std::shared_ptr<void> value;  // the result (null when the size fits no whole element count)
  std::span<std::byte> bytes;   // its elements, to be written
};

/// How a run across ranks moves a result that is one array of numbers (a std::vector of an
/// arithmetic type) without serialising it: its elements' bytes are sent as they lie in memory,
/// and received straight into a new vector.
struct ArrayTransfer {
  /// The elements of a value of this type, as bytes.
  std::span<const std::byte> (*bytes)(const void* value);
  /// A value of `size` bytes' worth of elements.
  NewArray (*make)(std::size_t size);
  /// Moves `*value` (made by make) into `out`, which then owns it.
  void (*move_into)(void* value, ResultSlot& out);
};

/// Type-erased operations of one kind of task payload (one per callable and argument types).
struct TaskVTable {
  void (*invoke)(const void* payload, const TaskInputs& inputs, ResultSlot& out);
  void (*destroy)(void* payload) noexcept;  // null when the payload is trivially destructible
  /// Bytes of the produced value (ValueSize), or kNotRetainable when its type cannot be sized or
  /// copied: such results are never kept by the memory cache.
  std::size_t (*retained_bytes)(const void* value);
  /// The produced value as the memory cache keeps it (see ResultSlot::keep).
  KeptValue (*keep)(ResultSlot& out);
  /// Adds the task's literal arguments (and any callable state that changes results) to `h`;
  /// false when one of them is not Hashable: the task then has no content key.
  bool (*hash_literals)(const void* payload, Hasher& h);
  /// Appends the produced value's bytes (Serializable) to `out`; false when its type cannot be
  /// serialised: such results are never written to disk.
  bool (*save)(const ResultSlot& out, std::string& bytes);
  /// A value loaded from bytes written by save, as the memory cache keeps it; throws
  /// dagflow::Error on malformed bytes, returns an empty one for a type that cannot be serialised.
  KeptValue (*load)(std::string_view bytes);
  /// type_fingerprint<T>() of the produced type.
  std::uint64_t (*fingerprint)();
  /// False when the task can never have a content key: a literal argument is not Hashable, or
  /// the callable has state it cannot hash (see hash_callable_state).
  bool keyable;
  /// False when the produced type cannot be copied: only one reader may take it by value.
  bool result_copyable;
  /// Whether the task takes the dependency on its edge `edge` by value (moved or copied out of
  /// the producer's slot) rather than by const&.
  bool (*takes_by_value)(const void* payload, std::uint32_t edge);
  /// The callable returns void: a side-effect step, so the task is impure (it runs on every
  /// compute()) and its slot holds no value.
  bool returns_void;
  /// The memory cache keeps the produced value inside its table (KeptValue::fits_inline).
  bool keeps_inline;
  /// save and load work (a Serializable, copyable type), or the task returns void: its result
  /// can be sent to another rank (see ExecutorOptions::cluster).
  bool transferable;
  /// Stores the value saved in `bytes` into `out`, owned by the slot (so that its last reader
  /// can move it out, unlike a KeptValue shared with a cache). Throws dagflow::Error on
  /// malformed bytes, or for a type that is not transferable.
  void (*load_into)(std::string_view bytes, ResultSlot& out);
  /// For a result that is an array of numbers: how it crosses ranks without serialising; null
  /// for any other type.
  const ArrayTransfer* array;
};

/// Items of a map computed on demand for the task that reads them, instead of stored in the map's
/// result (map fusion, ExecutorOptions::fuse_maps). The engine derives its typed sources from it.
class FusedSource {
 public:
  FusedSource() = default;
  FusedSource(const FusedSource&) = delete;
  FusedSource& operator=(const FusedSource&) = delete;
  virtual ~FusedSource() = default;
};

/// How a map, reduce or map_reduce task takes part in map fusion: a map can stand in for its
/// result vector as a FusedSource of its items; a task whose first argument is such a result can
/// read its items from that source instead. One static table per task type (like TaskVTable).
struct FusionVTable {
  /// The type of the items a map produces (one per input item); null when the task is no map.
  const std::type_info* produces;
  /// The map as a source of its items, reading its own arguments through `inputs`, or its items
  /// from `upstream` when the map before it is fused too. `identity` (its op's name and version,
  /// hashed) is null when the task has no content key: the source then gives no block keys.
  std::unique_ptr<FusedSource> (*open)(const void* payload, const TaskInputs& inputs,
                                       std::unique_ptr<FusedSource> upstream,
                                       const Hash128* identity);
  /// The type of the items the task reads from its first argument; null when it cannot read
  /// them from a source.
  const std::type_info* consumes;
  /// Runs the task with its first argument's items taken from `items` (made by the producing
  /// map's `open`), its other arguments from `inputs`.
  void (*invoke_fused)(const void* payload, const TaskInputs& inputs, const FusedSource& items,
                       ResultSlot& out);
};

/// The bits of NodeRecord::flags. Combine with |, test with has_flag.
enum class NodeFlags : std::uint16_t {
  kNone = 0,
  /// Marked with set_impure: the task runs on every compute() and is never cached.
  kImpure = 1U << 0U,
  /// Impure itself or through a dependency: a result kept under the task's identity could go
  /// stale, so neither cache keeps it.
  kImpureUpstream = 1U << 1U,
  /// No content key, itself or through a dependency, for a reason known when it was added: an
  /// anonymous callable, an unhashable literal or callable state (see TaskVTable::keyable).
  /// Impure tasks are not marked: having no key is their nature, not something to fix.
  kUnkeyed = 1U << 2U,
  /// Its result type cannot be copied (TaskVTable::result_copyable).
  kMoveOnlyResult = 1U << 3U,
  /// Takes a kMoveOnlyResult dependency by value: a run checks that it is that result's only
  /// reader before anything runs.
  kTakesMoveOnly = 1U << 4U,
  /// Has ordering-only dependencies (Graph::after) after its argument edges.
  kHasOrderEdges = 1U << 5U,
  /// Marked with set_refresh: never taken from a cache, still keyed and stored.
  kRefresh = 1U << 6U,
  /// Marked with set_refresh(parts_too): what it looks up while it runs is recomputed too.
  kRefreshParts = 1U << 7U,
  /// Has TaskOptions other than the defaults (Graph::set_options).
  kHasOptions = 1U << 8U,
  /// A map or reduce: in a run across ranks, every rank runs it on its share of the blocks.
  kSplitsAcrossRanks = 1U << 9U,
  /// Has a FusionVTable (GraphState::fusion).
  kFusion = 1U << 10U,
};

[[nodiscard]] constexpr NodeFlags operator|(NodeFlags a, NodeFlags b) noexcept {
  return static_cast<NodeFlags>(static_cast<std::uint16_t>(a) | static_cast<std::uint16_t>(b));
}
constexpr NodeFlags& operator|=(NodeFlags& a, NodeFlags b) noexcept { return a = a | b; }
/// True when `flags` has any bit of `bits` set.
[[nodiscard]] constexpr bool has_flag(NodeFlags flags, NodeFlags bits) noexcept {
  return (static_cast<std::uint16_t>(flags) & static_cast<std::uint16_t>(bits)) != 0;
}

struct NodeRecord {
  const TaskVTable* vtable;
  void* payload;
  std::uint32_t edge_begin;
  std::uint32_t edge_count;  // argument edges, then ordering-only edges (kHasOrderEdges)
  std::uint32_t op_name;     // index of the op (name and version), kNoOp for anonymous tasks
  NodeFlags flags;
};

inline constexpr std::uint32_t kNoOp = UINT32_MAX;

/// Bump allocator for task payloads: one heap block per 64 KiB of payloads, not one per task.
class PayloadArena {
 public:
  void* allocate(std::size_t size, std::size_t align);

 private:
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::byte* cursor_ = nullptr;
  std::size_t left_ = 0;
};

class GraphState {
 public:
  GraphState();
  GraphState(const GraphState&) = delete;
  GraphState& operator=(const GraphState&) = delete;
  ~GraphState();

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  /// Unique for the process's lifetime (never reused, unlike an address): the memory cache's
  /// key for this graph.
  [[nodiscard]] std::uint64_t serial() const noexcept { return serial_; }
  [[nodiscard]] const NodeRecord& node(NodeId id) const noexcept { return nodes_[id]; }
  [[nodiscard]] const NodeId* edges(const NodeRecord& n) const noexcept {
    return edges_.data() + n.edge_begin;
  }
  /// The node's argument edges (what its body reads); the rest of its edges only order it.
  [[nodiscard]] std::uint32_t argument_edge_count(NodeId id) const {
    const NodeRecord& n = nodes_[id];
    return has_flag(n.flags, NodeFlags::kHasOrderEdges) ? order_info_.at(id).argument_edges
                                                        : n.edge_count;
  }
  /// True while every edge points from an older task to a younger one (no Graph::after against
  /// creation order): ascending ids are then a topological order.
  [[nodiscard]] bool ids_topological() const noexcept { return ord_.empty(); }
  /// A rank that is smaller for every dependency than for its dependants (ids, times a spacing,
  /// while ids_topological()).
  [[nodiscard]] std::int64_t ord(NodeId id) const noexcept {
    return ord_.empty() ? static_cast<std::int64_t>(id) * kOrdSpacing : ord_[id];
  }

  void* allocate_payload(std::size_t size, std::size_t align) {
    return arena_.allocate(size, align);
  }
  /// Edges of the node being added; commit_node() closes them.
  void push_edge(NodeId dependency) { edges_.push_back(dependency); }
  /// Appends a node whose edges are those pushed since the last commit. Throws std::length_error
  /// past 2^32 - 1 nodes.
  NodeId commit_node(const TaskVTable* vtable, void* payload, std::uint32_t op_name);
  /// Drops edges pushed since the last commit (a node that failed to build).
  void abandon_node() noexcept { edges_.resize(committed_edges_); }

  /// Interns an op (name and version); the index goes into NodeRecord::op_name. Throws
  /// std::invalid_argument if this name and version already stand for another callable in this
  /// process.
  std::uint32_t intern_op(std::string_view name, std::uint32_t version, OpIdentity identity);
  [[nodiscard]] std::string_view op_name(NodeId id) const;
  [[nodiscard]] std::uint32_t op_version(NodeId id) const;

  void set_label(NodeId id, std::string label);
  /// Marks a task impure (and, through NodeFlags::kImpureUpstream, everything downstream of it).
  void set_impure(NodeId id);
  /// Marks a task to be computed afresh (NodeFlags::kRefresh, and kRefreshParts).
  void set_refresh(NodeId id, bool parts_too);
  /// Sets a task's options (NodeFlags::kHasOptions unless they are the defaults).
  void set_options(NodeId id, TaskOptions options);
  /// Marks a map or reduce task (NodeFlags::kSplitsAcrossRanks).
  void set_splits_across_ranks(NodeId id) { nodes_.at(id).flags |= NodeFlags::kSplitsAcrossRanks; }
  /// Gives a map, reduce or map_reduce task its part in map fusion (NodeFlags::kFusion).
  void set_fusion(NodeId id, const FusionVTable* fusion);
  /// True once some task has a FusionVTable (a run without one has nothing to fuse).
  [[nodiscard]] bool has_fusion() const noexcept { return !fusion_.empty(); }
  /// A task's FusionVTable, or null.
  [[nodiscard]] const FusionVTable* fusion(NodeId id) const noexcept {
    return has_flag(nodes_[id].flags, NodeFlags::kFusion) ? fusion_.find(id)->second : nullptr;
  }
  /// A task's options, or null for the defaults.
  [[nodiscard]] const TaskOptions* options(NodeId id) const noexcept {
    return has_flag(nodes_[id].flags, NodeFlags::kHasOptions) ? &options_.find(id)->second
                                                              : nullptr;
  }
  /// Calls `listener(owner, serial())` when this graph is destroyed, if `owner` still exists then
  /// (how a cache drops what it keeps for a graph at once). Thread-safe.
  void on_destroy(const std::shared_ptr<void>& owner, void (*listener)(void*, std::uint64_t));

  /// Makes `task` wait for `deps` without reading them. Throws GraphError, with nothing changed,
  /// when an edge would close a cycle.
  void add_order_edges(NodeId task, std::span<const NodeId> deps);
  /// The user's label, else the op name, else "task#<id>".
  [[nodiscard]] std::string label(NodeId id) const;

 private:
  static constexpr std::int64_t kOrdSpacing = std::int64_t{1} << 20;

  void check_no_cycle(NodeId dep, NodeId task);
  void rank_before(NodeId dep, NodeId task, std::span<const NodeId> pending);
  void rerank(NodeId task, std::span<const NodeId> pending);
  struct OrderInfo {
    std::uint32_t argument_edges;  // the first edges; the rest only order the task
    std::uint32_t capacity;        // room for edges at edge_begin (the spare tail is unused)
  };
  void grow_edges(NodeRecord& n, OrderInfo& info, std::uint32_t added);
  void compact_edges();
  void propagate_impurity(NodeId from);

  std::uint64_t serial_;
  std::vector<NodeRecord> nodes_;
  std::vector<NodeId> edges_;
  std::size_t committed_edges_ = 0;
  std::size_t dead_edges_ = 0;     // copies left behind when a node's edges moved to the end
  std::vector<std::int64_t> ord_;  // empty while ids_topological()
  std::int64_t min_ord_ = 0;
  std::int64_t max_ord_ = 0;
  std::unordered_map<NodeId, OrderInfo> order_info_;  // for kHasOrderEdges tasks
  std::mutex listeners_mutex_;
  std::vector<std::pair<std::weak_ptr<void>, void (*)(void*, std::uint64_t)>> listeners_;
  PayloadArena arena_;
  struct OpEntry {
    std::string name;
    std::uint32_t version;
  };
  std::vector<OpEntry> ops_;
  std::unordered_map<std::string, std::uint32_t> op_index_;  // by "<version>:<name>"
  std::unordered_map<NodeId, std::string> labels_;           // sparse: most tasks have none
  std::unordered_map<NodeId, TaskOptions> options_;          // sparse, like labels_
  std::unordered_map<NodeId, const FusionVTable*> fusion_;   // maps and reduces
};

}  // namespace dagflow::detail
