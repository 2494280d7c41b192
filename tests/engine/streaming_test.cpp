#include <dagflow/engine/streaming.hpp>
// (the header under test first: it must compile on its own)

// Tests of read_lines and read_chunks: the items they give, map and map_reduce over them at every
// thread count, the bound on blocks in memory, per-block cache entries after an append, an edit
// and an insertion, and their errors.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>

#include "engine/thread_cluster.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::test::TempDir;

// Lines of varying lengths (some empty, some with a \r), `count` of them, the last one without
// its newline; every 1000 bytes or so differ from all others (no two blocks are equal).
std::string make_text(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    if (i % 20 == 3) text += std::to_string(i);
    text += std::string(i % 97, static_cast<char>('a' + i % 26));
    if (i % 50 == 7) text += '\r';
    if (i + 1 < count) text += '\n';
  }
  return text;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a CRLF line
    lines.emplace_back(line);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return lines;
}

std::uint64_t bits_of(double x) {
  std::uint64_t b = 0;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// A value with every bit of its mantissa in play, so that any other order of sums shows.
double weight(std::string_view chunk) {
  double w = 0.1;
  for (const char c : chunk) w = w * 1.0000001 + static_cast<unsigned char>(c) * 1e-3;
  return w;
}

std::string copy_line(std::string_view line) { return std::string(line); }

}  // namespace

