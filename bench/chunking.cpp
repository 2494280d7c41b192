// bench/chunking: does automatic chunking do as well as an expert with a stopwatch?
//
// For items of very different costs, times dagflow::map with automatic chunking against
// dagflow::map with fixed chunk sizes, a hand-written tbb::parallel_for (auto_partitioner) and a
// sequential loop; then map + reduce against hand-written parallel_for + parallel_reduce; then
// the peak memory of a map over 10^8 doubles. Times include graph building and output allocation
// on every side, never input generation. Each figure is the best of kReps runs: these cases
// allocate up to 1.6 GB per run, and page-fault noise from the kernel otherwise swamps the
// differences being measured (the same statistic is used for every column).
//
//   ./build/release/bench/chunking            (about two minutes on 2 cores)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <dagflow/dagflow.hpp>

#include "busy_work.hpp"
#include "timing.hpp"

namespace {

using bench::best;
using bench::Clock;
constexpr int kReps = 5;
constexpr std::size_t kMaxChunks = 10'000'000;  // fixed sizes giving more chunks are skipped

volatile double g_sink = 0;

// A case: items whose value is their cost in microseconds (0 = the memory-bound x*x).
struct Case {
  std::string name;
  std::vector<double> input;
  bool square;  // x*x instead of calibrated work
};

double item(const Case& c, double x) { return c.square ? x * x : bench::work_for_us(x, x); }

template <class F>
double time_runs(F&& run) {
  std::vector<double> t;
  for (int r = 0; r < kReps; ++r) {
    const auto start = Clock::now();
    run();
    t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best(t);
}

// dagflow::map over a copy of the input (copied before the clock starts, moved into the graph).
double time_dagflow(const Case& c, dagflow::Executor& ex, std::size_t chunk) {
  std::vector<double> t;
  for (int r = 0; r < kReps; ++r) {
    std::vector<double> input = c.input;
    const auto start = Clock::now();
    {
      dagflow::Graph g;
      auto ys = dagflow::map(g, [&c](double x) { return item(c, x); }, std::move(input),
                             {.chunk_size = chunk});
      const std::vector<double> out = ex.compute(ys);
      g_sink = out.back();
    }
    t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best(t);
}

double time_tbb(const Case& c) {
  return time_runs([&] {
    std::vector<double> out(c.input.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, c.input.size()),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i < r.end(); ++i)
                          out[i] = item(c, c.input[i]);
                      });
    g_sink = out.back();
  });
}

