// bench/cache: what caching buys on a re-run, and what a hit costs.
//
// The graph: 1000 inputs, each through a chain of 10 named ops of about 1 ms each (10,000
// tasks), all summed. Measured, each in a fresh state: a cold run (empty caches), a warm run in
// memory (same Executor), a warm run from disk (a new Executor and a rebuilt graph, as a new
// process would), the per-task cost of memory and disk hits (all 10,000 chain ends requested as
// targets), and the incremental case: one of the 1000 inputs changed, run against a warm disk.
// Then what durable entries (ExecutorOptions::durable_cache: two fsyncs each) cost: cold runs into
// an empty cache with them and without, of the graph above and of the same graph of trivial tasks,
// where writing the entries is all there is.
//
//   ./build/release/bench/cache            (about 45 s on 2 cores)
//
// Note: with a cache directory every result is also written to disk (a file created and renamed
// per task, on the I/O threads), which is why that cold run is slower than the one without. The
// cache directory is in the system temp directory (TMPDIR): on a tmpfs fsync costs nothing, so
// measure durable entries on the disk they are meant for.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <unistd.h>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "busy_work.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kInputs = 1000;
constexpr int kChain = 10;
constexpr double kTaskUs = 1000.0;

long step(long x, int k) { return static_cast<long>(bench::work_for_us(kTaskUs, 1.0)) + x + k; }
long trivial_step(long x, int k) { return x + k; }
long total(const std::vector<long>& v) { return std::accumulate(v.begin(), v.end(), 0L); }

struct Pipeline {
  dagflow::Graph graph;
  std::vector<dagflow::Delayed<long>> ends;
  dagflow::Delayed<long> sum;
};

// `changed` >= 0 gives that input another value; `trivial`: steps of no work.
Pipeline build(int changed = -1, bool trivial = false) {
  Pipeline p;
  const auto op =
      trivial ? dagflow::op("bench trivial step", trivial_step) : dagflow::op("bench step", step);
  for (int i = 0; i < kInputs; ++i) {
    auto x = p.graph.delayed(op, long{i == changed ? -i : i}, 0);
    for (int k = 1; k < kChain; ++k) x = p.graph.delayed(op, x, k);
    p.ends.push_back(x);
  }
  p.sum = p.graph.delayed(dagflow::op("bench total", total), p.ends);
  return p;
}

