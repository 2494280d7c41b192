// bench/io: what per-task options buy and cost, and what the disk cache's background writes add.
//
//   (a) 200 I/O tasks sleeping 20 ms beside a map that keeps every core busy for ~1 s (its work
//       per item calibrated at start-up): as `.io` tasks the sleeps overlap the map, so the mixed
//       run should take about the longer of the two alone (target <= 1.15x); as plain tasks
//       they hold compute workers, for contrast.
//   (b) 40 I/O tasks each holding one unit of a resource of capacity 2 for 10 ms, beside a map:
//       how long the holders take against the ideal 40 x 10 ms / 2, and the most holders seen at
//       once inside the tasks, which must be exactly 2.
//   (c) ns per empty task, 10^4 independent tasks and a sum: plain, one flow-graph node per task,
//       `.io` (default I/O threads, and as many as compute threads), `.retries = 1`.
//   (d) cold runs of keyed tasks with 4 KiB results (2000 of ~50 us, then 500 of ~1 ms), without
//       and with a disk cache (written by the default I/O threads, and by as many as compute
//       threads), and the same entries stored by hand from one thread: what the file system
//       charges for them, whoever writes them.
//
// Every answer is checked and the holders' peak must be 2: otherwise the exit code is 1.
//
//   ./build/release/bench/io            (about 30 s on 2 cores)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "busy_work.hpp"
#include "shapes.hpp"
#include "timing.hpp"

namespace {

using std::chrono::milliseconds;

constexpr int kReps = 5;
constexpr int kContrastReps = 3;  // the plain-sleepers run takes ~3 s
constexpr long kItems = 2000;     // map items of the compute side
constexpr double kComputeSeconds = 1.0;
constexpr long kSleepers = 200;
constexpr milliseconds kSleep{20};
constexpr long kHolders = 40;
constexpr milliseconds kHold{10};
constexpr std::size_t kCapacity = 2;
constexpr long kEmpty = 10'000;
constexpr int kEmptyReps = 7;
constexpr long kBlocks = 2000;
constexpr std::size_t kBlockDoubles = 512;  // 4 KiB per result
constexpr double kBlockUs = 50;
constexpr long kLongBlocks = 500;  // the same, with enough work per task to hide writes behind
constexpr double kLongBlockUs = 1000;

bool g_ok = true;

void check(bool ok, const char* what) {
  if (ok) return;
  std::printf("ERROR: %s\n", what);
  g_ok = false;
}

template <class T>
void raise_to(std::atomic<T>& a, T v) {
  T seen = a.load();
  while (v > seen && !a.compare_exchange_weak(seen, v)) {
  }
}

// ---- the compute side: a map of burns and their sum --------------------------------------------

// Burned values are integers well below 2^53, so their sum is exact in any order: the reduce's
// result must equal this reference to the last bit.
double expected_compute(long items, std::uint64_t spins) {
  double sum = 0;
  for (long x = 0; x < items; ++x) sum += bench::burned(spins, static_cast<double>(x));
  return sum;
}

dagflow::Delayed<double> add_compute(dagflow::Graph& g, long items, std::uint64_t spins) {
  std::vector<long> xs(static_cast<std::size_t>(items));
  std::iota(xs.begin(), xs.end(), 0L);
  auto ys = dagflow::map(
      g, [spins](long x) { return bench::burn(spins, static_cast<double>(x)); }, std::move(xs));
  return dagflow::reduce(g, std::plus<>{}, 0.0, ys);
}

// Spins per item that make the compute side take kComputeSeconds on all cores: a guess from the
// single-thread speed, then one timed run scaled to the target (which also wakes the workers).
std::uint64_t calibrate(dagflow::Executor& ex) {
  const double guess_us =
      kComputeSeconds * 1e6 * static_cast<double>(ex.options().threads) / kItems;
  const auto guess =
      static_cast<std::uint64_t>(guess_us * static_cast<double>(bench::spins_per_us()));
  const double took = bench::seconds_of([&] {
    dagflow::Graph g;
    (void)ex.compute(add_compute(g, kItems, guess));
  });
  return static_cast<std::uint64_t>(static_cast<double>(guess) * kComputeSeconds / took);
}

// ---- (a) sleepers beside compute ---------------------------------------------------------------

// n tasks sleeping `each` (task i yields i) and their sum; `options` go to each sleeper.
dagflow::Delayed<long> add_sleepers(dagflow::Graph& g, long n, milliseconds each,
                                    const dagflow::TaskOptions& options) {
  std::vector<dagflow::Delayed<long>> parts;
  parts.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    parts.push_back(g.delayed(
        [each](long x) {
          std::this_thread::sleep_for(each);
          return x;
        },
        i));
    if (options != dagflow::TaskOptions{}) g.set_options(parts.back(), options);
  }
  return g.delayed(bench::sum_all, parts);
}