TEST_CASE("read_lines: every line without its newline, in order, at 1, 2 and 4 threads",
          "[engine][streaming]") {
  const TempDir tmp;
  const std::string text = make_text(60'000);  // ~2.9 MB: three blocks of lines
  const fs::path file = tmp.write("lines.txt", text);
  const std::size_t threads = GENERATE(1, 2, 4);
  dagflow::Graph g;
  auto lines = dagflow::map(g, copy_line, dagflow::read_lines(g, file));
  dagflow::Executor ex({.threads = threads});
  CHECK(ex.compute(lines) == lines_of(text));
  CHECK(ex.last_run_stats().items_executed == 60'000);
}

TEST_CASE("read_lines: an empty file has no lines, a lone newline one empty line",
          "[engine][streaming]") {
  const TempDir tmp;
  dagflow::Executor ex;
  for (const std::string text : {"", "\n", "a", "a\n\nb\n", "a\r\nb\r"}) {
    dagflow::Graph g;
    auto lines = dagflow::map(g, copy_line, dagflow::read_lines(g, tmp.write("t.txt", text)));
    CHECK(ex.compute(lines) == lines_of(text));
  }
}

TEST_CASE("read_chunks: chunks of at least `bytes` that end at a newline and make the file",
          "[engine][streaming]") {
  const TempDir tmp;
  const std::string text = make_text(5'000);
  const fs::path file = tmp.write("chunks.txt", text);
  dagflow::Graph g;
  auto chunks = dagflow::map(g, copy_line, dagflow::read_chunks(g, file, 1000));
  dagflow::Executor ex({.threads = 2});
  const std::vector<std::string> got = ex.compute(chunks);
  REQUIRE(got.size() > 100);
  std::string joined;
  for (std::size_t i = 0; i < got.size(); ++i) {
    joined += got[i];
    if (i + 1 < got.size()) {
      CHECK(got[i].size() >= 1000);
      CHECK(got[i].back() == '\n');
      CHECK(got[i].find('\n', 999) == got[i].size() - 1);  // the first newline past 1000 bytes
    }
  }
  CHECK(joined == text);
  CHECK_THROWS_AS(dagflow::read_chunks(g, file, 0), std::invalid_argument);
}

// Streamed blocks fold in reduce's tree: the bits of map_reduce over the same chunks in memory
// (under 1024 chunks, a block of reduce is one chunk), whatever the thread count.
TEST_CASE("map_reduce over read_chunks: the bits of map_reduce over the chunks in memory",
          "[engine][streaming]") {
  const TempDir tmp;
  const std::string text = make_text(20'000);
  const fs::path file = tmp.write("w.txt", text);
  std::vector<std::string> chunks;
  {
    dagflow::Graph g;
    chunks = dagflow::Executor().compute(
        dagflow::map(g, copy_line, dagflow::read_chunks(g, file, 3000)));
  }
  REQUIRE(chunks.size() > 100);
  REQUIRE(chunks.size() < 1024);
  dagflow::Graph g;
  auto expected_task = dagflow::map_reduce(
      g, [](const std::string& c) { return weight(c); }, std::plus<>{}, 0.5, chunks);
  const double expected = dagflow::Executor({.threads = 1}).compute(expected_task);
  const std::size_t threads = GENERATE(1, 2, 4);
  dagflow::Executor ex({.threads = threads});
  auto streamed =
      dagflow::map_reduce(g, weight, std::plus<>{}, 0.5, dagflow::read_chunks(g, file, 3000));
  CHECK(bits_of(ex.compute(streamed)) == bits_of(expected));
  auto lines = dagflow::map_reduce(
      g, [](std::string_view l) { return l.size() + 1; }, std::plus<>{}, std::size_t{0},
      dagflow::read_lines(g, file));
  std::size_t expected_size = 0;
  for (const std::string& line : lines_of(text)) expected_size += line.size() + 1;
  CHECK(ex.compute(lines) == expected_size);
}

// ChunkOptions::any_order: each block's result joins one running total as it is ready. Results
// here are lists of chunk indices, merged by concatenation, and every merge is recorded: at one
// thread a running total is always the left operand, starting at chunk 0, whereas the tree also
// joins two later subtrees (folds inside a block add one chunk at a time either way).
TEST_CASE("any_order over a streamed file: one running total, the same result",
          "[engine][streaming]") {
  using Indices = std::vector<std::size_t>;
  const TempDir tmp;
  const std::string text = make_text(20'000);
  const fs::path file = tmp.write("any.txt", text);
  static std::map<std::string, std::size_t, std::less<>> index_of;
  static std::mutex m;
  static std::vector<std::pair<std::size_t, std::size_t>> merges;  // (a's first, b's size)
  index_of.clear();
  {
    dagflow::Graph g;
    const std::vector<std::string> chunks = dagflow::Executor().compute(
        dagflow::map(g, copy_line, dagflow::read_chunks(g, file, 3000)));
    for (std::size_t i = 0; i < chunks.size(); ++i) index_of.emplace(chunks[i], i);
    REQUIRE(index_of.size() == chunks.size());  // no two chunks alike
  }
  const auto one = [](std::string_view chunk) { return Indices{index_of.find(chunk)->second}; };
  const auto merge = [](Indices a, const Indices& b) {
    if (!a.empty()) {  // empty: init, joined to the total at the end
      const std::lock_guard lock(m);
      merges.emplace_back(a.front(), b.size());
    }
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const auto run = [&](std::size_t threads, bool any_order) {
    merges.clear();
    dagflow::Graph g;
    auto all = dagflow::map_reduce(g, one, merge, Indices{}, dagflow::read_chunks(g, file, 3000),
                                   {.any_order = any_order});
    Indices got = dagflow::Executor({.threads = threads}).compute(all);
    std::sort(got.begin(), got.end());
    return got;
  };
  const auto joins_later_subtrees = [] {
    return std::any_of(merges.begin(), merges.end(),
                       [](const auto& ab) { return ab.first != 0 && ab.second > 1; });
  };
  const Indices tree = run(1, false);
  REQUIRE(tree.size() == index_of.size());
  CHECK(joins_later_subtrees());
  CHECK(run(1, true) == tree);
  CHECK_FALSE(joins_later_subtrees());
  const std::size_t threads = GENERATE(2, 4);
  CHECK(run(threads, true) == tree);
  // A sum, which any order gives exactly: every line's length.
  dagflow::Graph g;
  auto total =
      dagflow::map_reduce(g, [](std::string_view l) { return l.size(); }, std::plus<>{},
                          std::size_t{0}, dagflow::read_lines(g, file), {.any_order = true});
  std::size_t expected = 0;
  for (const std::string& line : lines_of(text)) expected += line.size();
  CHECK(dagflow::Executor({.threads = threads}).compute(total) == expected);
}

// RunningTotal, any_order's merger: while the merger is behind, the partials alive stay bounded
// (the total, the few left for the merger, and two per adding thread: its own and one it took to
// merge). Parts count themselves; a merge into a large total is slow, so the merger falls behind.
struct CountedPart {
  static inline std::atomic<int> alive{0};
  static inline std::atomic<int> peak{0};
  std::vector<int> values;

  explicit CountedPart(int v) : values{v} { note(+1); }
  CountedPart(CountedPart&& other) noexcept : values(std::move(other.values)) {
    other.values.clear();
  }
  CountedPart& operator=(CountedPart&& other) noexcept {
    if (!values.empty()) note(-1);
    values = std::move(other.values);
    other.values.clear();
    return *this;
  }
  CountedPart(const CountedPart&) = delete;
  CountedPart& operator=(const CountedPart&) = delete;
  ~CountedPart() {
    if (!values.empty()) note(-1);
  }

 private:
  static void note(int change) {
    const int now = alive.fetch_add(change) + change;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
};

TEST_CASE("RunningTotal bounds the partials alive while its merger is behind",
          "[engine][streaming]") {
  const int threads = GENERATE(1, 4);
  constexpr int kPerThread = 300;
  CountedPart::alive = 0;
  CountedPart::peak = 0;
  const auto op = [](CountedPart a, CountedPart b) {
    if (a.values.size() > 8) {  // a merge into the total: slower than making a part
      volatile std::uint64_t spin = 0;
      for (int i = 0; i < 20'000; ++i) spin = spin + static_cast<std::uint64_t>(i);
    }
    a.values.insert(a.values.end(), b.values.begin(), b.values.end());
    return a;  // b, destroyed, is no longer alive
  };
  dagflow::detail::RunningTotal<CountedPart> running;
  std::vector<std::thread> adders;
  for (int t = 0; t < threads; ++t) {
    adders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) running.add(CountedPart(t * kPerThread + i), op);
    });
  }
  for (std::thread& adder : adders) adder.join();
  std::optional<CountedPart> total = std::move(running).take();
  REQUIRE(total);
  std::vector<int> got = total->values;
  std::sort(got.begin(), got.end());
  std::vector<int> expected(static_cast<std::size_t>(threads * kPerThread));
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(got == expected);
  total.reset();
  CHECK(CountedPart::alive == 0);
  CHECK(CountedPart::peak <= 3 + 2 * threads);
}

// A part added while another thread merges is left for that thread, which merges it into the
// total as op(total, part): the total is never the right operand (for a map of counts, merging
// the large total into a small part would copy most of it).
TEST_CASE("RunningTotal merges a part added meanwhile into the total, on the left",
          "[engine][streaming]") {
  using Part = std::vector<int>;
  std::atomic<bool> merging{false};
  std::atomic<bool> added{false};
  std::mutex m;
  std::vector<std::size_t> right_sizes;
  const auto op = [&](Part a, const Part& b) {
    {
      const std::lock_guard lock(m);
      right_sizes.push_back(b.size());
    }
    if (a.size() == 10) {  // the merge of part 100: hold it until part 200 has been added
      merging = true;
      while (!added) std::this_thread::yield();
    }
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  dagflow::detail::RunningTotal<Part> running;
  for (int i = 0; i < 10; ++i) running.add(Part{i}, op);
  std::thread merger([&] { running.add(Part{100}, op); });
  while (!merging) std::this_thread::yield();
  running.add(Part{200}, op);  // returns at once: the merger takes it
  added = true;
  merger.join();
  const std::optional<Part> total = std::move(running).take();
  REQUIRE(total);
  CHECK(total->size() == 12);
  CHECK(total->back() == 200);
  CHECK(std::all_of(right_sizes.begin(), right_sizes.end(), [](std::size_t n) { return n == 1; }));
}

// At most about twice as many blocks as workers are read and not yet done, however many blocks
// the file has and however slow the items.
TEST_CASE("streaming holds a bounded number of blocks in memory", "[engine][streaming]") {
  const TempDir tmp;
  const fs::path file = tmp.write("many.txt", make_text(40'000));  // ~400 chunks of 5000 bytes
  const std::size_t threads = GENERATE(1, 2);
  (void)dagflow::detail::take_stream_peak_blocks();
  dagflow::Graph g;
  auto sizes = dagflow::map(
      g, [](std::string_view chunk) { return chunk.size(); }, dagflow::read_chunks(g, file, 5000));
  dagflow::Executor ex({.threads = threads});
  CHECK(ex.compute(sizes).size() > 300);
  const std::size_t peak = dagflow::detail::take_stream_peak_blocks();
  CHECK(peak >= 1);
  CHECK(peak <= 2 * threads + 1);
}

namespace {

std::size_t count_a(std::string_view chunk) {
  return static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), 'a'));
}

struct Counts {
  std::size_t computed;
  std::size_t cached;
  std::size_t total;
};

// The number of 'a's in the file (a keyed map_reduce, then a keyed map summed), with what ran.
Counts run_counts(const fs::path& file, const fs::path& cache, bool use_map) {
  dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = cache});
  dagflow::Graph g;
  auto source = dagflow::read_chunks(g, file, 4000);
  const auto count = dagflow::op("st_count_a", count_a);
  std::size_t total = 0;
  if (use_map) {
    for (const std::size_t n : ex.compute(dagflow::map(g, count, source))) total += n;
  } else {
    total = ex.compute(dagflow::map_reduce(g, count, dagflow::op("st_add", std::plus<>{}),
                                           std::size_t{0}, source));
  }
  return {ex.last_run_stats().items_executed, ex.last_run_stats().items_cached, total};
}

}  // namespace

TEST_CASE("streamed blocks are cached by content: append, same-length edit, insertion",
          "[engine][streaming][cache]") {
  const TempDir tmp;
  const bool use_map = GENERATE(false, true);
  const fs::path file = tmp.path() / "text.txt";
  const fs::path cache = tmp.path() / "cache";
  std::string text = make_text(10'000);  // ~120 chunks
  dagflow::test::write_file(file, text);
  const Counts cold = run_counts(file, cache, use_map);
  CHECK(cold.cached == 0);
  CHECK(cold.total == count_a(text));
  const std::size_t chunks = cold.computed;
  REQUIRE(chunks > 100);
  REQUIRE(chunks < 150);

  SECTION("appending reruns the tail only") {
    text += "\naaaa\nbbbb";
    dagflow::test::write_file(file, text);
    const Counts warm = run_counts(file, cache, use_map);
    CHECK(warm.total == count_a(text));
    CHECK(warm.computed == 1);  // the old last chunk, now longer
    CHECK(warm.cached == chunks - 1);
  }
  SECTION("a same-length edit reruns its block") {
    text[text.size() / 2] = text[text.size() / 2] == 'a' ? 'b' : 'a';
    dagflow::test::write_file(file, text);
    const Counts warm = run_counts(file, cache, use_map);
    CHECK(warm.total == count_a(text));
    CHECK(warm.computed == 1);
  }
  SECTION("an insertion reruns from its block on") {
    text.insert(text.size() - 3000, "aaa");
    dagflow::test::write_file(file, text);
    const Counts warm = run_counts(file, cache, use_map);
    CHECK(warm.total == count_a(text));
    CHECK(warm.computed >= 1);
    CHECK(warm.computed <= 3);
    CHECK(warm.cached + warm.computed >= chunks);
  }
  SECTION("unchanged, the whole task comes from the cache") {
    const Counts warm = run_counts(file, cache, use_map);
    CHECK(warm.total == cold.total);
    CHECK(warm.computed == 0);
  }
}

namespace {

// A count whose loads from the cache are counted, and can be made to fail.
std::atomic<std::size_t> g_tally_loads{0};
std::atomic<bool> g_tally_loads_fail{false};

struct Tally {
  std::uint64_t n = 0;
  template <class Archive>
  void save(Archive& ar) const {
    ar(n);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(n);
    g_tally_loads.fetch_add(1);
    if (g_tally_loads_fail.load()) throw dagflow::Error("a stored Tally that does not load");
  }
};

Tally tally_a(std::string_view chunk) { return Tally{count_a(chunk)}; }
Tally add_tallies(Tally a, const Tally& b) { return Tally{a.n + b.n}; }

// The 'a's of the file by a keyed map_reduce into Tallies, with how many blocks ran and how many
// Tallies were loaded.
struct TallyRun {
  std::uint64_t total;
  std::size_t computed;
  std::size_t loads;
};
TallyRun run_tallies(const fs::path& file, const fs::path& cache) {
  g_tally_loads = 0;
  dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = cache});
  dagflow::Graph g;
  auto total = dagflow::map_reduce(g, dagflow::op("st_tally_a", tally_a),
                                   dagflow::op("st_add_tallies", add_tallies), Tally{},
                                   dagflow::read_chunks(g, file, 4000));
  const Tally t = ex.compute(total);
  return {t.n, ex.last_run_stats().items_executed, g_tally_loads.load()};
}

}  // namespace

// The tree that merges the blocks' results stores its nodes of 8 blocks and more: a re-run after
// an append loads a few of them rather than every block's result.
TEST_CASE("a streamed map_reduce re-run after an append loads the merge tree's large nodes",
          "[engine][streaming][cache]") {
  const TempDir tmp;
  const fs::path file = tmp.path() / "text.txt";
  const fs::path cache = tmp.path() / "cache";
  std::string text = make_text(10'000);  // ~120 chunks
  dagflow::test::write_file(file, text);
  const TallyRun cold = run_tallies(file, cache);
  CHECK(cold.total == count_a(text));
  CHECK(cold.loads == 0);
  REQUIRE(cold.computed > 100);

  text += "\naaaa\nbbbb";
  dagflow::test::write_file(file, text);
  SECTION("the tree's stored nodes are found") {
    const TallyRun warm = run_tallies(file, cache);
    CHECK(warm.total == count_a(text));
    CHECK(warm.computed == 1);
    // ~120 blocks: a node of 64, 32, 16 and 8 blocks, then at most 7 blocks before the last.
    CHECK(warm.loads <= 4 + 7);
    const TallyRun again = run_tallies(file, cache);  // the whole task's entry
    CHECK(again.total == warm.total);
    CHECK(again.computed == 0);
  }
  SECTION("stored results that do not load are recomputed") {
    g_tally_loads_fail = true;
    const TallyRun warm = run_tallies(file, cache);
    g_tally_loads_fail = false;
    CHECK(warm.total == count_a(text));
    CHECK(warm.computed >= cold.computed);
  }
}

TEST_CASE("streaming errors: a missing file, a failing line named by its index",
          "[engine][streaming][errors]") {
  const TempDir tmp;
  dagflow::Executor ex({.threads = 2});
  {
    dagflow::Graph g;
    auto lines = dagflow::map(g, copy_line, dagflow::read_lines(g, tmp.path() / "missing.txt"));
    CHECK_THROWS_WITH(ex.compute(lines), Catch::Contains("missing.txt") &&
                                             Catch::Contains("No such file or directory"));
  }
  {
    std::string text;
    for (int i = 0; i < 100'000; ++i) text += (i == 54'321 ? "bad\n" : "good\n");
    const fs::path file = tmp.write("bad.txt", text);
    dagflow::Graph g;
    auto checked = dagflow::map(
        g,
        [](std::string_view line) {
          if (line == "bad") throw std::runtime_error("a bad line");
          return 1;
        },
        dagflow::read_lines(g, file));
    CHECK_THROWS_WITH(ex.compute(checked),
                      Catch::Contains("item 54321") && Catch::Contains("a bad line"));
    auto folded = dagflow::map_reduce(
        g,
        [](std::string_view line) {
          if (line == "bad") throw std::runtime_error("a bad line");
          return 1;
        },
        std::plus<>{}, 0, dagflow::read_lines(g, file));
    CHECK_THROWS_WITH(ex.compute(folded), Catch::Contains("item 54321"));
  }
}

TEST_CASE("map and map_reduce over read_chunks across 2 and 3 ranks: the results of one process",
          "[cluster][streaming]") {
  const TempDir tmp;
  const std::string text = make_text(20'000);
  const fs::path file = tmp.write("ranks.txt", text);
  const auto compute = [&](dagflow::Executor& ex) {
    dagflow::Graph g;
    auto source = dagflow::read_chunks(g, file, 3000);
    auto total = ex.compute(dagflow::map_reduce(g, weight, std::plus<>{}, 0.5, source));
    auto each = ex.compute(dagflow::map(g, copy_line, source));
    return std::make_pair(bits_of(total), each);
  };
  dagflow::Executor alone({.threads = 1});
  const auto expected = compute(alone);
  for (std::size_t ranks : {2, 3}) {
    dagflow::test::ThreadCluster cluster(ranks);
    std::mutex m;
    std::vector<std::pair<std::uint64_t, std::vector<std::string>>> got;
    cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
      dagflow::Executor ex({.threads = 1, .cluster = std::move(c)});
      auto r = compute(ex);
      const std::lock_guard lock(m);
      got.push_back(std::move(r));
    });
    REQUIRE(got.size() == ranks);
    for (const auto& r : got) {
      CHECK(r.first == expected.first);
      CHECK(r.second == expected.second);
    }
  }
}
