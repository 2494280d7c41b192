#include "execution_plan.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace dagflow::detail {

namespace {

constexpr std::uint32_t kNone = UINT32_MAX;

// What plan_execution's phases share: its inputs, and the chains once phase 1 found them.
struct Planning {
  const GraphState& graph;
  std::span<const NodeId> order;
  const std::uint32_t* local_of;
  std::span<const std::int32_t> holders;
  bool fuse;
  std::size_t threads;
  std::span<const std::uint8_t> prefilled;
  std::span<const std::uint64_t> groups;

  std::vector<std::uint32_t> chain_of;  // task -> its chain (kNone: prefilled)
  std::vector<std::uint32_t> next;      // task -> the next link of its chain (kNone: the tail)
  std::vector<std::uint32_t> heads;     // chain -> its first task

  [[nodiscard]] bool is_prefilled(std::uint32_t v) const {
    return !prefilled.empty() && prefilled[v] != 0;
  }
  // A task with options runs as an async unit of its own (see UnitGraph).
  [[nodiscard]] bool is_async(std::uint32_t v) const {
    return has_flag(graph.node(order[v]).flags, NodeFlags::kHasOptions);
  }
  // A unit of its own: an async task, or across ranks a map or reduce split across them.
  [[nodiscard]] bool is_alone(std::uint32_t v) const {
    return is_async(v) ||
           (!groups.empty() && has_flag(graph.node(order[v]).flags, NodeFlags::kSplitsAcrossRanks));
  }
  [[nodiscard]] std::uint64_t group(std::uint32_t v) const {
    return groups.empty() ? 0 : groups[v];
  }
  // The dependency edges of chain c: only a chain's head has dependencies outside the chain.
  [[nodiscard]] std::span<const NodeId> head_edges(std::uint32_t c) const {
    const NodeRecord& head = graph.node(order[heads[c]]);
    return {graph.edges(head), head.edge_count};
  }
};

// 1. Chains. A task with exactly one dependency edge joins that dependency's chain when it is the
//    dependency's only reader; the dependency is then necessarily the chain's tail.
void find_chains(Planning& p) {
  const std::size_t n = p.order.size();
  p.chain_of.assign(n, kNone);
  p.next.assign(n, kNone);
  for (std::uint32_t v = 0; v < n; ++v) {
    if (p.is_prefilled(v)) continue;
    const NodeRecord& node = p.graph.node(p.order[v]);
    if (p.fuse && node.edge_count == 1 && !p.is_alone(v)) {
      const std::uint32_t u = p.local_of[p.graph.edges(node)[0]];
      if (p.holders[u] == 1 && !p.is_prefilled(u) && !p.is_alone(u) && p.group(u) == p.group(v)) {
        p.chain_of[v] = p.chain_of[u];
        p.next[u] = v;
        continue;
      }
    }
    p.chain_of[v] = static_cast<std::uint32_t>(p.heads.size());
    p.heads.push_back(v);
  }
}

// Across ranks, a level's chains share a unit only with chains of their group: the level's
// first group keeps the level's unit, each further one gets a new unit.
void split_levels_by_group(const Planning& p, std::vector<std::uint32_t>& unit_of_chain,
                           std::size_t& units) {
  std::vector<std::pair<std::uint32_t, std::uint64_t>> first_group(units, {kNone, 0});
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::uint32_t> extra;
  for (std::uint32_t c = 0; c < unit_of_chain.size(); ++c) {
    if (p.is_alone(p.heads[c])) continue;  // gets a unit of its own
    const std::uint32_t level = unit_of_chain[c];
    const std::uint64_t group = p.group(p.heads[c]);
    auto& first = first_group[level];
    if (first.first == kNone) first = {c, group};
    if (first.second == group) continue;
    const auto [it, added] = extra.try_emplace({level, group}, static_cast<std::uint32_t>(units));
    if (added) ++units;
    unit_of_chain[c] = it->second;
  }
}

// Whether chains at one depth share a unit (see the header): in a large graph, or in a pool of
// one thread when no task may wait outside it; never across ranks in the latter case, where a
// rank's single thread also serves its waits for other ranks.
bool fuses_levels(const Planning& p) {
  const std::size_t chains = p.heads.size();
  if (!p.fuse || chains < 2) return false;
  if (chains >= kLevelFusionMinChains) return true;
  if (p.threads != 1 || !p.groups.empty()) return false;
  return std::none_of(p.heads.begin(), p.heads.end(),
                      [&](std::uint32_t head) { return p.is_alone(head); });
}

// 2. Units: one per chain, or one per depth level of the chain graph (heads come in topological
//    order, so a chain's dependencies have their level already); an async task's chain is always
//    a unit of its own. Returns the unit of each chain, and marks async units in the plan.
std::vector<std::uint32_t> assign_units(const Planning& p, std::size_t& units,
                                        ExecutionPlan& plan) {
  const std::size_t chains = p.heads.size();
  std::vector<std::uint32_t> unit_of_chain(chains);
  units = chains;
  const auto mark_async = [&](std::uint32_t c, std::uint32_t unit) {
    if (!p.is_async(p.heads[c])) return;
    plan.async_units.resize(std::max<std::size_t>(plan.async_units.size(), units), 0);
    plan.async_units[unit] = 1;
  };
  if (!fuses_levels(p)) {
    for (std::uint32_t c = 0; c < chains; ++c) {
      unit_of_chain[c] = c;
      mark_async(c, c);
    }
    return unit_of_chain;
  }
  std::vector<std::uint32_t> level_of(chains);
  std::uint32_t deepest = 0;
  std::vector<std::uint32_t> alone_chains;
  for (std::uint32_t c = 0; c < chains; ++c) {
    std::uint32_t level = 0;
    for (const NodeId dep : p.head_edges(c)) {
      const std::uint32_t dep_chain = p.chain_of[p.local_of[dep]];
      if (dep_chain != kNone) level = std::max(level, level_of[dep_chain] + 1);
    }
    level_of[c] = level;
    unit_of_chain[c] = level;
    deepest = std::max(deepest, level);
    if (p.is_alone(p.heads[c])) alone_chains.push_back(c);
  }
  units = std::size_t{deepest} + 1;
  if (!p.groups.empty()) split_levels_by_group(p, unit_of_chain, units);
  for (const std::uint32_t c : alone_chains) {
    unit_of_chain[c] = static_cast<std::uint32_t>(units++);
    mark_async(c, unit_of_chain[c]);
  }
  return unit_of_chain;
}

// 3. Orders chains unit by unit (a counting sort keeps creation order inside a unit) and lays
//    out their tasks. Returns the chains in that order.
std::vector<std::uint32_t> lay_out_chains(const Planning& p,
                                          std::span<const std::uint32_t> unit_of_chain,
                                          std::size_t units, ExecutionPlan& plan) {
  const std::size_t chains = p.heads.size();
  plan.unit_begin.assign(units + 1, 0);
  for (std::uint32_t c = 0; c < chains; ++c) ++plan.unit_begin[unit_of_chain[c] + 1];
  for (std::size_t u = 0; u < units; ++u) plan.unit_begin[u + 1] += plan.unit_begin[u];
  std::vector<std::uint32_t> chain_order(chains);
  std::vector<std::uint32_t> fill(plan.unit_begin.begin(), plan.unit_begin.end() - 1);
  for (std::uint32_t c = 0; c < chains; ++c) chain_order[fill[unit_of_chain[c]]++] = c;
  plan.chain_tasks.reserve(p.order.size());
  plan.chain_begin.reserve(chains + 1);
  for (std::uint32_t c : chain_order) {
    plan.chain_begin.push_back(static_cast<std::uint32_t>(plan.chain_tasks.size()));
    for (std::uint32_t v = p.heads[c]; v != kNone; v = p.next[v]) plan.chain_tasks.push_back(v);
  }
  plan.chain_begin.push_back(static_cast<std::uint32_t>(plan.chain_tasks.size()));
  return chain_order;
}

// 4. Unit predecessors, without duplicates.
void link_units(const Planning& p, std::span<const std::uint32_t> unit_of_chain,
                std::span<const std::uint32_t> chain_order, std::size_t units,
                ExecutionPlan& plan) {
  std::vector<std::uint32_t> seen_by(units, kNone);
  plan.pred_begin.reserve(units + 1);
  for (std::uint32_t u = 0; u < units; ++u) {
    plan.pred_begin.push_back(static_cast<std::uint32_t>(plan.preds.size()));
    for (std::uint32_t i = plan.unit_begin[u]; i < plan.unit_begin[u + 1]; ++i) {
      for (const NodeId dep : p.head_edges(chain_order[i])) {
        const std::uint32_t dep_chain = p.chain_of[p.local_of[dep]];
        if (dep_chain == kNone) continue;  // prefilled: nothing to wait for
        const std::uint32_t pred = unit_of_chain[dep_chain];
        if (seen_by[pred] != u) {
          seen_by[pred] = u;
          plan.preds.push_back(pred);
        }
      }
    }
  }
  plan.pred_begin.push_back(static_cast<std::uint32_t>(plan.preds.size()));
}

}  // namespace

ExecutionPlan plan_execution(const GraphState& graph, std::span<const NodeId> order,
                             const std::uint32_t* local_of, std::span<const std::int32_t> holders,
                             bool fuse, std::size_t threads,
                             std::span<const std::uint8_t> prefilled,
                             std::span<const std::uint64_t> groups) {
  Planning p{graph, order, local_of, holders, fuse, threads, prefilled, groups, {}, {}, {}};
  find_chains(p);
  std::size_t units = 0;
  ExecutionPlan plan;
  const std::vector<std::uint32_t> unit_of_chain = assign_units(p, units, plan);
  if (!plan.async_units.empty()) plan.async_units.resize(units, 0);
  const std::vector<std::uint32_t> chain_order = lay_out_chains(p, unit_of_chain, units, plan);
  link_units(p, unit_of_chain, chain_order, units, plan);
  return plan;
}

}  // namespace dagflow::detail
