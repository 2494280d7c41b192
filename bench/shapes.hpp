// DAG shapes with near-empty task bodies, shared by bench/overhead, bench/peers and bench/io: each
// written by hand with tbb::flow::graph + continue_node, with dagflow, and as a plain sequential
// loop (the reference answer). Every function builds its graph, runs it and tears it down, and
// returns the value of the last task, so callers can check the answer and the compiler cannot drop
// the work.
#pragma once

#include <cstddef>
#include <numeric>
#include <vector>

#include <oneapi/tbb/flow_graph.h>

#include <dagflow/dagflow.hpp>

namespace bench {

namespace flow = tbb::flow;
using FlowNode = flow::continue_node<flow::continue_msg>;
/// A task body: a few integer operations, masked so that long chains never overflow.
inline long step(long a, long b) { return (a + b + 1) & 0xffff; }

inline long sum_all(const std::vector<long>& v) { return std::accumulate(v.begin(), v.end(), 0L); }

// ---- independent: n tasks (task i yields i) and one sum over them ------------------------------

inline long reference_independent(long n) { return n * (n - 1) / 2; }

inline long tbb_independent(long n) {
  std::vector<long> values(static_cast<std::size_t>(n));
  long total = 0;
  flow::graph g;
  std::vector<FlowNode> nodes;
  nodes.reserve(values.size());
  FlowNode sum(g, [&](const flow::continue_msg&) {
    total = std::accumulate(values.begin(), values.end(), 0L);
  });
  for (long i = 0; i < n; ++i) {
    nodes.emplace_back(g, [&values, i](const flow::continue_msg&) { values[i] = i; });
    flow::make_edge(nodes.back(), sum);
  }
  for (auto& node : nodes) node.try_put(flow::continue_msg());
  g.wait_for_all();
  return total;
}

// `options` go to each of the n tasks (not the sum); the defaults are left unset, so that the
// plain shape's graph is the one the other benchmarks have always timed.
inline long df_independent(dagflow::Executor& ex, long n,
                           const dagflow::TaskOptions& options = {}) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> parts;
  parts.reserve(static_cast<std::size_t>(n));
  const bool set = options != dagflow::TaskOptions{};
  for (long i = 0; i < n; ++i) {
    parts.push_back(g.delayed([](long x) { return x; }, i));
    if (set) g.set_options(parts.back(), options);
  }
  return ex.compute(g.delayed(sum_all, parts));
}

// ---- linear chain: n tasks, each after the previous --------------------------------------------

inline long reference_chain(long n) {
  long last = 1;
  for (long i = 1; i < n; ++i) last = step(last, 0);
  return last;
}

inline long tbb_chain(long n) {
  std::vector<long> values(static_cast<std::size_t>(n));
  flow::graph g;
  std::vector<FlowNode> nodes;
  nodes.reserve(values.size());
  for (long i = 0; i < n; ++i) {
    nodes.emplace_back(g, [&values, i](const flow::continue_msg&) {
      values[i] = i == 0 ? 1 : step(values[i - 1], 0);
    });
    if (i > 0) flow::make_edge(nodes[i - 1], nodes[i]);
  }
  nodes.front().try_put(flow::continue_msg());
  g.wait_for_all();
  return values.back();
}

inline long df_chain(dagflow::Executor& ex, long n) {
  dagflow::Graph g;
  auto last = g.delayed([] { return 1L; });
  for (long i = 1; i < n; ++i) last = g.delayed([](long x) { return step(x, 0); }, last);
  return ex.compute(last);
}

// ---- binary tree: 2^levels leaves reduced pairwise into one root (children before parents) ----

inline long reference_tree(int levels) {
  std::vector<long> level(std::size_t{1} << levels);
  for (std::size_t k = 0; k < level.size(); ++k) level[k] = static_cast<long>(k & 7);
  while (level.size() > 1) {
    for (std::size_t k = 0; k < level.size() / 2; ++k)
      level[k] = step(level[2 * k], level[2 * k + 1]);
    level.resize(level.size() / 2);
  }
  return level[0];
}