template <class F>
double seconds(F&& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main() {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("dagflow-bench-cache-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const dagflow::ExecutorOptions opts{.cache_dir = dir};
  (void)bench::spins_per_us();
  const std::size_t tasks = kInputs * kChain + 1;

  long expected = 0;
  dagflow::RunStats st;
  double cold_no_disk = 0;
  {
    Pipeline q = build();
    dagflow::Executor memory_only;
    cold_no_disk = seconds([&] { (void)memory_only.compute(q.sum); });
  }
  Pipeline p = build();
  dagflow::Executor warm_memory(opts);
  const double cold = seconds([&] { expected = warm_memory.compute(p.sum); });
  const std::size_t cold_ran = warm_memory.last_run_stats().executed;
  const double memory = seconds([&] { (void)warm_memory.compute(p.sum); });
  const double memory_all = seconds([&] { (void)warm_memory.compute(p.ends); });
  st = warm_memory.last_run_stats();
  const std::size_t memory_hits = st.memory_hits;

  double disk = 0;
  bool same = true;
  {
    dagflow::Executor fresh(opts);
    disk = seconds([&] {
      Pipeline q = build();
      same = fresh.compute(q.sum) == expected;
    });
  }
  double disk_all = 0;
  std::size_t disk_hits = 0;
  {
    Pipeline q = build();
    dagflow::Executor fresh(opts);
    disk_all = seconds([&] { (void)fresh.compute(q.ends); });
    disk_hits = fresh.last_run_stats().disk_hits;
  }
  double incremental = 0;
  std::size_t incremental_ran = 0;
  {
    dagflow::Executor fresh(opts);
    incremental = seconds([&] {
      Pipeline q = build(500);
      (void)fresh.compute(q.sum);
    });
    incremental_ran = fresh.last_run_stats().executed;
  }
  // The same question for one map over 1000 items of ~2 ms: per-block entries mean one changed
  // item reruns one block (and the reduce after it).
  auto map_run = [&](int changed) {
    std::vector<long> xs(kInputs);
    std::iota(xs.begin(), xs.end(), 0L);
    if (changed >= 0) xs[static_cast<std::size_t>(changed)] = -1;
    dagflow::Graph g;
    auto ys = dagflow::map(g, dagflow::op("bench map step", [](long x) { return step(x, 0); }),
                           std::move(xs));
    auto sum = dagflow::reduce(g, dagflow::op("bench map sum", std::plus<>{}), 0L, ys);
    dagflow::Executor fresh(opts);
    const double t = seconds([&] { (void)fresh.compute(sum); });
    return std::pair{t, fresh.last_run_stats()};
  };
  const auto [map_cold, map_cold_stats] = map_run(-1);
  const auto [map_incremental, map_incremental_stats] = map_run(500);
  std::filesystem::remove_all(dir);

  // Cold runs into an empty cache of their own, entries durable or not: seconds, entries written.
  auto cold_run = [&](bool trivial, bool durable) {
    const std::filesystem::path own = dir / (durable ? "durable" : "plain");
    Pipeline q = build(-1, trivial);
    dagflow::Executor fresh({.cache_dir = own, .durable_cache = durable});
    long got = 0;
    const double t = seconds([&] { got = fresh.compute(q.sum); });
    if (!trivial) same = same && got == expected;
    const std::size_t written = fresh.last_run_stats().disk_writes;
    std::filesystem::remove_all(own);
    return std::pair{t, written};
  };
  const auto [plain_cold, plain_cold_written] = cold_run(false, false);
  const auto [durable_cold, durable_cold_written] = cold_run(false, true);
  const auto [trivial_plain, trivial_plain_written] = cold_run(true, false);
  const auto [trivial_durable, trivial_durable_written] = cold_run(true, true);
  std::filesystem::remove_all(dir);

  std::printf(
      "dagflow bench/cache: %zu tasks of ~%.0f us (%d inputs x %d-op chains + a sum), %zu "
      "threads\n\n",
      tasks, kTaskUs, kInputs, kChain, warm_memory.options().threads);
  std::printf("| run | seconds | tasks run | vs cold |\n|---|---:|---:|---:|\n");
  std::printf("| cold, no disk cache | %.3f | %zu | %.0f%% |\n", cold_no_disk, cold_ran,
              100 * cold_no_disk / cold);
  std::printf("| cold (empty caches, every result written to disk) | %.3f | %zu | 100%% |\n", cold,
              cold_ran);
  std::printf("| warm, memory (same Executor) | %.6f | 0 | %.3f%% |\n", memory,
              100 * memory / cold);
  std::printf("| warm, disk (new Executor, graph rebuilt and keyed) | %.4f | 0 | %.2f%% |\n", disk,
              100 * disk / cold);
  std::printf("| 1 of %d inputs changed, disk warm (new Executor) | %.4f | %zu | %.2f%% |\n",
              kInputs, incremental, incremental_ran, 100 * incremental / cold);
  std::printf("| map of %d items, cold | %.3f | %zu items | 100%% of map cold |\n", kInputs,
              map_cold, map_cold_stats.items_executed);
  std::printf(
      "| map of %d items, 1 changed (new Executor) | %.4f | %zu items (%zu from disk) | "
      "%.2f%% of map cold |\n",
      kInputs, map_incremental, map_incremental_stats.items_executed,
      map_incremental_stats.items_cached, 100 * map_incremental / map_cold);
  std::printf("\n| hit | per task |\n|---|---:|\n");
  std::printf("| memory hit (%zu chain ends as targets of one compute) | %.2f us |\n", memory_hits,
              1e6 * memory_all / static_cast<double>(memory_hits));
  std::printf(
      "| disk hit (%zu chain ends, new Executor; includes keying all %zu tasks) | %.2f us |\n",
      disk_hits, tasks, 1e6 * disk_all / static_cast<double>(disk_hits));
  std::printf(
      "\n| cold run into an empty disk cache | durable_cache off | on | on / off | syncing, per "
      "entry |\n|---|---:|---:|---:|---:|\n");
  // What the syncs added to the run, spread over the entries it wrote.
  const auto sync_us = [](double off, double on, std::size_t entries) {
    return entries == 0 ? 0.0 : 1e6 * (on - off) / static_cast<double>(entries);
  };
  std::printf("| %zu tasks of ~%.0f us | %.3f s | %.3f s | %.2fx | %.1f us |\n", tasks, kTaskUs,
              plain_cold, durable_cold, durable_cold / plain_cold,
              sync_us(plain_cold, durable_cold, durable_cold_written));
  std::printf(
      "| %zu trivial tasks (writing is all there is) | %.3f s | %.3f s | %.2fx | %.1f us |\n",
      tasks, trivial_plain, trivial_durable, trivial_durable / trivial_plain,
      sync_us(trivial_plain, trivial_durable, trivial_durable_written));
  std::printf("(entries written: %zu, %zu, %zu and %zu, by up to %zu I/O threads at once)\n",
              plain_cold_written, durable_cold_written, trivial_plain_written,
              trivial_durable_written, warm_memory.options().io_threads);
  std::printf("\ntargets: warm <= 5%% of cold, incremental <= 5%% of cold%s\n",
              same ? "" : "  -- ERROR: the warm disk run gave another result");
  return same ? 0 : 1;
}
