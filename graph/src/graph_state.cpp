#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/detail/op_identity.hpp>
#include <dagflow/graph/errors.hpp>

namespace dagflow::detail {

namespace {
constexpr std::size_t kArenaBlockBytes = std::size_t{64} * 1024;
}  // namespace

void* PayloadArena::allocate(std::size_t size, std::size_t align) {
  auto fits = [&] {
    const auto addr = reinterpret_cast<std::uintptr_t>(cursor_);
    const std::size_t pad = (align - addr % align) % align;
    return cursor_ != nullptr && pad + size <= left_ ? pad : SIZE_MAX;
  };
  std::size_t pad = fits();
  if (pad == SIZE_MAX) {
    const std::size_t bytes = std::max(kArenaBlockBytes, size + align);
    blocks_.push_back(std::make_unique_for_overwrite<std::byte[]>(bytes));
    cursor_ = blocks_.back().get();
    left_ = bytes;
    pad = fits();
  }
  std::byte* where = cursor_ + pad;
  cursor_ = where + size;
  left_ -= pad + size;
  return where;
}

namespace {
std::atomic<std::uint64_t> g_next_serial{1};
}  // namespace

GraphState::GraphState() : serial_(g_next_serial.fetch_add(1, std::memory_order_relaxed)) {}

GraphState::~GraphState() {
  for (auto& [owner, listener] : listeners_) {
    if (const std::shared_ptr<void> alive = owner.lock()) listener(alive.get(), serial_);
  }
  for (NodeRecord& n : nodes_) {
    if (n.vtable->destroy != nullptr) n.vtable->destroy(n.payload);
  }
}

NodeId GraphState::commit_node(const TaskVTable* vtable, void* payload, std::uint32_t op_name) {
  if (nodes_.size() >= UINT32_MAX - 1) {
    abandon_node();
    throw std::length_error("dagflow graph is full (2^32 - 1 tasks)");
  }
  const auto edge_begin = static_cast<std::uint32_t>(committed_edges_);
  const auto edge_count = static_cast<std::uint32_t>(edges_.size() - committed_edges_);
  NodeFlags flags = op_name == kNoOp || !vtable->keyable ? NodeFlags::kUnkeyed : NodeFlags::kNone;
  if (!vtable->result_copyable) flags |= NodeFlags::kMoveOnlyResult;
  if (vtable->returns_void) flags = NodeFlags::kImpure | NodeFlags::kImpureUpstream;
  for (std::size_t e = committed_edges_; e < edges_.size(); ++e) {
    const NodeFlags dependency = nodes_[edges_[e]].flags;
    if (has_flag(dependency, NodeFlags::kImpureUpstream)) flags |= NodeFlags::kImpureUpstream;
    if (has_flag(dependency, NodeFlags::kUnkeyed)) flags |= NodeFlags::kUnkeyed;
    if (has_flag(dependency, NodeFlags::kMoveOnlyResult) &&
        vtable->takes_by_value(payload, static_cast<std::uint32_t>(e - committed_edges_))) {
      flags |= NodeFlags::kTakesMoveOnly;
    }
  }
  if (!ord_.empty()) {  // ranked: a new task comes after every existing one
    ord_.push_back(max_ord_ += kOrdSpacing);
  }
  nodes_.push_back(NodeRecord{vtable, payload, edge_begin, edge_count, op_name, flags});
  committed_edges_ = edges_.size();
  return static_cast<NodeId>(nodes_.size() - 1);
}

namespace {
// Process-wide: which callable each (name, version) stands for.
std::mutex g_ops_mutex;
std::unordered_map<std::string, OpIdentity> g_ops;
}  // namespace

std::uint32_t GraphState::intern_op(std::string_view name, std::uint32_t version,
                                    OpIdentity identity) {
  std::string key = fmt::format("{}:{}", version, name);
  {
    std::lock_guard lock(g_ops_mutex);
    auto [it, inserted] = g_ops.try_emplace(key, identity);
    if (!inserted && !(it->second == identity)) {
      throw std::invalid_argument(fmt::format(
          "op '{}' version {} already stands for a different function or callable type in this "
          "process: give this one another name, or bump its version",
          name, version));
    }
  }
  if (auto it = op_index_.find(key); it != op_index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(ops_.size());
  ops_.push_back(OpEntry{std::string(name), version});
  op_index_.emplace(std::move(key), index);
  return index;
}

std::string_view GraphState::op_name(NodeId id) const {
  const std::uint32_t index = nodes_.at(id).op_name;
  return index == kNoOp ? std::string_view{} : std::string_view{ops_[index].name};
}

std::uint32_t GraphState::op_version(NodeId id) const {
  const std::uint32_t index = nodes_.at(id).op_name;
  return index == kNoOp ? 0 : ops_[index].version;
}

void GraphState::set_label(NodeId id, std::string label) {
  if (id >= nodes_.size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  labels_[id] = std::move(label);
}

void GraphState::on_destroy(const std::shared_ptr<void>& owner,
                            void (*listener)(void*, std::uint64_t)) {
  const std::lock_guard lock(listeners_mutex_);
  std::erase_if(listeners_, [](const auto& l) { return l.first.expired(); });
  listeners_.emplace_back(owner, listener);
}

std::string GraphState::label(NodeId id) const {
  if (auto it = labels_.find(id); it != labels_.end()) return it->second;
  if (std::string_view op = op_name(id); !op.empty()) return std::string(op);
  return fmt::format("task#{}", id);
}

void GraphState::set_impure(NodeId id) {
  if (id >= nodes_.size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  nodes_[id].flags |= NodeFlags::kImpure | NodeFlags::kImpureUpstream;
  propagate_impurity(id);
}

void GraphState::set_refresh(NodeId id, bool parts_too) {
  if (id >= nodes_.size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  nodes_[id].flags |= NodeFlags::kRefresh;
  if (parts_too) nodes_[id].flags |= NodeFlags::kRefreshParts;
}

void GraphState::set_options(NodeId id, TaskOptions options) {
  if (id >= nodes_.size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  for (const auto& [name, units] : options.resources) {
    if (name.empty()) throw std::invalid_argument("a task's resource needs a name");
  }
  NodeRecord& node = nodes_[id];
  if (options == TaskOptions{}) {
    options_.erase(id);
    node.flags = static_cast<NodeFlags>(static_cast<std::uint16_t>(node.flags) &
                                        ~static_cast<std::uint16_t>(NodeFlags::kHasOptions));
    return;
  }
  options_.insert_or_assign(id, std::move(options));
  node.flags |= NodeFlags::kHasOptions;
}

void GraphState::set_fusion(NodeId id, const FusionVTable* fusion) {
  nodes_.at(id).flags |= NodeFlags::kFusion;
  fusion_.insert_or_assign(id, fusion);
}

// Carries kImpureUpstream from `from` to everything downstream of it, in one sweep over the
// tasks ranked after it (dependants always rank after their dependencies).
void GraphState::propagate_impurity(NodeId from) {
  std::vector<NodeId> later;
  if (ord_.empty()) {
    later.resize(nodes_.size() - from - 1);
    std::iota(later.begin(), later.end(), from + 1);
  } else {
    for (NodeId i = 0; i < nodes_.size(); ++i) {
      if (ord_[i] > ord_[from]) later.push_back(i);
    }
    std::sort(later.begin(), later.end(), [&](NodeId a, NodeId b) { return ord_[a] < ord_[b]; });
  }
  for (const NodeId i : later) {
    NodeRecord& n = nodes_[i];
    for (std::uint32_t e = 0; e < n.edge_count; ++e) {
      if (has_flag(nodes_[edges_[n.edge_begin + e]].flags, NodeFlags::kImpureUpstream)) {
        n.flags |= NodeFlags::kImpureUpstream;
        break;
      }
    }
  }
}

void GraphState::add_order_edges(NodeId task, std::span<const NodeId> deps) {
  for (const NodeId dep : deps) check_no_cycle(dep, task);  // all or nothing
  for (const NodeId dep : deps) rank_before(dep, task, deps);
  NodeRecord& n = nodes_[task];
  auto [info, first] = order_info_.try_emplace(task, OrderInfo{n.edge_count, n.edge_count});
  n.flags |= NodeFlags::kHasOrderEdges;
  const auto added = static_cast<std::uint32_t>(deps.size());
  if (n.edge_count + added > info->second.capacity) grow_edges(n, info->second, added);
  bool impure = false;
  for (const NodeId dep : deps) {
    edges_[std::size_t{n.edge_begin} + n.edge_count++] = dep;
    impure = impure || has_flag(nodes_[dep].flags, NodeFlags::kImpureUpstream);
  }
  if (impure && !has_flag(n.flags, NodeFlags::kImpureUpstream)) {
    n.flags |= NodeFlags::kImpureUpstream;
    propagate_impurity(task);
  }
}

// A new edge dep -> task closes a cycle exactly when dep already depends on task. Only tasks
// ranked between them can lie on such a path, so the search never leaves that band.
void GraphState::check_no_cycle(NodeId dep, NodeId task) {
  const auto refuse = [&] {
    throw GraphError(fmt::format(
        "task '{}' cannot run after '{}': that would close a cycle ('{}' already depends on it)",
        label(task), label(dep), label(dep)));
  };
  if (dep == task) refuse();
  if (ord(dep) < ord(task)) return;
  std::vector<NodeId> stack{dep};
  std::unordered_set<NodeId> seen{dep};
  while (!stack.empty()) {
    const NodeRecord& n = nodes_[stack.back()];
    stack.pop_back();
    for (std::uint32_t e = 0; e < n.edge_count; ++e) {
      const NodeId up = edges_[n.edge_begin + e];
      if (up == task) refuse();
      if (ord(up) > ord(task) && seen.insert(up).second) stack.push_back(up);
    }
  }
}

// Gives `dep` and its ancestors ranked at or after `task` new ranks below task's, keeping their
// own order. Edges into that set come from tasks ranked below task (else they would be in the
// set), and edges out of it only point to higher ranks, so every edge stays ordered. The new
// ranks are the lowest free ones above the set's highest outside dependency (below every rank
// when it has none): a chain built against creation order then climbs one rank per edge from
// the bottom and never meets the tasks still to be linked, so each edge moves one task.
void GraphState::rank_before(NodeId dep, NodeId task, std::span<const NodeId> pending) {
  if (ord(dep) < ord(task)) return;
  if (ord_.empty()) {
    ord_.resize(nodes_.size());
    for (NodeId i = 0; i < nodes_.size(); ++i) ord_[i] = static_cast<std::int64_t>(i) * kOrdSpacing;
    min_ord_ = 0;
    max_ord_ = ord_.back();
  }
  const std::int64_t bound = ord_[task];
  std::vector<NodeId> moving{dep};
  std::unordered_set<NodeId> in_set{dep};
  std::int64_t floor = INT64_MIN;  // the highest rank of a dependency outside the set
  for (std::size_t i = 0; i < moving.size(); ++i) {
    const NodeRecord& n = nodes_[moving[i]];
    for (std::uint32_t e = 0; e < n.edge_count; ++e) {
      const NodeId up = edges_[n.edge_begin + e];
      if (ord_[up] < bound) {
        floor = std::max(floor, ord_[up]);
      } else if (in_set.insert(up).second) {
        moving.push_back(up);
      }
    }
  }
  std::sort(moving.begin(), moving.end(), [&](NodeId a, NodeId b) { return ord_[a] < ord_[b]; });
  const auto count = static_cast<std::int64_t>(moving.size());
  if (floor == INT64_MIN) floor = std::min(min_ord_, bound) - count - 1;
  if (floor + count >= bound) return rerank(task, pending);
  for (std::size_t k = 0; k < moving.size(); ++k) {
    ord_[moving[k]] = floor + 1 + static_cast<std::int64_t>(k);
  }
  min_ord_ = std::min(min_ord_, floor + 1);
}

// No room between two ranks: ranks every task afresh, in a depth-first order of dependencies
// that also counts the edges from `pending` to `task` being added.
void GraphState::rerank(NodeId task, std::span<const NodeId> pending) {
  std::vector<std::uint8_t> state(nodes_.size(), 0);  // 0 new, 1 on the stack, 2 ranked
  std::int64_t next = 0;
  std::vector<std::pair<NodeId, std::uint32_t>> stack;  // (task, next edge to follow)
  for (NodeId root = 0; root < nodes_.size(); ++root) {
    if (state[root] != 0) continue;
    stack.emplace_back(root, 0);
    state[root] = 1;
    while (!stack.empty()) {
      auto& [id, e] = stack.back();
      const NodeRecord& n = nodes_[id];
      const auto count =
          n.edge_count + (id == task ? static_cast<std::uint32_t>(pending.size()) : 0U);
      if (e == count) {
        ord_[id] = next += kOrdSpacing;
        state[id] = 2;
        stack.pop_back();
        continue;
      }
      const NodeId up = e < n.edge_count ? edges_[n.edge_begin + e] : pending[e - n.edge_count];
      ++e;
      if (state[up] == 0) {
        state[up] = 1;
        stack.emplace_back(up, 0);
      }
    }
  }
  min_ord_ = kOrdSpacing;
  max_ord_ = next;
}

// A node's edges are contiguous. To make room for `added` more, they move to the end of the
// array with twice the room they need (so a task given many ordering edges one call at a time
// moves O(log n) times); the array is rebuilt once dead copies outnumber the live edges.
void GraphState::grow_edges(NodeRecord& n, OrderInfo& info, std::uint32_t added) {
  const std::uint32_t needed = n.edge_count + added;
  if (std::size_t{n.edge_begin} + info.capacity == edges_.size()) {  // last: grow in place
    edges_.resize(std::size_t{n.edge_begin} + std::size_t{needed} * 2, kNoNode);
  } else {
    const auto begin = static_cast<std::uint32_t>(edges_.size());
    edges_.resize(edges_.size() + std::size_t{needed} * 2, kNoNode);
    std::copy_n(edges_.begin() + n.edge_begin, n.edge_count, edges_.begin() + begin);
    dead_edges_ += info.capacity;
    n.edge_begin = begin;
  }
  info.capacity = needed * 2;
  committed_edges_ = edges_.size();
  if (dead_edges_ > edges_.size() / 2) compact_edges();
}

// Rebuilds the edge array without dead copies and spare room.
void GraphState::compact_edges() {
  std::vector<NodeId> live;
  live.reserve(edges_.size() - dead_edges_);
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    NodeRecord& n = nodes_[id];
    const auto begin = static_cast<std::uint32_t>(live.size());
    auto info = order_info_.find(id);
    const std::uint32_t room = info == order_info_.end() ? n.edge_count : info->second.capacity;
    live.insert(live.end(), edges_.begin() + n.edge_begin, edges_.begin() + n.edge_begin + room);
    n.edge_begin = begin;
  }
  edges_ = std::move(live);
  committed_edges_ = edges_.size();
  dead_edges_ = 0;
}

}  // namespace dagflow::detail
