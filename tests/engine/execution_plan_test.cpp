#include "execution_plan.hpp"

#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/traversal.hpp>

namespace {
int inc(int x) { return x + 1; }
int add(int a, int b) { return a + b; }

// Plans the run of `target` the way the Executor does.
dagflow::detail::ExecutionPlan plan_for(const dagflow::Graph& g, dagflow::NodeId target, bool fuse,
                                        std::size_t threads = 2) {
  const dagflow::NodeId targets[] = {target};
  const auto order = dagflow::topological_order(g, targets);
  std::vector<std::uint32_t> local_of(g.size(), UINT32_MAX);
  for (std::uint32_t v = 0; v < order.size(); ++v) local_of[order[v]] = v;
  std::vector<std::int32_t> holders(order.size(), 0);
  for (auto id : order) {
    for (auto dep : g.dependencies(id)) ++holders[local_of[dep]];
  }
  ++holders[local_of[target]];
  return dagflow::detail::plan_execution(*dagflow::detail::state_of(g), order, local_of.data(),
                                         holders, fuse, threads);
}
}  // namespace

// A linear chain is one chain in one flow-graph node.
TEST_CASE("ExecutionPlan: a chain becomes one node", "[engine][fusion]") {
  dagflow::Graph g;
  auto last = g.delayed(inc, 0);
  for (int i = 0; i < 99; ++i) last = g.delayed(inc, last);
  const auto plan = plan_for(g, last.id(), true);
  CHECK(plan.units() == 1);
  CHECK(plan.chains() == 1);
  CHECK(plan.chain_tasks.size() == 100);
  CHECK(std::is_sorted(plan.chain_tasks.begin(), plan.chain_tasks.end()));
  CHECK(plan_for(g, last.id(), false).units() == 100);
}

// A value read by two tasks ends a chain: both readers need it, so neither may own it.
TEST_CASE("ExecutionPlan: shared values split chains", "[engine][fusion]") {
  dagflow::Graph g;
  auto a = g.delayed(inc, 0);
  auto b = g.delayed(inc, a);  // fused after a
  auto l = g.delayed(inc, b);  // b has two readers: l and r start chains
  auto r = g.delayed(inc, b);
  auto j = g.delayed(add, l, r);  // two dependencies: starts a chain
  const auto plan = plan_for(g, j.id(), true);
  CHECK(plan.chains() == 4);
  CHECK(plan.units() == 4);
  // j's unit waits for both l's and r's.
  CHECK(plan.pred_begin.back() == 4);  // edges: l<-ab, r<-ab, j<-l, j<-r
}

// Large graphs are fused by depth: a binary tree of 4096 leaves has 13 levels.
TEST_CASE("ExecutionPlan: large graphs fuse by depth", "[engine][fusion]") {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<int>> level;
  for (int i = 0; i < 4096; ++i) level.push_back(g.delayed(inc, i));
  while (level.size() > 1) {
    std::vector<dagflow::Delayed<int>> up;
    for (std::size_t i = 0; i < level.size(); i += 2)
      up.push_back(g.delayed(add, level[i], level[i + 1]));
    level = up;
  }
  const auto plan = plan_for(g, level[0].id(), true);
  CHECK(plan.units() == 13);
  CHECK(plan.unit_begin[1] == 4096);  // the leaves share the first node
  // every unit but the first waits for exactly the one before it
  for (std::size_t u = 1; u < plan.units(); ++u) {
    CHECK(plan.pred_begin[u + 1] - plan.pred_begin[u] == 1);
    CHECK(plan.preds[plan.pred_begin[u]] == u - 1);
  }
  CHECK(plan_for(g, level[0].id(), false).units() == 8191);
}

// In a pool of one thread no two tasks overlap anyway: a small graph fuses by depth too, unless a
// task with options (which may wait outside the pool) would hold up the level after it.
TEST_CASE("ExecutionPlan: with one thread, small graphs fuse by depth", "[engine][fusion]") {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<int>> leaves;
  for (int i = 0; i < 8; ++i) leaves.push_back(g.delayed(inc, i));
  std::vector<dagflow::Delayed<int>> pairs;
  for (std::size_t i = 0; i < leaves.size(); i += 2)
    pairs.push_back(g.delayed(add, leaves[i], leaves[i + 1]));
  auto top = g.delayed(add, g.delayed(add, pairs[0], pairs[1]), g.delayed(add, pairs[2], pairs[3]));
  CHECK(plan_for(g, top.id(), true, 2).units() == 15);  // one node per chain
  const auto plan = plan_for(g, top.id(), true, 1);
  CHECK(plan.units() == 4);
  CHECK(plan.unit_begin[1] == 8);
  CHECK(plan_for(g, top.id(), false, 1).units() == 15);  // fusion off stays off

  g.set_options(leaves[3], {.io = true});
  const auto with_io = plan_for(g, top.id(), true, 1);
  CHECK(with_io.units() == 15);
  CHECK(with_io.async_units.size() == 15);
}
