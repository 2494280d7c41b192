// task_keys: the content key of every task, a Merkle DAG over the graph, under which the disk
// cache finds results again across runs and processes.
// Thread-safety: only reads the graph, so it may run beside computes, but not while tasks are
// added.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/hashing.hpp>

namespace dagflow {

/// The key of every task, by node id (std::nullopt for tasks without a stable identity).
///
/// A task's key is the XXH3-128 hash of its op name, its op version, its callable's hashed state,
/// its literal arguments and the keys of its dependencies, in argument order. Equal keys mean equal
/// results (tasks are assumed pure): change a literal, an upstream task or an op's version, and the
/// key changes, and so do the keys of everything downstream. Tasks with no stable identity get no
/// key: anonymous callables (not a dagflow::op), literals that are not Hashable, callables with
/// state they do not hash (see dagflow::op), impure tasks, and anything downstream of those.
/// O(tasks + edges + bytes of literal arguments).
[[nodiscard]] std::vector<std::optional<Hash128>> task_keys(const Graph& graph);

// ---- implementation -----------------------------------------------------------------------------

namespace detail {
/// Keys of the tasks in `order` (topologically sorted, each task's dependencies included),
/// by position in `order`; `local_of` maps a node id to that position.
[[nodiscard]] std::vector<std::optional<Hash128>> task_keys(const GraphState& graph,
                                                            std::span<const NodeId> order,
                                                            const std::uint32_t* local_of);
}  // namespace detail

}  // namespace dagflow
