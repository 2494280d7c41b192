#include <dagflow/engine/disk_cache.hpp>

// Tests of the disk cache: results persist across Executors (as across processes), changes rerun
// only what they affect, damaged entries are recomputed, and the cache can be inspected, pruned
// and cleared, by the Executor or through a DiskCache handle.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/file.hpp>
#include <dagflow/graph/keys.hpp>

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

// durable_cache changes how entries are written, not what: a durable Executor writes every entry
// (a result and a store() through its DiskCache), and a plain one finds them, and the other way
// round.
TEST_CASE("DiskCache: durable_cache writes the same entries", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  g_runs = 0;
  {
    dagflow::Graph g;
    dagflow::Executor ex({.cache_dir = root, .durable_cache = true});
    CHECK(ex.options().durable_cache);
    CHECK(ex.compute(pipeline(g, 1)) == 5000);
    CHECK(ex.last_run_stats().disk_writes == 5);
    CHECK(ex.last_run_stats().disk_write_failures == 0);
    REQUIRE(ex.disk_cache() != nullptr);
    CHECK(ex.disk_cache()->store(dagflow::hash_value(42), std::string("kept")));
  }
  CHECK(entries_in(root).size() == 6);
  {
    dagflow::Graph g;
    dagflow::Executor ex({.cache_dir = root});
    CHECK_FALSE(ex.options().durable_cache);
    CHECK(ex.compute(pipeline(g, 1)) == 5000);
    CHECK(ex.last_run_stats().disk_hits == 1);
    CHECK(ex.disk_cache()->load<std::string>(dagflow::hash_value(42)) == "kept");
  }
  fill_cache(tmp.path() / "plain");
  dagflow::Graph g;
  dagflow::Executor ex({.cache_dir = tmp.path() / "plain", .durable_cache = true});
  CHECK(ex.compute(pipeline(g, 1)) == 5000);
  CHECK(ex.last_run_stats().executed == 0);
  CHECK(g_runs == 10);  // the first Executor's 5 and fill_cache's 5
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
  static std::atomic<int> runs{0};  // static: the lambdas below capture nothing, so are keyed
  auto build = [&](dagflow::Graph& g) {
    auto anonymous = g.delayed([] { return ++runs, 1L; });
    auto opaque = g.delayed(dagflow::op("dc opaque", [] { return ++runs, Opaque{2}; }));
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

// Captured state is never a stale hit: a capturing lambda cannot hash its captures, so its task
// has no key and stays out of the disk cache (counted, and warned about once per compute()).
TEST_CASE("DiskCache: a capturing op never gives a stale hit", "[engine][disk-cache]") {
  const TempDir tmp;
  for (const long scale : {2L, 3L, 2L}) {
    std::vector<std::string> warnings;
    dagflow::Graph g;
    auto scaled = g.delayed(dagflow::op("dc scaled", [scale](long x) { return x * scale; }), 10L);
    auto plus = g.delayed(dagflow::op("dc add", dc_add), scaled, 1L);
    dagflow::Executor ex({.threads = 1,
                          .cache_dir = tmp.path() / "cache",
                          .log = [&](std::string_view w) { warnings.emplace_back(w); }});
    CHECK(ex.compute(plus) == 10 * scale + 1);
    const dagflow::RunStats stats = ex.last_run_stats();
    CHECK(stats.not_keyed == 2);  // the lambda's task and its consumer
    CHECK(stats.disk_writes == 0);
    CHECK(stats.disk_hits == 0);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("2 of the 2 tasks") &&
                                Catch::Contains("dagflow::op(name, fn)") &&
                                Catch::Contains("hash_state"));
  }
}

namespace {
// A callable with state that it hashes itself: keyed by that state.
struct Scaled {
  long scale;
  long operator()(long x) const { return ++g_runs, x * scale; }
  bool hash_state(dagflow::Hasher& h) const {
    h.add(scale);
    return true;
  }
};
// A callable with state hashed through a Hash specialisation.
struct Offset {
  long by;
  long operator()(long x) const { return ++g_runs, x + by; }
};
// A callable whose hash_state says it cannot be hashed.
struct Unhashable {
  long operator()(long x) const { return x; }
  bool hash_state(dagflow::Hasher& /*h*/) const { return false; }
  long unused = 0;
};
}  // namespace

template <>
struct dagflow::Hash<Offset> {
  static void add(dagflow::Hasher& h, const Offset& o) { h.add(o.by); }
};

TEST_CASE("DiskCache: a callable that hashes its state hits across Executors",
          "[engine][disk-cache]") {
  const TempDir tmp;
  const auto run = [&](long scale, long by) {
    dagflow::Graph g;
    auto a = g.delayed(dagflow::op("dc scaled functor", Scaled{scale}), 10L);
    auto b = g.delayed(dagflow::op("dc offset functor", Offset{by}), a);
    dagflow::Executor ex({.cache_dir = tmp.path() / "cache"});
    const long value = ex.compute(b);
    CHECK(ex.last_run_stats().not_keyed == 0);
    return value;
  };
  g_runs = 0;
  CHECK(run(2, 1) == 21);
  CHECK(g_runs == 2);
  CHECK(run(2, 1) == 21);
  CHECK(g_runs == 2);  // both from disk
  CHECK(run(3, 1) == 31);
  CHECK(g_runs == 4);  // another scale: both rerun
  CHECK(run(3, 5) == 35);
  CHECK(g_runs == 5);  // another offset: only the offset reruns

  dagflow::Graph g;
  auto u = g.delayed(dagflow::op("dc unhashable", Unhashable{}), 4L);
  std::vector<std::string> warnings;
  dagflow::Executor ex({.cache_dir = tmp.path() / "cache",
                        .log = [&](std::string_view w) { warnings.emplace_back(w); }});
  CHECK(ex.compute(u) == 4);
  CHECK(ex.last_run_stats().not_keyed == 1);
  CHECK(ex.last_run_stats().disk_writes == 0);
  CHECK(warnings.size() == 1);
}

// Tasks without a key are counted whether or not there is a disk cache; only with one is that a
// warning. Impure tasks have no key by nature and are not counted.
TEST_CASE("DiskCache: not_keyed counts plain functions and their downstream",
          "[engine][disk-cache]") {
  const TempDir tmp;
  for (const bool with_disk : {false, true}) {
    std::vector<std::string> warnings;
    dagflow::ExecutorOptions options{.threads = 1,
                                     .log = [&](std::string_view w) { warnings.emplace_back(w); }};
    if (with_disk) options.cache_dir = tmp.path() / "cache";
    dagflow::Executor ex(options);
    dagflow::Graph g;
    auto plain = g.delayed(dc_square, 3L);                             // no op: no key
    auto named = g.delayed(dagflow::op("dc add", dc_add), plain, 1L);  // downstream of it
    auto keyed = g.delayed(dagflow::op("dc load", dc_load), 2L);
    auto impure = g.delayed(dagflow::op("dc square", dc_square), keyed);
    g.set_impure(impure);
    auto total = g.delayed(dagflow::op("dc add", dc_add), named, impure);
    CHECK(ex.compute(total) == 10 + 400);
    CHECK(ex.last_run_stats().not_keyed == 2);
    CHECK(warnings.size() == (with_disk ? 1U : 0U));
  }
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

// An entry answers only for its own key: another key's valid entry copied over it (same type,
// intact checksums) is a miss with a warning, never a wrong answer, and it is replaced.
TEST_CASE("DiskCache: an entry copied over another key's is recomputed, not trusted",
          "[engine][disk-cache][errors]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  const auto keys_of = [&](long start) {
    dagflow::Graph g;
    auto target = pipeline(g, start);
    const auto keys = dagflow::task_keys(g);
    (void)dagflow::Executor({.cache_dir = root}).compute(target);
    return *keys[target.id()];
  };
  const dagflow::Hash128 key1 = keys_of(1);  // 1*10 squared + 70 squared = 5000
  const dagflow::Hash128 key2 = keys_of(2);  // 2*10 squared + 70 squared = 5300
  const auto entry = [&](const dagflow::Hash128& k) {
    const std::string hex = k.to_hex();
    return root / hex.substr(0, 2) / (hex + ".entry");
  };
  write_file(entry(key1), read_file(entry(key2)));

  std::vector<std::string> warnings;
  for (int run = 0; run < 2; ++run) {  // the second run hits the replaced entry
    dagflow::Graph g;
    dagflow::Executor ex({.threads = 1, .cache_dir = root, .log = [&](std::string_view w) {
                            warnings.emplace_back(w);
                          }});
    CHECK(ex.compute(pipeline(g, 1)) == 5000);
  }
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("not of its own"));
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
  static std::atomic<int> item_runs{0};  // static: the op's lambda captures nothing, so is keyed
  item_runs = 0;
  auto run = [&](int changed) {
    std::vector<long> xs(1000);
    for (int i = 0; i < 1000; ++i) xs[static_cast<std::size_t>(i)] = i == changed ? -1 : i;
    dagflow::Graph g;
    auto ys = dagflow::map(g,
                           dagflow::op("dc triple",
                                       [](long x) {
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
  CHECK(st1.items_executed == 1000);
  CHECK(st1.items_cached == 0);
  item_runs = 0;
  auto [second, st2] = run(500);
  CHECK(second == first - 3 * 500 - 3);
  CHECK(item_runs == 1);
  CHECK(st2.items_executed == 1);
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
  static std::atomic<int> reads{0};  // static: the op's lambda captures nothing, so is keyed
  reads = 0;
  auto run = [&] {
    dagflow::Graph g;
    auto size = g.delayed(dagflow::op("dc file size",
                                      [](const dagflow::File& f) {
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

// DiskCache::open never creates a cache; a real one can be looked at and tidied by key.
TEST_CASE("DiskCache: open, stats, contains, erase, prune and clear", "[engine][disk-cache]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  CHECK_FALSE(dagflow::DiskCache::open(root).has_value());
  CHECK_FALSE(fs::exists(root));

  fs::create_directory(root);
  ::chmod(root.c_str(), 0700);
  std::optional<dagflow::DiskCache> empty = dagflow::DiskCache::open(root);
  REQUIRE(empty.has_value());
  CHECK(empty->stats().entries == 0);

  dagflow::Graph g;
  auto target = pipeline(g, 1);
  const auto keys = dagflow::task_keys(g);
  (void)dagflow::Executor({.cache_dir = root}).compute(target);
  std::optional<dagflow::DiskCache> cache = dagflow::DiskCache::open(root);
  REQUIRE(cache.has_value());
  CHECK(cache->path() == root);
  const dagflow::CacheStats full = cache->stats();
  CHECK(full.entries == 5);
  CHECK(full.bytes > 5 * 64);
  const dagflow::Hash128 target_key = *keys[target.id()];
  CHECK(cache->contains(target_key));
  CHECK_FALSE(cache->contains(dagflow::Hash128{1, 2}));

  const dagflow::Hash128 gone[] = {target_key, dagflow::Hash128{1, 2}};
  CHECK(cache->erase(gone) == 1);  // the unknown key removes nothing
  CHECK_FALSE(cache->contains(target_key));
  CHECK(cache->stats().entries == 4);

  const dagflow::CacheStats pruned = cache->prune(full.bytes / 2);
  CHECK(pruned.bytes <= full.bytes / 2);
  CHECK(cache->stats().entries == pruned.entries);
  cache->clear();
  CHECK(cache->stats().entries == 0);
  CHECK(fs::is_directory(root));  // cleared, not removed
}

TEST_CASE("DiskCache: open refuses what the Executor refuses", "[engine][disk-cache][errors]") {
  const TempDir tmp;
  const fs::path open_to_all = tmp.path() / "open";
  fs::create_directory(open_to_all);
  ::chmod(open_to_all.c_str(), 0777);
  CHECK_THROWS_AS(dagflow::DiskCache::open(open_to_all), std::invalid_argument);
  const fs::path link = tmp.path() / "link";
  fs::create_directory_symlink(tmp.path() / "elsewhere", link);  // dangling: still a symlink
  CHECK_THROWS_AS(dagflow::DiskCache::open(link), std::invalid_argument);
  write_file(tmp.path() / "file", "x");
  CHECK_THROWS_AS(dagflow::DiskCache::open(tmp.path() / "file"), std::invalid_argument);
}

// set_refresh: the task runs although cached, its result is stored again, and what it feeds is
// looked up as usual; with parts_too a map recomputes its blocks, without it finds them.
TEST_CASE("Graph::set_refresh: runs a cached task again and stores it", "[engine][disk-cache]") {
  TempDir dir;
  fill_cache(dir.path());
  dagflow::Graph g;
  const auto out = pipeline(g, 1);
  g.set_refresh(out);
  g_runs = 0;
  dagflow::Executor ex({.cache_dir = dir.path()});
  CHECK(ex.compute(out) == 5000);
  CHECK(g_runs == 1);  // add alone: its inputs came from the cache
  CHECK(ex.last_run_stats().disk_writes == 1);

  dagflow::Graph m;
  std::vector<long> items{1, 2, 3};
  const auto squares = dagflow::map(m, dagflow::op("dc square", dc_square), items);
  (void)dagflow::Executor({.cache_dir = dir.path()}).compute(squares);
  SECTION("parts too") {
    m.set_refresh(squares);
    g_runs = 0;
    dagflow::Executor again({.cache_dir = dir.path()});
    CHECK(again.compute(squares) == std::vector<long>{1, 4, 9});
    CHECK(g_runs == 3);
    CHECK(again.last_run_stats().items_executed == 3);
  }
  SECTION("not the parts") {
    m.set_refresh(squares, /*parts_too=*/false);
    g_runs = 0;
    dagflow::Executor again({.cache_dir = dir.path()});
    CHECK(again.compute(squares) == std::vector<long>{1, 4, 9});
    CHECK(g_runs == 0);
    CHECK(again.last_run_stats().items_cached == 3);
  }
}

namespace {
// Keeps the block keys each map task reports.
class BlockKeys final : public dagflow::RunObserver {
 public:
  void on_task(const dagflow::TaskEvent& event) override {
    const std::lock_guard lock(mutex_);
    keys.insert(keys.end(), event.block_keys.begin(), event.block_keys.end());
  }
  std::vector<dagflow::Hash128> keys;

 private:
  std::mutex mutex_;
};
}  // namespace

// TaskEvent::block_keys names a map's per-block entries; DiskCache::stats(keys) and erase find
// them; load and store keep a front end's own values beside the tasks'.
TEST_CASE("DiskCache: block keys of maps, stats of some keys, load and store",
          "[engine][disk-cache]") {
  TempDir dir;
  dagflow::Graph g;
  std::vector<long> items{1, 2, 3, 4};
  const auto squares = dagflow::map(g, dagflow::op("dc square", dc_square), items);
  auto keys = std::make_shared<BlockKeys>();
  (void)dagflow::Executor({.cache_dir = dir.path(), .observers = {keys}}).compute(squares);
  REQUIRE(keys->keys.size() == 4);  // one item per block at this size
  auto cache = dagflow::DiskCache::open(dir.path());
  REQUIRE(cache);
  const dagflow::CacheStats blocks = cache->stats(keys->keys);
  CHECK(blocks.entries == 4);
  CHECK(blocks.bytes > 4 * 64);  // headers and payloads
  CHECK(cache->erase(keys->keys) == 4);
  CHECK(cache->stats(keys->keys).entries == 0);

  const dagflow::Hash128 mine{.low = 7, .high = 11};
  CHECK_FALSE(cache->load<std::string>(mine));
  CHECK(cache->store(mine, std::string("kept bytes")));
  CHECK(cache->load<std::string>(mine) == std::optional<std::string>("kept bytes"));
  CHECK_FALSE(cache->load<long>(mine));  // another type is a miss
}