void io_beside_compute(dagflow::Executor& ex, std::uint64_t spins) {
  const double expected = expected_compute(kItems, spins);
  const long expected_sleepers = bench::reference_independent(kSleepers);
  const dagflow::TaskOptions io{.io = true};
  std::vector<double> compute_only, io_only, mixed, plain;
  for (int r = 0; r < kReps; ++r) {
    compute_only.push_back(bench::seconds_of([&] {
      dagflow::Graph g;
      check(ex.compute(add_compute(g, kItems, spins)) == expected, "compute only: wrong sum");
    }));
    io_only.push_back(bench::seconds_of([&] {
      dagflow::Graph g;
      check(ex.compute(add_sleepers(g, kSleepers, kSleep, io)) == expected_sleepers,
            "I/O only: wrong sum");
    }));
    check(ex.last_run_stats().io_tasks == std::size_t{kSleepers},
          "I/O only: sleepers not on the I/O threads");
    mixed.push_back(bench::seconds_of([&] {
      dagflow::Graph g;
      auto total = add_compute(g, kItems, spins);
      auto slept = add_sleepers(g, kSleepers, kSleep, io);
      const auto [t, s] = ex.compute(total, slept);
      check(t == expected && s == expected_sleepers, "mixed: wrong sums");
    }));
    check(ex.last_run_stats().io_tasks == std::size_t{kSleepers},
          "mixed: sleepers not on the I/O threads");
    if (r >= kContrastReps) continue;
    plain.push_back(bench::seconds_of([&] {
      dagflow::Graph g;
      auto total = add_compute(g, kItems, spins);
      auto slept = add_sleepers(g, kSleepers, kSleep, {});
      const auto [t, s] = ex.compute(total, slept);
      check(t == expected && s == expected_sleepers, "mixed, plain sleepers: wrong sums");
    }));
    check(ex.last_run_stats().io_tasks == 0, "plain sleepers ran on the I/O threads");
  }
  const double c = bench::median(compute_only), i = bench::median(io_only),
               m = bench::median(mixed), p = bench::median(plain);
  std::printf(
      "(a) %ld I/O tasks sleeping %lld ms beside a map of %ld items (~%.0f s on all cores), "
      "median of %d (plain sleepers: %d)\n\n",
      kSleepers, static_cast<long long>(kSleep.count()), kItems, kComputeSeconds, kReps,
      kContrastReps);
  std::printf("| run | seconds |\n|---|---:|\n");
  std::printf("| compute only (map + reduce) | %.3f |\n", c);
  std::printf("| I/O only (sleepers, `.io`) | %.3f |\n", i);
  std::printf("| mixed, sleepers `.io` | %.3f |\n", m);
  std::printf("| mixed, sleepers plain (no `.io`) | %.3f |\n\n", p);
  const double ratio = m / std::max(c, i);
  std::printf("mixed / max(compute only, I/O only) = %.2fx (target <= 1.15x: %s)\n", ratio,
              ratio <= 1.15 ? "met" : "MISSED");
  std::printf("plain mixed / (compute only + I/O only) = %.2fx; plain mixed / mixed = %.2fx\n\n",
              p / (c + i), p / m);
  std::fflush(stdout);
}

// ---- (b) a resource of capacity kCapacity ------------------------------------------------------

struct Holders {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  std::atomic<std::int64_t> last_release_ns{0};  // since `start`
  bench::Clock::time_point start;
};

dagflow::Delayed<long> add_holders(dagflow::Graph& g, Holders& h) {
  std::vector<dagflow::Delayed<long>> parts;
  for (long i = 0; i < kHolders; ++i) {
    parts.push_back(g.delayed(
        [&h](long x) {
          raise_to(h.peak, h.now.fetch_add(1) + 1);
          std::this_thread::sleep_for(kHold);
          const auto held_until = bench::Clock::now() - h.start;
          raise_to(h.last_release_ns, std::int64_t{std::chrono::nanoseconds(held_until).count()});
          h.now.fetch_sub(1);
          return x;
        },
        i));
    g.set_options(parts.back(), {.io = true, .resources = {{"db", 1}}});
  }
  return g.delayed(bench::sum_all, parts);
}

