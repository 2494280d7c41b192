// bench/peers: per-task cost of dagflow against its peers on six DAG shapes: the same DAG written
// by hand with tbb::flow::graph + continue_node, with Taskflow (only when built with
// -DDAGFLOW_TASKFLOW_DIR=<checkout>), and with dagflow three ways: default ExecutorOptions,
// memory_cache_bytes = 0, and fuse_tasks = false.
//
// Every run is timed as one: building the graph, running it and tearing it down (Taskflow's own
// benchmarks do the same). The thread pools (tf::Executor, dagflow::Executor) are made once per
// thread count, outside the clock. Every answer is checked against a sequential loop; a wrong one
// aborts. Each case runs --repeat times, the systems interleaved, and the median is reported.
// malloc's thresholds are pinned and its heap trimmed before every run, so that no system
// inherits another's heap (see bench::pin_malloc_thresholds): every run starts as in a fresh
// process. dagflow keeps its own large per-run arrays between computes (util::LargeAllocator).
//
//   ./build/release/bench/peers --threads 2      (2m13s on 2 cores shared with other builds)
//   ./build/release/bench/peers --quick          (small sizes, a few seconds)
//   ./build/release/bench/peers --shape "50 us" --repeat 11   (one shape: its row per thread count)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/version.h>

#include <dagflow/dagflow.hpp>

#ifdef DAGFLOW_HAVE_TASKFLOW
#include <taskflow/taskflow.hpp>
#endif

#include "busy_work.hpp"
#include "process.hpp"
#include "shapes.hpp"
#include "timing.hpp"

namespace {

using bench::FlowNode;
namespace flow = tbb::flow;

constexpr std::uint32_t kMaxDeps = 4;      // random DAG: up to this many older dependencies,
constexpr std::uint32_t kWindow = 1024;    // among this many nodes before each one (see below)
constexpr std::uint64_t kSeed = 20240601;  // random DAG: fixed, so every run builds the same DAG
constexpr double kHeavyMicros = 50;        // compute-heavy DAG: work per task

// ---- command line -------------------------------------------------------------------------------

struct Options {
  bool quick = false;
  std::vector<std::size_t> threads{1, 2};
  int repeat = 3;
  std::string shape;  // only the rows whose shape contains this text (empty: every row)
};

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "usage: peers [--quick] [--threads N] [--repeat R] [--shape TEXT] [--help]\n"
               "  --quick       small sizes (about 10^4 tasks) instead of 10^5 and 10^6\n"
               "  --threads N   run with N threads only (default: 1, then 2)\n"
               "  --repeat R    runs per case; the median is reported (default 3)\n"
               "  --shape TEXT  only the rows whose shape contains TEXT (e.g. \"50 us\")\n"
               "Prints a Markdown table of ns per task (build + run + teardown).\n");
}

// A positive integer argument, or exit(2) with the usage.
long positive_argument(int argc, char** argv, int& i) {
  char* end = nullptr;
  const long value = i + 1 < argc ? std::strtol(argv[i + 1], &end, 10) : 0;
  if (end == nullptr || *end != '\0' || value < 1) {
    std::fprintf(stderr, "peers: %s needs a positive integer\n", argv[i]);
    print_usage(stderr);
    std::exit(2);
  }
  ++i;
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      print_usage(stdout);
      std::exit(0);
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      o.quick = true;
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      o.threads = {static_cast<std::size_t>(positive_argument(argc, argv, i))};
    } else if (std::strcmp(argv[i], "--repeat") == 0) {
      o.repeat = static_cast<int>(positive_argument(argc, argv, i));
    } else if (std::strcmp(argv[i], "--shape") == 0) {
      if (i + 1 == argc) {
        std::fprintf(stderr, "peers: --shape needs a text\n");
        std::exit(2);
      }
      o.shape = argv[++i];
    } else {
      std::fprintf(stderr, "peers: unknown argument %s\n", argv[i]);
      print_usage(stderr);
      std::exit(2);
    }
  }
  return o;
}

// ---- random DAG: each node after up to kMaxDeps distinct older nodes ---------------------------
//
// The dependencies are drawn from the kWindow nodes before each node, not from all of them: with
// 10^6 nodes, uniform draws make every edge a cache miss in every system (20-30 us per task summed
// over the five columns, most of the run time), which measures the memory system, not the
// schedulers.