inline long tbb_tree(int levels) {
  // Heap layout: node k has children 2k+1 and 2k+2; leaves are the last 2^levels. Leaf values
  // (k & 7 of the heap index) differ from the reference's, but their multiset and so the root's
  // sum-based value do not.
  const long leaves = 1L << levels;
  const long total = 2 * leaves - 1;
  std::vector<long> values(static_cast<std::size_t>(total));
  flow::graph g;
  std::vector<FlowNode> nodes;
  nodes.reserve(values.size());
  for (long k = 0; k < total; ++k) {
    if (k >= leaves - 1) {
      nodes.emplace_back(g, [&values, k](const flow::continue_msg&) { values[k] = k & 7; });
    } else {
      nodes.emplace_back(g, [&values, k](const flow::continue_msg&) {
        values[k] = step(values[2 * k + 1], values[2 * k + 2]);
      });
    }
  }
  for (long k = 0; k < leaves - 1; ++k) {
    flow::make_edge(nodes[2 * k + 1], nodes[k]);
    flow::make_edge(nodes[2 * k + 2], nodes[k]);
  }
  for (long k = leaves - 1; k < total; ++k) nodes[k].try_put(flow::continue_msg());
  g.wait_for_all();
  return values[0];
}

inline long df_tree(dagflow::Executor& ex, int levels) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> level;
  const long leaves = 1L << levels;
  level.reserve(static_cast<std::size_t>(leaves));
  for (long k = 0; k < leaves; ++k) level.push_back(g.delayed([](long x) { return x & 7; }, k));
  while (level.size() > 1) {
    std::vector<dagflow::Delayed<long>> up;
    up.reserve(level.size() / 2);
    for (std::size_t k = 0; k < level.size(); k += 2) {
      up.push_back(g.delayed(step, level[k], level[k + 1]));
    }
    level = std::move(up);
  }
  return ex.compute(level[0]);
}

// ---- wavefront: side x side cells, (i, j) after (i-1, j) and (i, j-1) --------------------------

inline long reference_wavefront(int side) {
  std::vector<long> row(static_cast<std::size_t>(side), 1);
  for (int i = 0; i < side; ++i) {
    long left = 1;
    for (auto& cell : row) left = cell = step(cell, left);
  }
  return row.back();
}

inline long tbb_wavefront(int side) {
  const auto at = [side](int i, int j) { return static_cast<std::size_t>(i) * side + j; };
  std::vector<long> values(at(side, 0));
  flow::graph g;
  std::vector<FlowNode> nodes;
  nodes.reserve(values.size());
  for (int i = 0; i < side; ++i) {
    for (int j = 0; j < side; ++j) {
      nodes.emplace_back(g, [&values, &at, i, j](const flow::continue_msg&) {
        const long up = i > 0 ? values[at(i - 1, j)] : 1;
        const long left = j > 0 ? values[at(i, j - 1)] : 1;
        values[at(i, j)] = step(up, left);
      });
      if (i > 0) flow::make_edge(nodes[at(i - 1, j)], nodes.back());
      if (j > 0) flow::make_edge(nodes[at(i, j - 1)], nodes.back());
    }
  }
  nodes.front().try_put(flow::continue_msg());
  g.wait_for_all();
  return values.back();
}

inline long df_wavefront(dagflow::Executor& ex, int side) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> row(static_cast<std::size_t>(side));
  for (int i = 0; i < side; ++i) {
    for (int j = 0; j < side; ++j) {
      if (i == 0 && j == 0) {
        row[0] = g.delayed(step, 1L, 1L);
      } else if (i == 0) {
        row[j] = g.delayed(step, 1L, row[j - 1]);
      } else if (j == 0) {
        row[0] = g.delayed(step, row[0], 1L);
      } else {
        row[j] = g.delayed(step, row[j], row[j - 1]);
      }
    }
  }
  return ex.compute(row.back());
}

}  // namespace bench
