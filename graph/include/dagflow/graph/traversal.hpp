// Whole-graph tools: topological order (culled to targets or not) and Graphviz DOT export.
// Both are iterative, so a chain of millions of tasks does not touch the call stack's limits.
// Thread-safety: they only read the graph (not while tasks are added).
#pragma once

#include <span>
#include <string>
#include <vector>

#include <dagflow/graph/graph.hpp>

namespace dagflow {

/// All tasks, dependencies before their consumers: ascending ids, unless Graph::after ordered a
/// task after a younger one. O(size), then O(size log size).
[[nodiscard]] std::vector<NodeId> topological_order(const Graph& graph);

/// The tasks that `targets` need (the targets included), dependencies first, each once.
/// O(max target id + edges) (O(needed tasks + their edges) once Graph::after has ordered a task
/// after a younger one). Throws std::invalid_argument for an id that is not in the graph.
[[nodiscard]] std::vector<NodeId> topological_order(const Graph& graph,
                                                    std::span<const NodeId> targets);

/// Graphviz DOT of the whole graph: one node per task (labelled with its label), one edge per
/// dependency (a dependency used twice gives two edges; ordering-only ones are dashed). Render
/// with `dot -Tsvg`.
[[nodiscard]] std::string to_dot(const Graph& graph);

// ---- implementation -----------------------------------------------------------------------------

namespace detail {
/// topological_order on the storage, for the engine. When `available` is given it is asked once
/// about each needed task; a task it accepts is kept but its dependencies are not followed (its
/// result is already at hand, e.g. cached), unless another needed task wants them.
[[nodiscard]] std::vector<NodeId> needed_tasks(
    const GraphState& graph, std::span<const NodeId> targets,
    bool (*available)(void* context, NodeId id) = nullptr, void* context = nullptr);
}  // namespace detail

}  // namespace dagflow