struct RandomDag {
  std::vector<std::uint32_t> pred_begin{0};  // node i's predecessors: preds[pred_begin[i] ..
  std::vector<std::uint32_t> preds;          //                              pred_begin[i + 1])
  std::vector<std::uint32_t> sinks;          // nodes nothing depends on: the final sum's inputs

  [[nodiscard]] std::size_t size() const { return pred_begin.size() - 1; }
  [[nodiscard]] std::span<const std::uint32_t> preds_of(std::size_t i) const {
    return {preds.data() + pred_begin[i], preds.data() + pred_begin[i + 1]};
  }
};

RandomDag make_random_dag(std::size_t n) {
  RandomDag dag;
  std::mt19937_64 rng(kSeed);
  std::vector<bool> has_successor(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const auto wanted = static_cast<std::uint32_t>(rng() % (kMaxDeps + 1));
    const std::size_t first = dag.preds.size();
    const std::size_t window = std::min<std::size_t>(i, kWindow);
    for (std::uint32_t d = 0; d < wanted && window > 0; ++d) {
      const auto p = static_cast<std::uint32_t>(i - 1 - rng() % window);
      // Distinct: a repeated edge means two messages to a continue_node in some systems.
      if (std::find(dag.preds.begin() + static_cast<std::ptrdiff_t>(first), dag.preds.end(), p) !=
          dag.preds.end())
        continue;
      dag.preds.push_back(p);
      has_successor[p] = true;
    }
    dag.pred_begin.push_back(static_cast<std::uint32_t>(dag.preds.size()));
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!has_successor[i]) dag.sinks.push_back(static_cast<std::uint32_t>(i));
  return dag;
}

// The number of tasks on the longest path (the sum task not counted).
std::size_t depth_of(const RandomDag& dag) {
  std::vector<std::size_t> depth(dag.size(), 1);
  for (std::size_t i = 0; i < dag.size(); ++i)
    for (std::uint32_t p : dag.preds_of(i)) depth[i] = std::max(depth[i], depth[p] + 1);
  return dag.size() == 0 ? 0 : *std::max_element(depth.begin(), depth.end());
}

// Task bodies of a random DAG: node i's value from the sum of its predecessors' values.
struct TinyBody {
  long operator()(long i, long sum) const { return bench::step(i, sum); }
};
struct BusyBody {
  std::uint64_t spins;  // about kHeavyMicros of dependent multiply-adds
  long operator()(long i, long sum) const {
    return bench::step(i,
                       sum + static_cast<long>(bench::burn(spins, static_cast<double>(sum & 7))));
  }
};

template <class Body>
long reference_dag(const RandomDag& dag, const Body& body) {
  std::vector<long> values(dag.size());
  for (std::size_t i = 0; i < dag.size(); ++i) {
    long sum = 0;
    for (std::uint32_t p : dag.preds_of(i)) sum += values[p];
    values[i] = body(static_cast<long>(i), sum);
  }
  long total = 0;
  for (std::uint32_t s : dag.sinks) total += values[s];
  return total;
}

template <class Body>
long tbb_dag(const RandomDag& dag, const Body& body) {
  std::vector<long> values(dag.size());
  long total = 0;
  flow::graph g;
  std::vector<FlowNode> nodes;
  nodes.reserve(dag.size());
  for (std::size_t i = 0; i < dag.size(); ++i) {
    nodes.emplace_back(g, [&values, &dag, &body, i](const flow::continue_msg&) {
      long sum = 0;
      for (std::uint32_t p : dag.preds_of(i)) sum += values[p];
      values[i] = body(static_cast<long>(i), sum);
    });
    for (std::uint32_t p : dag.preds_of(i)) flow::make_edge(nodes[p], nodes[i]);
  }
  FlowNode sink(g, [&](const flow::continue_msg&) {
    for (std::uint32_t s : dag.sinks) total += values[s];
  });
  for (std::uint32_t s : dag.sinks) flow::make_edge(nodes[s], sink);
  for (std::size_t i = 0; i < dag.size(); ++i)
    if (dag.preds_of(i).empty()) nodes[i].try_put(flow::continue_msg());
  g.wait_for_all();
  return total;
}

