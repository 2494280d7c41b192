// bench/overhead: per-task overhead of dagflow against the same DAG written by hand with
// tbb::flow::graph + continue_node, for four shapes with near-empty task bodies.
//
// Both sides are timed end to end: building the graph, running it, and tearing it down
// (dagflow builds and destroys its flow graph inside compute(), so the baseline's teardown
// counts too). Each case runs kReps times, interleaved; the median is reported.
//
//   ./build/release/bench/overhead            (about 30 s on 2 cores)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>

#include <dagflow/dagflow.hpp>

namespace {

namespace flow = tbb::flow;
using Clock = std::chrono::steady_clock;
using Node = flow::continue_node<flow::continue_msg>;

constexpr int kReps = 5;
constexpr long kIndependent = 1'000'000;
constexpr long kChain = 100'000;
constexpr int kTreeLevels = 17;  // 2^17 leaves
constexpr int kSide = 300;       // 300 x 300 wavefront

// Keeps results observable so the compiler cannot drop the work.
volatile long g_sink = 0;

double seconds_of(const std::function<long()>& run) {
  const auto start = Clock::now();
  g_sink = run();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long step(long a, long b) { return (a + b + 1) & 0xffff; }

// ---- the hand-written oneTBB baselines
// -------------------------------------------------------------

long tbb_independent() {
  std::vector<long> values(kIndependent);
  long total = 0;
  flow::graph g;
  std::vector<Node> nodes;
  nodes.reserve(kIndependent);
  Node sum(g, [&](const flow::continue_msg&) {
    total = std::accumulate(values.begin(), values.end(), 0L);
  });
  for (long i = 0; i < kIndependent; ++i) {
    nodes.emplace_back(g, [&values, i](const flow::continue_msg&) { values[i] = i; });
    flow::make_edge(nodes.back(), sum);
  }
  for (auto& n : nodes) n.try_put(flow::continue_msg());
  g.wait_for_all();
  return total;
}

long tbb_chain() {
  std::vector<long> values(kChain);
  flow::graph g;
  std::vector<Node> nodes;
  nodes.reserve(kChain);
  for (long i = 0; i < kChain; ++i) {
    nodes.emplace_back(g, [&values, i](const flow::continue_msg&) {
      values[i] = i == 0 ? 1 : step(values[i - 1], 0);
    });
    if (i > 0) flow::make_edge(nodes[i - 1], nodes[i]);
  }
  nodes.front().try_put(flow::continue_msg());
  g.wait_for_all();
  return values.back();
}

long tbb_tree() {
  // Heap layout: node k has children 2k+1 and 2k+2; leaves are the last 2^levels.
  const long leaves = 1L << kTreeLevels;
  const long total = 2 * leaves - 1;
  std::vector<long> values(total);
  flow::graph g;
  std::vector<Node> nodes;
  nodes.reserve(total);
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

long tbb_wavefront() {
  std::vector<long> values(kSide * kSide);
  flow::graph g;
  std::vector<Node> nodes;
  nodes.reserve(kSide * kSide);
  for (int i = 0; i < kSide; ++i) {
    for (int j = 0; j < kSide; ++j) {
      nodes.emplace_back(g, [&values, i, j](const flow::continue_msg&) {
        const long up = i > 0 ? values[(i - 1) * kSide + j] : 1;
        const long left = j > 0 ? values[i * kSide + j - 1] : 1;
        values[i * kSide + j] = step(up, left);
      });
      if (i > 0) flow::make_edge(nodes[(i - 1) * kSide + j], nodes.back());
      if (j > 0) flow::make_edge(nodes[i * kSide + j - 1], nodes.back());
    }
  }
  nodes.front().try_put(flow::continue_msg());
  g.wait_for_all();
  return values.back();
}

// ---- the same DAGs with dagflow
// --------------------------------------------------------------------

long sum_all(const std::vector<long>& v) { return std::accumulate(v.begin(), v.end(), 0L); }

long df_independent(dagflow::Executor& ex) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> parts;
  parts.reserve(kIndependent);
  for (long i = 0; i < kIndependent; ++i) parts.push_back(g.delayed([](long x) { return x; }, i));
  return ex.compute(g.delayed(sum_all, parts));
}

long df_chain(dagflow::Executor& ex) {
  dagflow::Graph g;
  auto last = g.delayed([] { return 1L; });
  for (long i = 1; i < kChain; ++i) last = g.delayed([](long x) { return step(x, 0); }, last);
  return ex.compute(last);
}

long df_tree(dagflow::Executor& ex) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> level;
  const long leaves = 1L << kTreeLevels;
  level.reserve(leaves);
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

long df_wavefront(dagflow::Executor& ex) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> row(kSide);
  for (int i = 0; i < kSide; ++i) {
    for (int j = 0; j < kSide; ++j) {
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Shape {
  const char* name;
  long tasks;
  std::function<long()> baseline;
  std::function<long(dagflow::Executor&)> dagflow;
};

}  // namespace

int main() {
  dagflow::Executor fused;
  dagflow::Executor unfused({.fuse_tasks = false});
  const Shape shapes[] = {
      {"independent 1M + sum", kIndependent + 1, tbb_independent, df_independent},
      {"linear chain 100k", kChain, tbb_chain, df_chain},
      {"binary tree 2^17 leaves", (2L << kTreeLevels) - 1, tbb_tree, df_tree},
      {"wavefront 300x300", long{kSide} * kSide, tbb_wavefront, df_wavefront},
  };
  std::printf(
      "dagflow bench/overhead: %d threads, median of %d runs, ns per task "
      "(build + run + teardown)\n\n",
      tbb::info::default_concurrency(), kReps);
  std::printf(
      "| shape | tasks | tbb::flow by hand | dagflow | ratio | dagflow, fusion off | ratio |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  bool agree = true;
  for (const Shape& s : shapes) {
    std::vector<double> base, fast, plain;
    for (int r = 0; r < kReps; ++r) {
      base.push_back(seconds_of(s.baseline));
      const long expected = g_sink;
      fast.push_back(seconds_of([&] { return s.dagflow(fused); }));
      agree = agree && g_sink == expected;
      plain.push_back(seconds_of([&] { return s.dagflow(unfused); }));
      agree = agree && g_sink == expected;
    }
    const double per = 1e9 / static_cast<double>(s.tasks);
    const double b = median(base) * per, f = median(fast) * per, p = median(plain) * per;
    std::printf("| %s | %ld | %.0f | %.0f | %.2fx | %.0f | %.2fx |\n", s.name, s.tasks, b, f, f / b,
                p, p / b);
    std::fflush(stdout);
  }
  std::printf("\nratio = dagflow / hand-written (lower is better; target <= 1.25x)\n");
  if (!agree) {
    std::printf("ERROR: dagflow and the baseline computed different results\n");
    return 1;
  }
  return 0;
}
