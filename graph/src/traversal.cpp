#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <dagflow/graph/traversal.hpp>

namespace dagflow {

namespace detail {

namespace {

// Ids are a topological order (a task only depends on older ones), so one downward sweep marks
// everything the targets need, with no stack and no queue.
std::vector<NodeId> needed_by_sweep(const GraphState& graph, std::span<const NodeId> targets,
                                    NodeId highest, bool (*available)(void*, NodeId),
                                    void* context) {
  std::vector<std::uint8_t> needed(std::size_t{highest} + 1, 0);
  for (NodeId t : targets) needed[t] = 1;
  std::size_t count = 0;
  for (std::size_t i = needed.size(); i-- > 0;) {
    if (needed[i] == 0) continue;
    ++count;
    if (available != nullptr && available(context, static_cast<NodeId>(i))) continue;
    const NodeRecord& n = graph.node(static_cast<NodeId>(i));
    const NodeId* edges = graph.edges(n);
    for (std::uint32_t e = 0; e < n.edge_count; ++e) needed[edges[e]] = 1;
  }
  std::vector<NodeId> order;
  order.reserve(count);
  for (std::size_t i = 0; i < needed.size(); ++i) {
    if (needed[i] != 0) order.push_back(static_cast<NodeId>(i));
  }
  return order;
}

// Ordering edges point to younger tasks too: a depth-first walk from the targets lists each
// needed task after its dependencies (post-order), without recursion.
std::vector<NodeId> needed_by_walk(const GraphState& graph, std::span<const NodeId> targets,
                                   bool (*available)(void*, NodeId), void* context) {
  enum : std::uint8_t { kNew, kOpen, kDone };
  std::vector<std::uint8_t> state(graph.size(), kNew);
  std::vector<NodeId> order;
  std::vector<std::pair<NodeId, std::uint32_t>> stack;  // (task, edges followed so far)
  for (const NodeId root : targets) {
    if (state[root] != kNew) continue;
    state[root] = kOpen;
    const bool at_hand = available != nullptr && available(context, root);
    stack.emplace_back(root, at_hand ? UINT32_MAX : 0);
    while (!stack.empty()) {
      auto& [id, e] = stack.back();
      const NodeRecord& n = graph.node(id);
      if (e == UINT32_MAX || e == n.edge_count) {
        state[id] = kDone;
        order.push_back(id);
        stack.pop_back();
        continue;
      }
      const NodeId up = graph.edges(n)[e++];
      if (state[up] != kNew) continue;
      state[up] = kOpen;
      const bool up_at_hand = available != nullptr && available(context, up);
      stack.emplace_back(up, up_at_hand ? UINT32_MAX : 0);
    }
  }
  return order;
}

}  // namespace

std::vector<NodeId> needed_tasks(const GraphState& graph, std::span<const NodeId> targets,
                                 bool (*available)(void* context, NodeId id), void* context) {
  if (targets.empty()) return {};
  const NodeId highest = *std::max_element(targets.begin(), targets.end());
  if (highest >= graph.size()) {
    throw std::invalid_argument(fmt::format("no task with id {} in the graph", highest));
  }
  return graph.ids_topological() ? needed_by_sweep(graph, targets, highest, available, context)
                                 : needed_by_walk(graph, targets, available, context);
}

}  // namespace detail

std::vector<NodeId> topological_order(const Graph& graph) {
  std::vector<NodeId> order(graph.size());
  std::iota(order.begin(), order.end(), NodeId{0});
  const detail::GraphState& state = *detail::state_of(graph);
  if (!state.ids_topological()) {
    std::stable_sort(order.begin(), order.end(),
                     [&](NodeId a, NodeId b) { return state.ord(a) < state.ord(b); });
  }
  return order;
}

std::vector<NodeId> topological_order(const Graph& graph, std::span<const NodeId> targets) {
  return detail::needed_tasks(*detail::state_of(graph), targets);
}

namespace {
std::string dot_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace

std::string to_dot(const Graph& graph) {
  std::string dot = "digraph dagflow {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n";
  for (NodeId id = 0; id < graph.size(); ++id) {
    dot += fmt::format("  n{} [label=\"{}\"];\n", id, dot_escape(graph.label(id)));
  }
  for (NodeId id = 0; id < graph.size(); ++id) {
    const std::span<const NodeId> deps = graph.dependencies(id);
    const std::size_t reads = graph.argument_count(id);
    for (std::size_t e = 0; e < deps.size(); ++e) {
      // Ordering-only edges (Graph::after) are dashed: nothing flows along them.
      dot += fmt::format("  n{} -> n{}{};\n", deps[e], id, e < reads ? "" : " [style=dashed]");
    }
  }
  dot += "}\n";
  return dot;
}

}  // namespace dagflow