// One dagflow task for node i, its predecessors' results as arguments.
template <class Body>
dagflow::Delayed<long> df_node(dagflow::Graph& g, const Body& body, long i,
                               std::span<const std::uint32_t> preds,
                               const std::vector<dagflow::Delayed<long>>& nodes) {
  static_assert(kMaxDeps == 4, "one case per dependency count");
  const auto at = [&](std::size_t k) { return nodes[preds[k]]; };
  switch (preds.size()) {
    case 0:
      return g.delayed(body, i, 0L);
    case 1:
      return g.delayed(body, i, at(0));
    case 2:
      return g.delayed([body](long n, long a, long b) { return body(n, a + b); }, i, at(0), at(1));
    case 3:
      return g.delayed([body](long n, long a, long b, long c) { return body(n, a + b + c); }, i,
                       at(0), at(1), at(2));
    default:
      return g.delayed(
          [body](long n, long a, long b, long c, long d) { return body(n, a + b + c + d); }, i,
          at(0), at(1), at(2), at(3));
  }
}

template <class Body>
long df_dag(dagflow::Executor& ex, const RandomDag& dag, const Body& body) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> nodes;
  nodes.reserve(dag.size());
  for (std::size_t i = 0; i < dag.size(); ++i)
    nodes.push_back(df_node(g, body, static_cast<long>(i), dag.preds_of(i), nodes));
  std::vector<dagflow::Delayed<long>> ends;
  ends.reserve(dag.sinks.size());
  for (std::uint32_t s : dag.sinks) ends.push_back(nodes[s]);
  return ex.compute(g.delayed(bench::sum_all, ends));
}

// ---- the same shapes with Taskflow --------------------------------------------------------------

#ifdef DAGFLOW_HAVE_TASKFLOW
long tf_independent(tf::Executor& ex, long n) {
  std::vector<long> values(static_cast<std::size_t>(n));
  long total = 0;
  tf::Taskflow flow;
  tf::Task sum = flow.emplace([&] { total = std::accumulate(values.begin(), values.end(), 0L); });
  for (long i = 0; i < n; ++i) flow.emplace([&values, i] { values[i] = i; }).precede(sum);
  ex.run(flow).wait();
  return total;
}

long tf_chain(tf::Executor& ex, long n) {
  std::vector<long> values(static_cast<std::size_t>(n));
  tf::Taskflow flow;
  tf::Task previous = flow.emplace([&values] { values[0] = 1; });
  for (long i = 1; i < n; ++i) {
    tf::Task next = flow.emplace([&values, i] { values[i] = bench::step(values[i - 1], 0); });
    previous.precede(next);
    previous = next;
  }
  ex.run(flow).wait();
  return values.back();
}

long tf_tree(tf::Executor& ex, int levels) {
  // Heap layout as in bench::tbb_tree: node k has children 2k+1 and 2k+2.
  const long leaves = 1L << levels;
  const long total = 2 * leaves - 1;
  std::vector<long> values(static_cast<std::size_t>(total));
  tf::Taskflow flow;
  std::vector<tf::Task> tasks;
  tasks.reserve(values.size());
  for (long k = 0; k < total; ++k) {
    if (k >= leaves - 1) {
      tasks.push_back(flow.emplace([&values, k] { values[k] = k & 7; }));
    } else {
      tasks.push_back(flow.emplace(
          [&values, k] { values[k] = bench::step(values[2 * k + 1], values[2 * k + 2]); }));
    }
  }
  for (long k = 0; k < leaves - 1; ++k) tasks[k].succeed(tasks[2 * k + 1], tasks[2 * k + 2]);
  ex.run(flow).wait();
  return values[0];
}

long tf_wavefront(tf::Executor& ex, int side) {
  const auto at = [side](int i, int j) { return static_cast<std::size_t>(i) * side + j; };
  std::vector<long> values(at(side, 0));
  tf::Taskflow flow;
  std::vector<tf::Task> tasks;
  tasks.reserve(values.size());
  for (int i = 0; i < side; ++i) {
    for (int j = 0; j < side; ++j) {
      tasks.push_back(flow.emplace([&values, &at, i, j] {
        const long up = i > 0 ? values[at(i - 1, j)] : 1;
        const long left = j > 0 ? values[at(i, j - 1)] : 1;
        values[at(i, j)] = bench::step(up, left);
      }));
      if (i > 0) tasks[at(i - 1, j)].precede(tasks.back());
      if (j > 0) tasks[at(i, j - 1)].precede(tasks.back());
    }
  }
  ex.run(flow).wait();
  return values.back();
}