void capped_resource(std::uint64_t spins) {
  dagflow::Executor ex({.resources = {{"db", kCapacity}}});
  // A map a little longer than the holders' ideal, so compute runs the whole time they do.
  constexpr long kMapItems = kItems / 3;
  const double expected = expected_compute(kMapItems, spins);
  const long expected_holders = bench::reference_independent(kHolders);
  std::vector<double> span, whole, waited;
  int peak_min = 1 << 30, peak_max = 0;
  for (int r = 0; r < kReps; ++r) {
    Holders h;
    dagflow::Graph g;
    auto total = add_compute(g, kMapItems, spins);
    auto held = add_holders(g, h);
    h.start = bench::Clock::now();
    const auto [t, s] = ex.compute(total, held);
    whole.push_back(bench::seconds_since(h.start));
    check(t == expected && s == expected_holders, "resource: wrong sums");
    const dagflow::RunStats st = ex.last_run_stats();
    check(st.io_tasks == std::size_t{kHolders}, "resource: holders not on the I/O threads");
    span.push_back(static_cast<double>(h.last_release_ns.load()) * 1e-9);
    waited.push_back(st.resource_wait_seconds);
    peak_min = std::min(peak_min, h.peak.load());
    peak_max = std::max(peak_max, h.peak.load());
  }
  const double ideal = static_cast<double>(kHolders * kHold.count()) * 1e-3 / kCapacity;
  const double sp = bench::median(span);
  std::printf(
      "(b) resource 'db' of capacity %zu: %ld I/O tasks holding 1 unit for %lld ms each, beside a "
      "map of %ld items, median of %d\n\n",
      kCapacity, kHolders, static_cast<long long>(kHold.count()), kMapItems, kReps);
  std::printf(
      "| ideal | holders done (from compute()) | vs ideal | peak holders (every run) | whole "
      "run | queued for 'db', summed |\n|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %.3f s | %.3f s | %.2fx | %d%s | %.3f s | %.2f s |\n\n", ideal, sp, sp / ideal,
              peak_max, peak_min == peak_max ? "" : " (not in every run)", bench::median(whole),
              bench::median(waited));
  if (peak_min != static_cast<int>(kCapacity) || peak_max != static_cast<int>(kCapacity)) {
    std::printf("ERROR: peak holders %d..%d, capacity %zu\n", peak_min, peak_max, kCapacity);
    g_ok = false;
  }
  std::fflush(stdout);
}

// ---- (c) per-task cost of the options ----------------------------------------------------------

struct EmptyCase {
  const char* name;
  dagflow::Executor* ex;
  dagflow::TaskOptions options;
  std::vector<double> runs;
};

void empty_tasks() {
  dagflow::Executor fused;
  dagflow::Executor unfused({.fuse_tasks = false});
  // As many I/O threads as compute workers, against the default's many: how much of an I/O
  // task's cost is waking an idle I/O thread for it.
  dagflow::Executor few_io({.io_threads = fused.options().threads});
  EmptyCase cases[] = {
      {"plain (default options)", &fused, {}, {}},
      {"plain, one flow-graph node per task (`fuse_tasks = false`)", &unfused, {}, {}},
      {"`.io = true`", &fused, {.io = true}, {}},
      {"`.io = true`, `io_threads` = compute threads", &few_io, {.io = true}, {}},
      {"`.retries = 1` (compute, async unit)", &fused, {.retries = 1}, {}},
  };
  const long expected = bench::reference_independent(kEmpty);
  for (int r = -1; r < kEmptyReps; ++r) {  // r = -1: untimed, starts the I/O threads
    for (EmptyCase& c : cases) {
      bench::settle_heap();
      long got = 0;
      const double t =
          bench::seconds_of([&] { got = bench::df_independent(*c.ex, kEmpty, c.options); });
      check(got == expected, "empty tasks: wrong sum");
      check(c.ex->last_run_stats().io_tasks == (c.options.io ? std::size_t{kEmpty} : 0),
            "empty tasks: wrong number of I/O tasks");
      if (r >= 0) c.runs.push_back(t);
    }
  }
  std::printf("(c) %ld independent empty tasks + a sum, build + run + teardown, median of %d\n\n",
              kEmpty, kEmptyReps);
  std::printf("| task | ns per task | vs plain | vs one node per task |\n|---|---:|---:|---:|\n");
  const double per = 1e9 / static_cast<double>(kEmpty + 1);
  const double plain = bench::median(cases[0].runs) * per;
  const double node = bench::median(cases[1].runs) * per;
  for (const EmptyCase& c : cases) {
    const double ns = bench::median(c.runs) * per;
    std::printf("| %s | %.0f | %.2fx | %.2fx |\n", c.name, ns, ns / plain, ns / node);
  }
  std::printf("\n");
  std::fflush(stdout);
}

