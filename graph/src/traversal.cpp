#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include <dagflow/graph/traversal.hpp>

namespace dagflow {

namespace detail {

std::vector<NodeId> needed_tasks(const GraphState& graph, std::span<const NodeId> targets,
                                 bool (*available)(void* context, NodeId id), void* context) {
  if (targets.empty()) return {};
  const NodeId highest = *std::max_element(targets.begin(), targets.end());
  if (highest >= graph.size()) {
    throw std::invalid_argument(fmt::format("no task with id {} in the graph", highest));
  }
  // Ids are a topological order (a task only depends on older ones), so one downward sweep
  // marks everything the targets need, with no stack and no queue.
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

}  // namespace detail

std::vector<NodeId> topological_order(const Graph& graph) {
  std::vector<NodeId> order(graph.size());
  std::iota(order.begin(), order.end(), NodeId{0});
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
    for (NodeId dep : graph.dependencies(id)) dot += fmt::format("  n{} -> n{};\n", dep, id);
  }
  dot += "}\n";
  return dot;
}

}  // namespace dagflow