template <class Body>
long tf_dag(tf::Executor& ex, const RandomDag& dag, const Body& body) {
  std::vector<long> values(dag.size());
  long total = 0;
  tf::Taskflow flow;
  std::vector<tf::Task> tasks;
  tasks.reserve(dag.size());
  for (std::size_t i = 0; i < dag.size(); ++i) {
    tasks.push_back(flow.emplace([&values, &dag, &body, i] {
      long sum = 0;
      for (std::uint32_t p : dag.preds_of(i)) sum += values[p];
      values[i] = body(static_cast<long>(i), sum);
    }));
    for (std::uint32_t p : dag.preds_of(i)) tasks[p].precede(tasks[i]);
  }
  tf::Task sink = flow.emplace([&] {
    for (std::uint32_t s : dag.sinks) total += values[s];
  });
  for (std::uint32_t s : dag.sinks) tasks[s].precede(sink);
  ex.run(flow).wait();
  return total;
}
#endif

// ---- the cases ----------------------------------------------------------------------------------

// The thread pools of one thread count, made before any clock starts.
struct Systems {
  explicit Systems(std::size_t threads)
      : limit(tbb::global_control::max_allowed_parallelism, threads),
#ifdef DAGFLOW_HAVE_TASKFLOW
        taskflow(threads),
#endif
        standard({.threads = threads}),
        no_cache({.threads = threads, .memory_cache_bytes = 0}),
        unfused({.threads = threads, .fuse_tasks = false}) {
  }
  tbb::global_control limit;  // the hand-written flow graphs' thread count
#ifdef DAGFLOW_HAVE_TASKFLOW
  tf::Executor taskflow;
#endif
  dagflow::Executor standard;
  dagflow::Executor no_cache;
  dagflow::Executor unfused;
};

// One row of the table: a shape at one size, written for every system, and its right answer.
struct Case {
  Case(std::string shape_name, std::string size_name, long task_count, long answer,
       std::function<long()> by_hand, std::function<long(dagflow::Executor&)> with_dagflow)
      : shape(std::move(shape_name)),
        size(std::move(size_name)),
        tasks(task_count),
        expected(answer),
        tbb(std::move(by_hand)),
        dagflow(std::move(with_dagflow)) {}

  std::string shape;
  std::string size;
  long tasks;
  long expected;
  std::function<long()> tbb;
  std::function<long(dagflow::Executor&)> dagflow;
#ifdef DAGFLOW_HAVE_TASKFLOW
  std::function<long(tf::Executor&)> taskflow;  // set after construction: only with Taskflow
#endif
};

std::vector<long> tiny_sizes(bool quick) {
  return quick ? std::vector<long>{10'000} : std::vector<long>{100'000, 1'000'000};
}

void add_chains(std::vector<Case>& cases, bool quick) {
  for (long n : tiny_sizes(quick)) {
    Case c{"linear chain",
           std::to_string(n),
           n,
           bench::reference_chain(n),
           [n] { return bench::tbb_chain(n); },
           [n](dagflow::Executor& ex) { return bench::df_chain(ex, n); }};
#ifdef DAGFLOW_HAVE_TASKFLOW
    c.taskflow = [n](tf::Executor& ex) { return tf_chain(ex, n); };
#endif
    cases.push_back(std::move(c));
  }
}

void add_trees(std::vector<Case>& cases, bool quick) {
  for (int depth : quick ? std::vector<int>{13} : std::vector<int>{17, 20}) {
    const int levels = depth - 1;  // of leaves: 2^(depth-1) leaves, 2^depth - 1 nodes
    Case c{"binary tree (children reduce into parents)",
           "depth " + std::to_string(depth),
           (1L << depth) - 1,
           bench::reference_tree(levels),
           [levels] { return bench::tbb_tree(levels); },
           [levels](dagflow::Executor& ex) { return bench::df_tree(ex, levels); }};
#ifdef DAGFLOW_HAVE_TASKFLOW
    c.taskflow = [levels](tf::Executor& ex) { return tf_tree(ex, levels); };
#endif
    cases.push_back(std::move(c));
  }
}

void add_wavefronts(std::vector<Case>& cases, bool quick) {
  for (int side : quick ? std::vector<int>{100} : std::vector<int>{316, 1000}) {
    Case c{"wavefront",
           std::to_string(side) + "x" + std::to_string(side),
           long{side} * side,
           bench::reference_wavefront(side),
           [side] { return bench::tbb_wavefront(side); },
           [side](dagflow::Executor& ex) { return bench::df_wavefront(ex, side); }};
#ifdef DAGFLOW_HAVE_TASKFLOW
    c.taskflow = [side](tf::Executor& ex) { return tf_wavefront(ex, side); };
#endif
    cases.push_back(std::move(c));
  }
}

