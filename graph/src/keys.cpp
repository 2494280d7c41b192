#include <cstdint>

#include <dagflow/graph/keys.hpp>
#include <dagflow/graph/traversal.hpp>

namespace dagflow {

namespace detail {

namespace {
// Bump when the way keys are computed changes: old cache entries then stop matching.
constexpr std::string_view kKeyFormat = "dagflow-task-key-1";
}  // namespace

std::vector<std::optional<Hash128>> task_keys(const GraphState& graph,
                                              std::span<const NodeId> order,
                                              const std::uint32_t* local_of) {
  std::vector<std::optional<Hash128>> keys(order.size());
  for (std::size_t v = 0; v < order.size(); ++v) {
    const NodeId id = order[v];
    const NodeRecord& node = graph.node(id);
    if (has_flag(node.flags, NodeFlags::kImpureUpstream | NodeFlags::kUnkeyed)) continue;
    Hasher h;
    h.add(kKeyFormat).add(graph.op_name(id)).add(graph.op_version(id));
    if (!node.vtable->hash_literals(node.payload, h)) continue;
    const NodeId* edges = graph.edges(node);
    // Ordering-only edges do not key a task: they pass nothing, and an impure one has already
    // made the task unkeyed (kImpureUpstream).
    const std::uint32_t reads = graph.argument_edge_count(id);
    h.add(std::uint64_t{reads});
    bool stable = true;
    for (std::uint32_t e = 0; e < reads && stable; ++e) {
      const std::optional<Hash128>& dep = keys[local_of[edges[e]]];
      stable = dep.has_value();
      if (stable) h.add(dep->low).add(dep->high);
    }
    if (stable) keys[v] = h.digest();
  }
  return keys;
}

}  // namespace detail

std::vector<std::optional<Hash128>> task_keys(const Graph& graph) {
  const std::vector<NodeId> order = topological_order(graph);
  std::vector<std::uint32_t> local_of(order.size());
  for (std::uint32_t v = 0; v < order.size(); ++v) local_of[order[v]] = v;
  std::vector<std::optional<Hash128>> by_position =
      detail::task_keys(*detail::state_of(graph), order, local_of.data());
  std::vector<std::optional<Hash128>> by_id(order.size());
  for (std::uint32_t v = 0; v < order.size(); ++v) by_id[order[v]] = by_position[v];
  return by_id;
}

}  // namespace dagflow
