#include "execution_plan.hpp"

#include <algorithm>

namespace dagflow::detail {

namespace {
constexpr std::uint32_t kNone = UINT32_MAX;
}  // namespace

ExecutionPlan plan_execution(const GraphState& graph, std::span<const NodeId> order,
                             const std::uint32_t* local_of, std::span<const std::int32_t> holders,
                             bool fuse, std::span<const std::uint8_t> prefilled) {
  const std::size_t n = order.size();
  ExecutionPlan plan;
  auto is_prefilled = [&](std::uint32_t v) { return !prefilled.empty() && prefilled[v] != 0; };

  // 1. Chains. A task with exactly one dependency edge joins that dependency's chain when it is
  //    the dependency's only reader; the dependency is then necessarily the chain's tail.
  std::vector<std::uint32_t> chain_of(n);
  std::vector<std::uint32_t> next(n, kNone);
  std::vector<std::uint32_t> heads;
  for (std::uint32_t v = 0; v < n; ++v) {
    if (is_prefilled(v)) {
      chain_of[v] = kNone;
      continue;
    }
    const NodeRecord& node = graph.node(order[v]);
    if (fuse && node.edge_count == 1) {
      const std::uint32_t u = local_of[graph.edges(node)[0]];
      if (holders[u] == 1 && !is_prefilled(u)) {
        chain_of[v] = chain_of[u];
        next[u] = v;
        continue;
      }
    }
    chain_of[v] = static_cast<std::uint32_t>(heads.size());
    heads.push_back(v);
  }
  const std::size_t chains = heads.size();

  // 2. Units: one per chain, or one per depth level of the chain graph. Only a chain's head has
  //    dependencies outside the chain, and heads come in topological order.
  std::vector<std::uint32_t> unit_of_chain(chains);
  std::size_t units = chains;
  if (fuse && chains >= kLevelFusionMinChains) {
    std::uint32_t deepest = 0;
    for (std::uint32_t c = 0; c < chains; ++c) {
      const NodeRecord& head = graph.node(order[heads[c]]);
      const NodeId* edges = graph.edges(head);
      std::uint32_t level = 0;
      for (std::uint32_t e = 0; e < head.edge_count; ++e) {
        const std::uint32_t dep_chain = chain_of[local_of[edges[e]]];
        if (dep_chain != kNone) level = std::max(level, unit_of_chain[dep_chain] + 1);
      }
      unit_of_chain[c] = level;
      deepest = std::max(deepest, level);
    }
    units = std::size_t{deepest} + 1;
  } else {
    for (std::uint32_t c = 0; c < chains; ++c) unit_of_chain[c] = c;
  }

  // 3. Order chains unit by unit (a counting sort keeps creation order inside a unit).
  plan.unit_begin.assign(units + 1, 0);
  for (std::uint32_t c = 0; c < chains; ++c) ++plan.unit_begin[unit_of_chain[c] + 1];
  for (std::size_t u = 0; u < units; ++u) plan.unit_begin[u + 1] += plan.unit_begin[u];
  std::vector<std::uint32_t> chain_order(chains);
  {
    std::vector<std::uint32_t> fill(plan.unit_begin.begin(), plan.unit_begin.end() - 1);
    for (std::uint32_t c = 0; c < chains; ++c) chain_order[fill[unit_of_chain[c]]++] = c;
  }
  plan.chain_tasks.reserve(n);
  plan.chain_begin.reserve(chains + 1);
  for (std::uint32_t c : chain_order) {
    plan.chain_begin.push_back(static_cast<std::uint32_t>(plan.chain_tasks.size()));
    for (std::uint32_t v = heads[c]; v != kNone; v = next[v]) plan.chain_tasks.push_back(v);
  }
  plan.chain_begin.push_back(static_cast<std::uint32_t>(plan.chain_tasks.size()));

  // 4. Unit predecessors, without duplicates.
  std::vector<std::uint32_t> seen_by(units, kNone);
  plan.pred_begin.reserve(units + 1);
  for (std::uint32_t u = 0; u < units; ++u) {
    plan.pred_begin.push_back(static_cast<std::uint32_t>(plan.preds.size()));
    for (std::uint32_t i = plan.unit_begin[u]; i < plan.unit_begin[u + 1]; ++i) {
      const NodeRecord& head = graph.node(order[heads[chain_order[i]]]);
      const NodeId* edges = graph.edges(head);
      for (std::uint32_t e = 0; e < head.edge_count; ++e) {
        const std::uint32_t dep_chain = chain_of[local_of[edges[e]]];
        if (dep_chain == kNone) continue;  // prefilled: nothing to wait for
        const std::uint32_t p = unit_of_chain[dep_chain];
        if (seen_by[p] != u) {
          seen_by[p] = u;
          plan.preds.push_back(p);
        }
      }
    }
  }
  plan.pred_begin.push_back(static_cast<std::uint32_t>(plan.preds.size()));
  return plan;
}

}  // namespace dagflow::detail