void add_independent(std::vector<Case>& cases, bool quick) {
  for (long n : tiny_sizes(quick)) {
    Case c{"independent + sum",
           std::to_string(n),
           n + 1,
           bench::reference_independent(n),
           [n] { return bench::tbb_independent(n); },
           [n](dagflow::Executor& ex) { return bench::df_independent(ex, n); }};
#ifdef DAGFLOW_HAVE_TASKFLOW
    c.taskflow = [n](tf::Executor& ex) { return tf_independent(ex, n); };
#endif
    cases.push_back(std::move(c));
  }
}

template <class Body>
Case dag_case(std::string shape, const std::shared_ptr<const RandomDag>& dag, Body body) {
  Case c{std::move(shape),
         std::to_string(dag->size()) + " (depth " + std::to_string(depth_of(*dag)) + ")",
         static_cast<long>(dag->size()) + 1,  // + the sum over the sinks
         reference_dag(*dag, body),
         [dag, body] { return tbb_dag(*dag, body); },
         [dag, body](dagflow::Executor& ex) { return df_dag(ex, *dag, body); }};
#ifdef DAGFLOW_HAVE_TASKFLOW
  c.taskflow = [dag, body](tf::Executor& ex) { return tf_dag(ex, *dag, body); };
#endif
  return c;
}

void add_random_dags(std::vector<Case>& cases, bool quick) {
  for (long n : tiny_sizes(quick)) {
    auto dag = std::make_shared<const RandomDag>(make_random_dag(static_cast<std::size_t>(n)));
    cases.push_back(dag_case("random DAG (<= 4 deps of the last 1024) + sum", dag, TinyBody{}));
  }
  // Compute-bound: per-task overhead should vanish here, whatever the system.
  const long heavy = quick ? 200 : 2000;
  const auto spins =
      static_cast<std::uint64_t>(kHeavyMicros * static_cast<double>(bench::spins_per_us()));
  auto dag = std::make_shared<const RandomDag>(make_random_dag(static_cast<std::size_t>(heavy)));
  cases.push_back(dag_case("same, ~50 us tasks + sum", dag, BusyBody{spins}));
}

// ---- timing -------------------------------------------------------------------------------------

// Wrong answers abort: a benchmark that computes the wrong thing measures nothing.
void check(const Case& c, const char* system, long got) {
  if (got == c.expected) return;
  std::fprintf(stderr, "peers: WRONG ANSWER: %s %s, %s: got %ld, expected %ld\n", c.shape.c_str(),
               c.size.c_str(), system, got, c.expected);
  std::abort();
}

// dagflow must also have run every task (nothing culled, nothing taken from a cache).
void check_executed(const Case& c, const char* system, const dagflow::Executor& ex) {
  const std::size_t ran = ex.last_run_stats().executed;
  if (ran == static_cast<std::size_t>(c.tasks)) return;
  std::fprintf(stderr, "peers: %s %s, %s ran %zu tasks, expected %ld\n", c.shape.c_str(),
               c.size.c_str(), system, ran, c.tasks);
  std::abort();
}

template <class F>
double timed(const Case& c, const char* system, F&& run) {
  bench::settle_heap();
  const auto start = bench::Clock::now();
  const long got = run();
  const double seconds = bench::seconds_since(start);
  check(c, system, got);
  return seconds;
}

double timed_dagflow(const Case& c, const char* system, dagflow::Executor& ex) {
  const double seconds = timed(c, system, [&] { return c.dagflow(ex); });
  check_executed(c, system, ex);
  return seconds;
}

enum Column { kTbb, kTaskflow, kDefault, kNoCache, kUnfused, kColumns };

// One timed run of one system.
void measure_once(const Case& c, Systems& s, Column column, std::vector<std::vector<double>>& t) {
  switch (column) {
    case kTbb:
      t[kTbb].push_back(timed(c, "tbb::flow by hand", c.tbb));
      break;
    case kTaskflow:
#ifdef DAGFLOW_HAVE_TASKFLOW
      t[kTaskflow].push_back(timed(c, "Taskflow", [&] { return c.taskflow(s.taskflow); }));
#endif
      break;
    case kDefault:
      t[kDefault].push_back(timed_dagflow(c, "dagflow default", s.standard));
      break;
    case kNoCache:
      t[kNoCache].push_back(timed_dagflow(c, "dagflow no memory cache", s.no_cache));
      break;
    case kUnfused:
      t[kUnfused].push_back(timed_dagflow(c, "dagflow unfused", s.unfused));
      break;
    case kColumns:
      break;
  }
}

