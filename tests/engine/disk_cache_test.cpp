#include <dagflow/engine/executor.hpp>

// Tests of the Executor's disk cache: results persist across Executors (as across processes),
// changes rerun only what they affect, damaged entries are recomputed, and the cache can be
// inspected, pruned and cleared.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/file.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::write_file;

namespace {
std::atomic<int> g_runs{0};
long dc_load(long x) { return ++g_runs, x * 10; }
long dc_square(long x) { return ++g_runs, x * x; }
long dc_add(long a, long b) { return ++g_runs, a + b; }

// load(start) -> square --+
//                         +-> add      other(7) -> square --+
dagflow::Delayed<long> pipeline(dagflow::Graph& g, long start, std::uint32_t square_version = 0) {
  auto sq = dagflow::op("dc square", dc_square).with_version(square_version);
  auto a = g.delayed(sq, g.delayed(dagflow::op("dc load", dc_load), start));
  auto b = g.delayed(sq, g.delayed(dagflow::op("dc load", dc_load), 7L));
  return g.delayed(dagflow::op("dc add", dc_add), a, b);
}

// Runs pipeline(g, 1) once with a disk cache in `root`, as an earlier process would have.
void fill_cache(const fs::path& root) {
  dagflow::Graph g;
  (void)dagflow::Executor({.cache_dir = root}).compute(pipeline(g, 1));
}

std::vector<fs::path> entries_in(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".entry") files.push_back(e.path());
  }
  return files;
}
}  // namespace

// Results written by one Executor are found by another (as by another process): a hit on the
// target prunes its whole upstream.
TEST_CASE("DiskCache: results persist across Executors", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  g_runs = 0;
  {
    dagflow::Graph g;
    dagflow::Executor ex({.cache_dir = root});
    CHECK(ex.compute(pipeline(g, 1)) == 100 + 4900);
    CHECK(ex.last_run_stats().disk_writes == 5);
    CHECK(g_runs == 5);
  }
  dagflow::Graph g;
  dagflow::Executor ex({.cache_dir = root});
  CHECK(ex.compute(pipeline(g, 1)) == 5000);
  const dagflow::RunStats st = ex.last_run_stats();
  CHECK(st.executed == 0);
  CHECK(st.disk_hits == 1);
  CHECK(st.tasks == 1);
  CHECK(st.disk_bytes_read > 0);
  CHECK(g_runs == 5);
  CHECK((fs::status(root).permissions() & fs::perms::all) == fs::perms::owner_all);
}

// Change one literal: only that branch and what depends on it run again.
TEST_CASE("DiskCache: a changed literal reruns only its downstream", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  fill_cache(root);
  g_runs = 0;
  dagflow::Graph g;
  dagflow::Executor ex({.cache_dir = root});
  CHECK(ex.compute(pipeline(g, 2)) == 400 + 4900);
  CHECK(g_runs == 3);  // load(2), its square, the add; the other branch came from disk
  CHECK(ex.last_run_stats().disk_hits == 1);
}

// Bumping an op's version reruns its tasks and everything downstream.
TEST_CASE("DiskCache: a version bump reruns that op and its downstream", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  fill_cache(root);
  g_runs = 0;
  dagflow::Graph g;
  dagflow::Executor ex({.cache_dir = root});
  CHECK(ex.compute(pipeline(g, 1, 1)) == 5000);
  CHECK(g_runs == 3);  // both squares and the add; the loads came from disk
  CHECK(ex.last_run_stats().disk_hits == 2);
}