double time_sequential(const Case& c) {
  return time_runs([&] {
    std::vector<double> out(c.input.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = item(c, c.input[i]);
    g_sink = out.back();
  });
}

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  cases.push_back({"x*x, ~1 ns (memory-bound)", std::vector<double>(100'000'000, 1.5), true});
  cases.push_back({"1 us", std::vector<double>(500'000, 1.0), false});
  cases.push_back({"100 us", std::vector<double>(5'000, 100.0), false});
  cases.push_back({"10 ms", std::vector<double>(50, 10'000.0), false});
  // 1% of the items 100x slower: once spread by a fixed-seed shuffle, once all at the end.
  std::vector<double> skew(250'000, 1.0);
  for (std::size_t i = 0; i < skew.size() / 100; ++i) skew[skew.size() - 1 - i] = 100.0;
  cases.push_back({"skewed 1% x100, clustered at end", skew, false});
  std::shuffle(skew.begin(), skew.end(), std::mt19937_64(42));
  cases.push_back({"skewed 1% x100, spread", skew, false});
  return cases;
}

void chunk_matrix(dagflow::Executor& ex, std::size_t threads) {
  std::printf("## Chunking matrix (seconds; %zu threads)\n\n", threads);
  std::printf(
      "| items | N | sequential | tbb::parallel_for | dagflow auto | fixed 1 | fixed 16 | fixed "
      "256 "
      "| fixed 4096 | fixed 65536 | fixed N/threads | auto vs best fixed |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Case& c : make_cases()) {
    const std::size_t n = c.input.size();
    const double seq = time_sequential(c);
    const double tbb_auto = time_tbb(c);
    const double automatic = time_dagflow(c, ex, 0);
    std::string fixed_cells;
    double best_fixed = 1e30;
    for (std::size_t chunk : {std::size_t{1}, std::size_t{16}, std::size_t{256}, std::size_t{4096},
                              std::size_t{65536}, std::max<std::size_t>(1, n / threads)}) {
      if (n / chunk > kMaxChunks) {
        fixed_cells += " | skipped";
        continue;
      }
      const double t = time_dagflow(c, ex, chunk);
      best_fixed = std::min(best_fixed, t);
      char cell[32];
      std::snprintf(cell, sizeof cell, " | %.3f", t);
      fixed_cells += cell;
    }
    std::printf("| %s | %zu | %.3f | %.3f | %.3f%s | %.2fx |\n", c.name.c_str(), n, seq, tbb_auto,
                automatic, fixed_cells.c_str(), best_fixed / automatic);
    std::fflush(stdout);
  }
  std::printf(
      "\n\"auto vs best fixed\" = best fixed time / automatic time (>= 0.80x is the target; "
      "> 1 means automatic beat every fixed size). \"skipped\": more than %zu chunks.\n\n",
      kMaxChunks);
}

// map + reduce against parallel_for + parallel_reduce written by hand, input moved in on both.
void map_reduce(dagflow::Executor& ex, const char* name, std::size_t n, bool square) {
  const Case c{name, std::vector<double>(n, 1.25), square};
  const double per_item_us = square ? 0.0 : 0.2;
  std::vector<double> input(n, square ? 1.25 : per_item_us);
  std::vector<double> hand_t, df_t;
  double hand_result = 0, df_result = 0;
  for (int r = 0; r < kReps; ++r) {
    std::vector<double> in = input;
    auto start = Clock::now();
    {
      std::vector<double> moved = std::move(in);
      std::vector<double> out(n);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                        [&](const tbb::blocked_range<std::size_t>& rg) {
                          for (std::size_t i = rg.begin(); i < rg.end(); ++i)
                            out[i] = item(c, moved[i]);
                        });
      hand_result = tbb::parallel_reduce(
          tbb::blocked_range<std::size_t>(0, n), 0.0,
          [&](const tbb::blocked_range<std::size_t>& rg, double acc) {
            for (std::size_t i = rg.begin(); i < rg.end(); ++i) acc += out[i];
            return acc;
          },
          std::plus<>{});
    }
    hand_t.push_back(std::chrono::duration<double>(Clock::now() - start).count());

    in = input;
    start = Clock::now();
    {
      dagflow::Graph g;
      auto ys = dagflow::map(
          g, [&c](double x) { return item(c, x); }, std::move(in));
      df_result = ex.compute(dagflow::reduce(g, std::plus<>{}, 0.0, ys));
    }
    df_t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  const double hand = best(hand_t), df = best(df_t);
  std::printf("| %s | %zu | %.4f | %.4f | %.2fx | %s |\n", name, n, hand, df, hand / df,
              std::abs(hand_result - df_result) <= 1e-6 * std::abs(hand_result) ? "yes" : "NO");
}

// Peak RSS of a child that maps x*x over 10^8 doubles moved into the graph.
void peak_memory() {
  constexpr std::size_t n = 100'000'000;
  const pid_t child = fork();
  if (child == 0) {
    std::vector<double> xs(n, 1.5);
    dagflow::Graph g;
    auto ys = dagflow::map(
        g, [](double x) { return x * x; }, std::move(xs));
    dagflow::Executor ex;
    const std::vector<double> out = ex.compute(ys);
    _exit(out.size() == n ? 0 : 1);
  }
  int status = 0;
  rusage usage{};
  wait4(child, &status, 0, &usage);
  const double peak = static_cast<double>(usage.ru_maxrss) * 1024.0;  // ru_maxrss is in KiB
  const double data = 2.0 * n * sizeof(double);
  std::printf(
      "## Peak memory\n\nmap(x*x) over 10^8 doubles moved into the graph: peak RSS %.0f MB "
      "for %.0f MB of input + output = %.2fx (target <= 1.30x)%s\n",
      peak / 1e6, data / 1e6, peak / data, status == 0 ? "" : " (child FAILED)");
}

}  // namespace

int main() {
  dagflow::Executor ex;
  const std::size_t threads = ex.options().threads;
  std::printf("dagflow bench/chunking: %zu threads, best of %d runs, %llu spins/us\n\n", threads,
              kReps, static_cast<unsigned long long>(bench::spins_per_us()));
  chunk_matrix(ex, threads);
  std::printf("## map + reduce vs hand-written parallel_for + parallel_reduce (seconds)\n\n");
  std::printf("| work | N | tbb by hand | dagflow | dagflow speed vs hand | same sum |\n");
  std::printf("|---|---:|---:|---:|---:|---|\n");
  map_reduce(ex, "x*x, sum", 10'000'000, true);
  map_reduce(ex, "~200 ns compute-bound item, sum", 2'000'000, false);
  std::printf("\n(target: dagflow speed >= 0.80x of the hand-written version)\n\n");
  peak_memory();
  return 0;
}