// Seconds of each run of each system. The systems take turns, and each round starts one system
// later than the round before, so that neither a drift of the machine nor a system's place in
// the round (after whose teardown it runs) favours one of them.
std::vector<std::vector<double>> measure(const Case& c, Systems& s, int repeat) {
  std::vector<std::vector<double>> t(kColumns);
  for (int r = 0; r < repeat; ++r) {
    for (int k = 0; k < kColumns; ++k)
      measure_once(c, s, static_cast<Column>((k + r) % kColumns), t);
  }
  return t;
}

// ---- output -------------------------------------------------------------------------------------

#ifdef DAGFLOW_HAVE_TASKFLOW
constexpr bool kHaveTaskflow = true;
#else
constexpr bool kHaveTaskflow = false;
#endif

void print_header(const Options& o) {
  std::printf("dagflow bench/peers: ns per task (build + run + teardown), median of %d runs%s\n",
              o.repeat, o.quick ? ", --quick sizes" : "");
  std::printf("oneTBB %s", TBB_VERSION_STRING);
#ifdef DAGFLOW_HAVE_TASKFLOW
  std::printf(", Taskflow %d.%d.%d", TF_VERSION / 100000, TF_VERSION / 100 % 1000,
              TF_VERSION % 100);
#else
  std::printf(", no Taskflow (configure with -DDAGFLOW_TASKFLOW_DIR=<checkout> to add it)");
#endif
  std::printf(
      "\n\n| shape | size | threads | tbb::flow by hand |%s dagflow | dagflow, no memory "
      "cache | dagflow, unfused |%s unfused / TBB |\n",
      kHaveTaskflow ? " Taskflow |" : "", kHaveTaskflow ? " dagflow / Taskflow |" : "");
  std::printf("|---|---:|---:|---:|%s---:|---:|---:|%s---:|\n", kHaveTaskflow ? "---:|" : "",
              kHaveTaskflow ? "---:|" : "");
}

void print_row(const Case& c, std::size_t threads, const std::vector<std::vector<double>>& t) {
  const double per = 1e9 / static_cast<double>(c.tasks);
  double ns[kColumns] = {};
  for (int k = 0; k < kColumns; ++k)
    if (!t[k].empty()) ns[k] = bench::median(t[k]) * per;
  std::printf("| %s | %s | %zu | %.0f |", c.shape.c_str(), c.size.c_str(), threads, ns[kTbb]);
  if (kHaveTaskflow) std::printf(" %.0f |", ns[kTaskflow]);
  std::printf(" %.0f | %.0f | %.0f |", ns[kDefault], ns[kNoCache], ns[kUnfused]);
  if (kHaveTaskflow) std::printf(" %.2fx |", ns[kDefault] / ns[kTaskflow]);
  std::printf(" %.2fx |\n", ns[kUnfused] / ns[kTbb]);
  std::fflush(stdout);
}

void run_all(const Options& options) {
  std::vector<Case> cases;
  add_chains(cases, options.quick);
  add_trees(cases, options.quick);
  add_wavefronts(cases, options.quick);
  add_independent(cases, options.quick);
  add_random_dags(cases, options.quick);
  std::erase_if(cases,
                [&](const Case& c) { return c.shape.find(options.shape) == std::string::npos; });
  if (cases.empty()) {
    std::fprintf(stderr, "peers: no shape contains \"%s\"\n", options.shape.c_str());
    std::exit(2);
  }
  print_header(options);
  for (std::size_t threads : options.threads) {
    Systems systems(threads);
    for (const Case& c : cases) print_row(c, threads, measure(c, systems, options.repeat));
  }
  std::printf(
      "\nsize: tasks for chains, independent tasks and random DAGs (each of the last two plus one "
      "sum task; depth = tasks on the longest path), depth d for a tree of 2^d - 1 nodes, the "
      "side of a wavefront.\n");
  bench::print_load();
}

}  // namespace

int main(int argc, char** argv) {
  bench::pin_malloc_thresholds();
  try {
    run_all(parse_options(argc, argv));
    return 0;
  } catch (const std::exception& e) {  // e.g. a dagflow::Error when threads cannot start
    std::fprintf(stderr, "peers: %s\n", e.what());
    return 1;
  }
}
