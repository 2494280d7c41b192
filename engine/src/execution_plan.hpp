// ExecutionPlan: how the tasks of one compute() are grouped into flow-graph nodes.
//
// One tbb::flow::continue_node costs about half a microsecond to build, run and destroy, far more
// than a small task body. So tasks are fused where that loses no parallelism:
// - a linear chain (each link the only reader of the one before) runs as one sequence: its links
//   could never have run at the same time anyway;
// - in a large graph, the chains at the same depth (longest path from a source) become one node
//   that runs them with parallel_for. Depth levels are independent by construction.
// A task with TaskOptions (I/O, resources, retries, timeout) is never fused: it runs as a unit of
// its own that holds no worker while it waits.
// Level fusion trades away overlap between tasks of different depths, which only matters when
// costs are uneven across levels, so it is reserved for graphs with many chains, where per-node
// overhead dominates. Small graphs keep one node per chain, except in a pool of one thread: there
// no two tasks ever overlap, so levels cost nothing and save a node per chain (unless a task with
// options, which may wait outside the pool, would hold up the whole level after it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <dagflow/graph/detail/graph_state.hpp>

namespace dagflow::detail {

/// Graphs with at least this many chains get level fusion (when fusion is on).
inline constexpr std::size_t kLevelFusionMinChains = 2048;

struct ExecutionPlan {
  /// Local task indices, chain after chain; each chain in dependency order.
  std::vector<std::uint32_t> chain_tasks;
  /// Chain c is chain_tasks[chain_begin[c] .. chain_begin[c + 1]).
  std::vector<std::uint32_t> chain_begin;
  /// Unit (flow-graph node) u runs chains [unit_begin[u], unit_begin[u + 1]), in parallel.
  std::vector<std::uint32_t> unit_begin;
  /// Unit u waits for units preds[pred_begin[u] .. pred_begin[u + 1]).
  std::vector<std::uint32_t> pred_begin;
  std::vector<std::uint32_t> preds;
  /// 1 for a unit that is one task with TaskOptions, run asynchronously (see UnitGraph); empty
  /// when there is none.
  std::vector<std::uint8_t> async_units;

  [[nodiscard]] std::size_t units() const noexcept { return unit_begin.size() - 1; }
  [[nodiscard]] std::size_t chains() const noexcept { return chain_begin.size() - 1; }
};

/// Plans the run of `order` (the needed tasks, topologically sorted; local index = position).
/// `local_of` maps a node id to its local index; `holders[v]` counts the readers of task v (one
/// per consuming argument, one per time it is requested as a target). With `fuse` off, every task
/// is its own chain and unit. `threads`: the workers that will run the plan. Tasks marked in
/// `prefilled` (by local index; may be empty) already have their result (cache hits): they are not
/// run and nobody waits for them. `groups` (by local index; may be empty): across ranks, only tasks
/// of equal groups (the same ranks run them) share a unit, and maps and reduces (split across the
/// ranks) are units of their own.
[[nodiscard]] ExecutionPlan plan_execution(const GraphState& graph, std::span<const NodeId> order,
                                           const std::uint32_t* local_of,
                                           std::span<const std::int32_t> holders, bool fuse,
                                           std::size_t threads,
                                           std::span<const std::uint8_t> prefilled = {},
                                           std::span<const std::uint64_t> groups = {});

}  // namespace dagflow::detail
