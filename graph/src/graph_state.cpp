#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/detail/op_identity.hpp>

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
  for (std::size_t e = committed_edges_; e < edges_.size(); ++e) {
    const NodeFlags dependency = nodes_[edges_[e]].flags;
    if (has_flag(dependency, NodeFlags::kImpureUpstream)) flags |= NodeFlags::kImpureUpstream;
    if (has_flag(dependency, NodeFlags::kUnkeyed)) flags |= NodeFlags::kUnkeyed;
    if (has_flag(dependency, NodeFlags::kMoveOnlyResult) &&
        vtable->takes_by_value(payload, static_cast<std::uint32_t>(e - committed_edges_))) {
      flags |= NodeFlags::kTakesMoveOnly;
    }
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

void GraphState::set_impure(NodeId id) {
  if (id >= nodes_.size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  nodes_[id].flags |= NodeFlags::kImpure | NodeFlags::kImpureUpstream;
  // Consumers are always younger: one forward sweep carries the flag downstream.
  for (std::size_t i = std::size_t{id} + 1; i < nodes_.size(); ++i) {
    NodeRecord& n = nodes_[i];
    for (std::uint32_t e = 0; e < n.edge_count; ++e) {
      if (has_flag(nodes_[edges_[n.edge_begin + e]].flags, NodeFlags::kImpureUpstream)) {
        n.flags |= NodeFlags::kImpureUpstream;
        break;
      }
    }
  }
}

std::string GraphState::label(NodeId id) const {
  if (auto it = labels_.find(id); it != labels_.end()) return it->second;
  if (std::string_view op = op_name(id); !op.empty()) return std::string(op);
  return fmt::format("task#{}", id);
}

}  // namespace dagflow::detail