// Only tasks with a content key and a Serializable result reach the disk.
TEST_CASE("DiskCache: anonymous and unserialisable results stay in memory",
          "[engine][disk-cache]") {
  struct Opaque {
    long v;
  };
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  std::atomic<int> runs{0};
  auto build = [&](dagflow::Graph& g) {
    auto anonymous = g.delayed([&runs] { return ++runs, 1L; });
    auto opaque = g.delayed(dagflow::op("dc opaque", [&runs] { return ++runs, Opaque{2}; }));
    return g.delayed(dagflow::op("dc unwrap", [](const Opaque& o) { return o.v; }), opaque);
  };
  for (int round = 0; round < 2; ++round) {
    dagflow::Graph g;
    dagflow::Executor ex({.cache_dir = root});
    CHECK(ex.compute(build(g)) == 2);
    // the unwrap depends on an op: it has a key, so it is persisted; the opaque value is not
    if (round == 0) CHECK(ex.last_run_stats().not_persisted == 1);
    if (round == 1) CHECK(ex.last_run_stats().disk_hits == 1);
  }
  CHECK(runs == 1);  // the second round found the unwrap's result on disk
}

// A damaged entry is a miss: recomputed, replaced, warned about; never a wrong value.
TEST_CASE("DiskCache: damaged entries are recomputed and replaced", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  fill_cache(root);
  const auto files = entries_in(root);
  REQUIRE(files.size() == 5);
  for (const auto& f : files) {  // flip one payload byte near the end of every entry
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(-1, std::ios::end);
    const char c = static_cast<char>(io.get());
    io.seekp(-1, std::ios::end);
    io.put(static_cast<char>(c ^ 0x40));
  }
  std::mutex warnings_mutex;
  std::vector<std::string> warnings;
  g_runs = 0;
  {
    dagflow::Graph g;
    dagflow::Executor ex({.cache_dir = root, .log = [&](std::string_view w) {
                            std::lock_guard lock(warnings_mutex);
                            warnings.emplace_back(w);
                          }});
    CHECK(ex.compute(pipeline(g, 1)) == 5000);
    CHECK(g_runs == 5);
    CHECK(ex.last_run_stats().disk_writes == 5);
  }
  CHECK_FALSE(warnings.empty());
  g_runs = 0;
  dagflow::Graph g;
  dagflow::Executor ex({.cache_dir = root});
  CHECK(ex.compute(pipeline(g, 1)) == 5000);
  CHECK(g_runs == 0);  // replaced entries are good again
}

// The cache root is created when missing; an unsafe root is refused up front.
TEST_CASE("DiskCache: creates a missing root and refuses an unsafe one",
          "[engine][disk-cache][errors]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  dagflow::Executor created({.cache_dir = root / "a" / "b"});
  CHECK(fs::is_directory(root / "a" / "b"));
  fs::create_directories(root / "open");
  fs::permissions(root / "open", fs::perms::all);
  CHECK_THROWS_AS(dagflow::Executor({.cache_dir = root / "open"}), std::invalid_argument);
}

// A disk hit is also kept in memory: the next compute() of that Executor does not read the disk.
TEST_CASE("DiskCache: disk hits are kept in memory", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  fill_cache(root);
  dagflow::Graph g;
  auto target = pipeline(g, 1);
  dagflow::Executor ex({.cache_dir = root});
  CHECK(ex.compute(target) == 5000);
  CHECK(ex.last_run_stats().disk_hits == 1);
  CHECK(ex.compute(target) == 5000);
  CHECK(ex.last_run_stats().disk_hits == 0);
  CHECK(ex.last_run_stats().memory_hits == 1);
}