// ---- (d) a cold run with and without the disk cache --------------------------------------------

std::vector<double> make_block(long i, std::uint64_t spins) {
  const double b = bench::burn(spins, static_cast<double>(i));
  std::vector<double> v(kBlockDoubles);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = b + static_cast<double>(k);
  return v;
}

double total_of(const std::vector<std::vector<double>>& blocks) {
  double sum = 0;
  for (const auto& b : blocks) sum = std::accumulate(b.begin(), b.end(), sum);
  return sum;
}

struct ColdRuns {
  long tasks;
  double task_us;
  // Medians, seconds: no disk cache; a disk cache with the default I/O threads; one with as many
  // I/O threads as compute workers; the same entries stored by hand.
  double without, with, with_few, store_alone;
  dagflow::RunStats plain, disk, disk_few;
};

// `blocks` keyed tasks of ~`us` each and their total, run cold without a disk cache and with one
// (written by the default I/O threads, then by as many as compute workers), and the same entries
// stored by hand with DiskCache::store from one thread: the file system's own price for them,
// which tells the engine's share of the difference from the disk's. Each cache is a new
// directory under `root`, removed only after the last run: ext4 does not hand out an inode freed
// in the last minute or so and checks every such one it passes while creating a file, so
// deleting one run's entries right before the next made its creates several times slower (here
// ~25 us a file became ~300 us).
ColdRuns cold_runs(long blocks, double us, const std::filesystem::path& root,
                   std::size_t few_io_threads) {
  const auto spins = static_cast<std::uint64_t>(us * static_cast<double>(bench::spins_per_us()));
  // Integers far below 2^53 again: exact whatever the order of the additions.
  double expected = 0;
  for (long i = 0; i < blocks; ++i) {
    const double b = bench::burned(spins, static_cast<double>(i));
    expected += static_cast<double>(kBlockDoubles) * b +
                static_cast<double>(kBlockDoubles) * static_cast<double>(kBlockDoubles - 1) / 2;
  }
  int made = 0;
  const auto fresh_dir = [&] {
    return root / (std::to_string(blocks) + "-tasks-" + std::to_string(made++));
  };
  const auto build = [&](dagflow::Graph& g) {
    std::vector<dagflow::Delayed<std::vector<double>>> parts;
    parts.reserve(static_cast<std::size_t>(blocks));
    for (long i = 0; i < blocks; ++i)
      parts.push_back(g.delayed(dagflow::op("bench io block", make_block), i, spins));
    return g.delayed(dagflow::op("bench io total", total_of), parts);
  };
  // `io_threads` < 0: no disk cache.
  const auto run = [&](long io_threads, dagflow::RunStats& stats) {
    dagflow::ExecutorOptions opts;
    if (io_threads >= 0) {
      opts.cache_dir = fresh_dir();
      opts.io_threads = static_cast<std::size_t>(io_threads);
    }
    dagflow::Executor ex(opts);  // new each time: cold memory cache, I/O threads started anew
    bench::settle_heap();
    const double t = bench::seconds_of([&] {
      dagflow::Graph g;
      check(ex.compute(build(g)) == expected, "disk cache: wrong total");
    });
    stats = ex.last_run_stats();
    if (io_threads >= 0) {
      check(stats.executed == static_cast<std::size_t>(blocks) + 1 && stats.disk_hits == 0,
            "disk cache: the cold run was not cold");
      check(stats.disk_writes == stats.executed && stats.disk_write_failures == 0,
            "disk cache: not every result was written");
    }
    return t;
  };
  const auto store_alone = [&] {
    const std::filesystem::path dir = fresh_dir();
    std::filesystem::create_directory(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    std::optional<dagflow::DiskCache> cache = dagflow::DiskCache::open(dir);
    dagflow::Graph g;
    const auto total = build(g);
    const std::vector<std::optional<dagflow::Hash128>> keys = dagflow::task_keys(g);
    const std::vector<double> block = make_block(0, 0);
    bool stored = cache.has_value();
    const double t = bench::seconds_of([&] {
      for (std::size_t i = 0; i < keys.size() && stored; ++i) {
        stored = keys[i].has_value() && (i == total.id() ? cache->store(*keys[i], expected)
                                                         : cache->store(*keys[i], block));
      }
    });
    check(stored, "disk cache: storing by hand failed");
    return t;
  };
  ColdRuns out{blocks, us, 0, 0, 0, 0, {}, {}, {}};
  std::vector<double> without, with, with_few, alone;
  for (int r = 0; r < kReps; ++r) {
    without.push_back(run(-1, out.plain));
    with.push_back(run(0, out.disk));
    with_few.push_back(run(static_cast<long>(few_io_threads), out.disk_few));
    alone.push_back(store_alone());
  }
  out.without = bench::median(without);
  out.with = bench::median(with);
  out.with_few = bench::median(with_few);
  out.store_alone = bench::median(alone);
  return out;
}

void cold_disk_cache(std::size_t compute_threads) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("dagflow-bench-io-" + std::to_string(getpid()));
  std::filesystem::create_directory(root);
  std::filesystem::permissions(root, std::filesystem::perms::owner_all);
  const ColdRuns cases[] = {cold_runs(kBlocks, kBlockUs, root, compute_threads),
                            cold_runs(kLongBlocks, kLongBlockUs, root, compute_threads)};
  std::filesystem::remove_all(root);
  std::printf(
      "(d) cold runs: keyed tasks each returning %zu doubles (%zu KiB), + a sum, median of %d\n\n",
      kBlockDoubles, kBlockDoubles * sizeof(double) / 1024, kReps);
  std::printf(
      "| tasks | run | seconds | tasks run | disk writes | MB written | vs no disk cache |\n"
      "|---|---|---:|---:|---:|---:|---:|\n");
  for (const ColdRuns& c : cases) {
    const auto row = [&](const char* name, double t, const dagflow::RunStats& st) {
      std::printf("| %ld x ~%.0f us | %s | %.3f | %zu | %zu | %.1f | %.0f%% |\n", c.tasks,
                  c.task_us, name, t, st.executed, st.disk_writes,
                  static_cast<double>(st.disk_bytes_written) * 1e-6, 100 * t / c.without);
    };
    row("cold, no disk cache", c.without, c.plain);
    row("cold, empty disk cache (written by the I/O threads)", c.with, c.disk);
    row("the same, `io_threads` = compute threads", c.with_few, c.disk_few);
    std::printf(
        "| %ld x ~%.0f us | the same entries by hand (DiskCache::store, one thread, no run) | "
        "%.3f | 0 | %zu | | %.0f%% |\n",
        c.tasks, c.task_us, c.store_alone, c.disk.disk_writes, 100 * c.store_alone / c.without);
  }
  std::printf("\n");
  for (const ColdRuns& c : cases) {
    const auto per_entry = [&](double seconds) {
      return 1e6 * seconds / static_cast<double>(c.disk.disk_writes);
    };
    std::printf(
        "%ld x ~%.0f us: the disk cache adds %.1f ms to the cold run (%.0f us per entry; %.0f us "
        "with as many I/O threads as compute threads); storing the entries alone takes %.1f ms "
        "(%.0f us per entry)\n",
        c.tasks, c.task_us, 1e3 * (c.with - c.without), per_entry(c.with - c.without),
        per_entry(c.with_few - c.without), 1e3 * c.store_alone, per_entry(c.store_alone));
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main() {
  bench::pin_malloc_thresholds();
  dagflow::Executor ex;
  const std::uint64_t spins = calibrate(ex);
  std::printf(
      "dagflow bench/io: %zu compute threads, %zu I/O threads; map items calibrated to "
      "%.0f us each\n\n",
      ex.options().threads, ex.options().io_threads,
      static_cast<double>(spins) / static_cast<double>(bench::spins_per_us()));
  io_beside_compute(ex, spins);
  capped_resource(spins);
  empty_tasks();
  cold_disk_cache(ex.options().threads);
  if (!g_ok) std::printf("ERROR: see above\n");
  return g_ok ? 0 : 1;
}
