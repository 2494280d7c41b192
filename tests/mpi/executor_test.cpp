#include <dagflow/dagflow.hpp>
#include <dagflow/mpi.hpp>

// Executors across the ranks of a real mpirun job (1, 2 or 3 ranks, one thread each): the same
// bits as one process, a differing graph refused on every rank, a task failing on rank 1 and a
// keep-going run reported alike on every rank, a cancel reaching all. Each rank checks what it
// got; what must be equal across ranks is compared through Executor::all_gather.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "mpi_test.hpp"

namespace {

dagflow::ExecutorOptions across_ranks() {
  dagflow::ExecutorOptions opts;
  opts.threads = 1;
  opts.cluster = dagflow::test::mpi_session().cluster();
  return opts;
}

std::size_t my_rank() { return dagflow::test::mpi_session().rank(); }

double f(double x) { return std::sqrt(x) * 1.5; }

std::vector<double> make_inputs(std::size_t n) {
  std::vector<double> xs(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = static_cast<double>(i % 1013) * 0.25 + 0.5;
  return xs;
}

double total_of(dagflow::Executor& ex) {
  dagflow::Graph g;
  auto xs = g.delayed(dagflow::op("inputs", make_inputs), std::size_t{400'000});
  auto ys = dagflow::map(g, dagflow::op("f", f), xs);
  auto total = dagflow::reduce(g, std::plus<>{}, 0.0, ys);
  return ex.compute(total);
}

std::string bits_of(double x) {
  std::string b(sizeof x, '\0');
  std::memcpy(b.data(), &x, sizeof x);
  return b;
}

// True when every rank's `mine` is the same.
bool same_on_all_ranks(dagflow::Executor& ex, const std::string& mine) {
  const std::vector<std::string> all = ex.all_gather(mine);
  for (const std::string& s : all) {
    if (s != mine) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a map and reduce across ranks give one process's bits on every rank", "[executor]") {
  dagflow::Executor alone({.threads = 1});
  const double expected = total_of(alone);
  dagflow::Executor ex(across_ranks());
  const double got = total_of(ex);
  CHECK(bits_of(got) == bits_of(expected));
  CHECK(same_on_all_ranks(ex, bits_of(got)));
  // One rank is no cluster: an Executor then runs as in any single process.
  const std::size_t ranks = dagflow::test::mpi_session().size();
  CHECK(ex.last_run_stats().ranks.size() == (ranks > 1 ? ranks : 0));
}

// map(f, map(sqrt, xs)) into a reduce: both maps fused into it (ExecutorOptions::fuse_maps),
// each rank folding its share of the blocks, every rank with the unfused bits of one process.
TEST_CASE("a fused map chain across ranks gives the unfused bits on every rank", "[executor]") {
  const auto chain_total = [](dagflow::Executor& ex) {
    dagflow::Graph g;
    auto xs = g.delayed(dagflow::op("inputs", make_inputs), std::size_t{300'000});
    auto roots = dagflow::map(g, dagflow::op("sqrt", [](double x) { return std::sqrt(x); }), xs);
    auto ys = dagflow::map(g, dagflow::op("f", f), roots);
    return ex.compute(dagflow::reduce(g, std::plus<>{}, 0.0, ys));
  };
  dagflow::ExecutorOptions off{.threads = 1};
  off.fuse_maps = false;
  dagflow::Executor alone(off);
  const double expected = chain_total(alone);
  dagflow::Executor ex(across_ranks());
  const double got = chain_total(ex);
  CHECK(bits_of(got) == bits_of(expected));
  CHECK(ex.last_run_stats().fused == 2);
  CHECK(same_on_all_ranks(ex, bits_of(got)));
}

TEST_CASE("ranks with different graphs each throw GraphError naming the task", "[executor]") {
  dagflow::Executor ex(across_ranks());
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("a", [](int x) { return x + 1; }), 1);
  // Rank 1 (when there is one) builds another literal into "scaled".
  auto b = g.delayed(dagflow::op("b", [](int x) { return x * 2; }), my_rank() == 1 ? 6 : 5);
  g.set_label(b, "scaled");
  auto c = g.delayed(dagflow::op("c", [](int x, int y) { return x + y; }), a, b);
  if (dagflow::test::mpi_session().size() < 2) {
    CHECK(ex.compute(c) == 12);
    return;
  }
  std::string message;
  try {
    (void)ex.compute(c);
  } catch (const dagflow::GraphError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("'scaled'") && Catch::Contains("different graphs"));
}

TEST_CASE("a task failing on one rank fails compute() on every rank, naming it", "[executor]") {
  dagflow::Executor ex(across_ranks());
  dagflow::Graph g;
  std::vector<dagflow::Delayed<int>> parts;
  for (int i = 0; i < 24; ++i) {
    parts.push_back(g.delayed(dagflow::op("part that may throw",
                                          [](int k) {
                                            if (k == 13) throw std::runtime_error("part 13 broke");
                                            return k;
                                          }),
                              i));
  }
  auto sum = g.delayed(dagflow::op("sum of parts",
                                   [](const std::vector<int>& v) {
                                     int s = 0;
                                     for (const int x : v) s += x;
                                     return s;
                                   }),
                       parts);
  std::string message;
  try {
    (void)ex.compute(sum);
  } catch (const dagflow::TaskError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("'part that may throw'") && Catch::Contains("part 13 broke"));
  if (dagflow::test::mpi_session().size() > 1) CHECK_THAT(message, Catch::Contains("on rank"));
  CHECK(same_on_all_ranks(ex, message));
}

TEST_CASE("keep-going across ranks throws the same RunError on every rank", "[executor]") {
  dagflow::ExecutorOptions opts = across_ranks();
  opts.keep_going = true;
  dagflow::Executor ex(opts);
  dagflow::Graph g;
  std::vector<dagflow::Delayed<int>> outs;
  for (int i = 0; i < 9; ++i) {
    auto x = g.delayed(dagflow::op("x that may throw",
                                   [](int k) {
                                     if (k % 4 == 2)
                                       throw std::runtime_error("no " + std::to_string(k));
                                     return k;
                                   }),
                       i);
    outs.push_back(g.delayed(dagflow::op("x plus one", [](int k) { return k + 1; }), x));
  }
  std::string message;
  std::size_t failures = 0;
  try {
    (void)ex.compute(outs);
  } catch (const dagflow::RunError& e) {
    message = e.what();
    failures = e.failures().size();
  }
  CHECK(failures == 2);
  CHECK_THAT(message, Catch::Contains("no 2") && Catch::Contains("no 6"));
  CHECK(same_on_all_ranks(ex, message));
}

TEST_CASE("cancel() on rank 0 cancels the run on every rank", "[executor]") {
  dagflow::Executor ex(across_ranks());
  dagflow::Graph g;
  std::vector<dagflow::Delayed<int>> parts;
  for (int i = 0; i < 300; ++i) {
    parts.push_back(g.delayed(dagflow::op("slow part",
                                          [](int k) {
                                            std::this_thread::sleep_for(
                                                std::chrono::milliseconds(5));
                                            return k;
                                          }),
                              i));
  }
  std::thread canceller;
  if (my_rank() == 0) {
    canceller = std::thread([&ex] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ex.cancel();
    });
  }
  bool cancelled = false;
  try {
    (void)ex.compute(parts);
  } catch (const dagflow::Cancelled&) {
    cancelled = true;
  }
  if (canceller.joinable()) canceller.join();
  CHECK(cancelled);
}