// Inspecting, pruning to a budget (least recently used first) and clearing the disk cache.
TEST_CASE("DiskCache: reports stats, prunes least recently used first, and clears",
          "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = root});
  {
    dagflow::Graph g;
    (void)ex.compute(pipeline(g, 1));
  }
  const dagflow::CacheStats full = ex.disk_cache_stats();
  CHECK(full.entries == 5);
  CHECK(full.bytes > 5 * 48);
  // File times are coarse (a few ms): age every entry, so that the hit below is strictly newer.
  for (const auto& f : entries_in(root)) {
    fs::last_write_time(f, fs::file_time_type::clock::now() - std::chrono::hours(1));
  }
  // Touch one branch (a disk hit refreshes its recency), then keep only about one entry's worth.
  dagflow::Graph g;
  auto sq = dagflow::op("dc square", dc_square);
  auto branch = g.delayed(sq, g.delayed(dagflow::op("dc load", dc_load), 7L));
  CHECK(ex.compute(branch) == 4900);
  CHECK(ex.last_run_stats().disk_hits == 1);
  const dagflow::CacheStats pruned = ex.prune_disk_cache(full.bytes / 5);
  CHECK(pruned.entries == 1);
  CHECK(pruned.bytes <= full.bytes / 5);
  g_runs = 0;
  CHECK(ex.compute(branch) == 4900);
  CHECK(g_runs == 0);  // the recently used entry survived
  CHECK(ex.prune_disk_cache(0).entries == 0);
  CHECK(ex.disk_cache_stats().entries == 0);
  CHECK(ex.compute(branch) == 4900);
  CHECK(g_runs == 2);
  dagflow::Executor no_disk;
  CHECK(no_disk.disk_cache_stats().entries == 0);
  CHECK(no_disk.prune_disk_cache(0).bytes == 0);
}

// A map keeps one disk entry per block of items: after one of 1000 items changes, a new run
// computes only that item's block (plus what depends on the map).
TEST_CASE("DiskCache: a map reruns only the block of a changed item", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  std::atomic<int> item_runs{0};
  auto run = [&](int changed) {
    std::vector<long> xs(1000);
    for (int i = 0; i < 1000; ++i) xs[static_cast<std::size_t>(i)] = i == changed ? -1 : i;
    dagflow::Graph g;
    auto ys = dagflow::map(g,
                           dagflow::op("dc triple",
                                       [&item_runs](long x) {
                                         ++item_runs;
                                         return 3 * x;
                                       }),
                           std::move(xs));
    auto sum = dagflow::reduce(g, dagflow::op("dc sum", std::plus<>{}), 0L, ys);
    dagflow::Executor ex({.cache_dir = root});
    const long value = ex.compute(sum);
    return std::pair{value, ex.last_run_stats()};
  };
  auto [first, st1] = run(-1);
  CHECK(first == 3 * 999 * 1000 / 2);
  CHECK(st1.items_computed == 1000);
  CHECK(st1.items_cached == 0);
  item_runs = 0;
  auto [second, st2] = run(500);
  CHECK(second == first - 3 * 500 - 3);
  CHECK(item_runs == 1);
  CHECK(st2.items_computed == 1);
  CHECK(st2.items_cached == 999);
  item_runs = 0;
  auto [third, st3] = run(500);  // unchanged since: the reduce's own entry answers
  CHECK(third == second);
  CHECK(item_runs == 0);
  CHECK(st3.executed == 0);
}

// A File argument is keyed by its contents: an edit reruns its readers (even a same-size edit
// within the same second); rewriting the same bytes does not.
TEST_CASE("DiskCache: File arguments are keyed by content", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";  // created by the Executor
  const fs::path input = tmp.path() / "input.txt";
  auto write = [&](const std::string& text) { write_file(input, text); };
  std::atomic<int> reads{0};
  auto run = [&] {
    dagflow::Graph g;
    auto size = g.delayed(dagflow::op("dc file size",
                                      [&reads](const dagflow::File& f) {
                                        ++reads;
                                        const std::string s = read_file(f.path);
                                        return static_cast<long>(s.size() * 100 + s.front());
                                      }),
                          dagflow::File{input});
    return dagflow::Executor({.cache_dir = root}).compute(size);
  };
  write("abc");
  CHECK(run() == 300 + 'a');
  CHECK(run() == 300 + 'a');
  CHECK(reads == 1);
  write("xyz");  // same size, same second
  CHECK(run() == 300 + 'x');
  CHECK(reads == 2);
  write("xyz");  // the same bytes again
  CHECK(run() == 300 + 'x');
  CHECK(reads == 2);
  STATIC_REQUIRE(dagflow::Hashable<dagflow::File>);
  STATIC_REQUIRE(dagflow::Serializable<dagflow::File>);
}
