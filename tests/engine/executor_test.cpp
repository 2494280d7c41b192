#include <dagflow/engine/executor.hpp>

// Tests of Executor::compute on the delayed API: the values it computes, shared work done once,
// culling, argument passing, results handed over without copies, intermediates freed after
// their last reader, and task fusion.
#include <atomic>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/keys.hpp>

#include "counting_value.hpp"

namespace {
int square(int x) { return x * x; }
int add(int a, int b) { return a + b; }
int sum(std::vector<int> v) { return std::accumulate(v.begin(), v.end(), 0); }
std::size_t length(const std::string& s) { return s.size(); }
std::size_t c_length(const char* s) { return std::strlen(s); }

using dagflow::test::Counted;
using dagflow::test::Counters;
}  // namespace

// The program of the package consumer test (tests/package/consumer/main.cpp): every value its
// comments promise holds, at every thread count, with and without the memory cache.
TEST_CASE("Executor: the delayed API computes the documented values", "[engine][compute]") {
  const std::size_t threads = GENERATE(0, 1, 2, 4);
  dagflow::Graph g;
  dagflow::Delayed<int> a = g.delayed(square, 3);
  auto b = g.delayed(add, a, 4);
  std::vector<dagflow::Delayed<int>> parts;
  for (int i = 0; i < 100; ++i) parts.push_back(g.delayed(square, i));
  auto s = g.delayed(sum, parts);
  auto n = g.delayed(dagflow::op("square", square), 5);
  dagflow::ExecutorOptions opts;
  opts.threads = threads;
  dagflow::Executor ex(opts);

  CHECK(ex.compute(b) == 13);
  CHECK(ex.last_run_stats().executed == 2);
  auto [x, y] = ex.compute(a, s);
  CHECK(x == 9);
  CHECK(y == 328350);
  const dagflow::RunStats st = ex.last_run_stats();
  // The 100 squares and the sum ran, and `a`: it was computed for `b`, but a task that cheap is
  // recomputed rather than kept by the memory cache (which keeps targets, and results of tasks
  // that ran for 2 us or more: a preempted `a` may have been kept).
  CHECK(st.executed + st.memory_hits == 102);
  CHECK(st.executed >= 101);
  CHECK(st.tasks == 102);
  CHECK(st.threads == (threads == 0 ? ex.options().threads : threads));
  CHECK(ex.compute(n) == 25);

  // Without the memory cache, that compute runs all 102 bodies: shared work still done once.
  dagflow::Executor uncached({.threads = threads, .memory_cache_bytes = 0});
  CHECK(uncached.compute(b) == 13);
  CHECK(uncached.compute(a, s) == std::tuple{9, 328350});
  CHECK(uncached.last_run_stats().executed == 102);
  CHECK(uncached.last_run_stats().memory_hits == 0);
}

// Each task runs once per compute() even when many targets and consumers share it.
TEST_CASE("Executor: shared upstream runs once per compute", "[engine][compute]") {
  dagflow::Graph g;
  std::atomic<int> calls{0};
  auto root = g.delayed([&calls] { return ++calls; });
  auto l = g.delayed(add, root, 1);
  auto r = g.delayed(add, root, 2);
  auto both = g.delayed(add, l, r);
  dagflow::Executor ex;
  auto [x, y, z] = ex.compute(l, both, root);
  CHECK(calls == 1);
  CHECK(x == 2);
  CHECK(y == 5);
  CHECK(z == 1);
  CHECK(ex.compute(both) == 5);  // kept by the memory cache: nothing runs again
  CHECK(calls == 1);
  CHECK(ex.last_run_stats().executed == 0);
  dagflow::Executor uncached({.memory_cache_bytes = 0});
  CHECK(uncached.compute(both) == 7);  // without it, a new compute runs everything again
  CHECK(calls == 2);
}

// Only what the targets need runs.
TEST_CASE("Executor: culls tasks the targets do not need", "[engine][compute]") {
  dagflow::Graph g;
  std::atomic<int> unneeded{0};
  auto a = g.delayed(square, 2);
  auto skip = g.delayed([&unneeded](int x) { return ++unneeded + x; }, a);
  (void)skip;
  auto b = g.delayed(square, a);
  dagflow::Executor ex;
  CHECK(ex.compute(b) == 16);
  CHECK(unneeded == 0);
  CHECK(ex.last_run_stats().tasks == 2);
}

// Literal, Delayed and vector<Delayed> arguments; zero arguments; const& and by-value params.
TEST_CASE("Executor: passes literal, Delayed and vector arguments by value or by const&",
          "[engine][compute]") {
  dagflow::Graph g;
  std::string text = "abc";
  auto literal = g.delayed([](const std::string& s) { return s + "!"; }, text);
  text = "changed";
  auto none = g.delayed([] { return std::string("x"); });
  auto joined = g.delayed([](std::string a, const std::string& b) { return a + b; }, literal, none);
  std::vector<dagflow::Delayed<std::string>> list{literal, none, joined};
  auto count = g.delayed(
      [](const std::vector<std::string>& v) {
        std::size_t total = 0;
        for (const auto& s : v) total += s.size();
        return total;
      },
      list);
  auto empty_list =
      g.delayed([](std::vector<int> v) { return v.size(); }, std::vector<dagflow::Delayed<int>>{});
  dagflow::Executor ex;
  auto [l, j, c, e] = ex.compute(literal, joined, count, empty_list);
  CHECK(l == "abc!");
  CHECK(j == "abc!x");
  CHECK(c == 4 + 1 + 5);
  CHECK(e == 0);
}

// Move-only and non-default-constructible results work, as targets and as inputs.
TEST_CASE("Executor: computes move-only and non-default-constructible results",
          "[engine][results]") {
  struct NoDefault {
    explicit NoDefault(int v) : value(v) {}
    int value;
  };
  dagflow::Graph g;
  auto p = g.delayed([](int x) { return std::make_unique<int>(x); }, 6);
  auto doubled =
      g.delayed([](const std::unique_ptr<int>& q) { return std::make_unique<int>(*q * 2); }, p);
  auto taken = g.delayed([](std::unique_ptr<int> q) { return NoDefault(*q + 1); }, doubled);
  dagflow::Executor ex;
  std::unique_ptr<int> out = ex.compute(doubled);
  CHECK(*out == 12);
  CHECK(ex.compute(taken).value == 13);
}

// A move-only result can be moved to one reader only. Every way of wanting it twice is refused
// by compute() before any task body runs, naming the producer and the reader.
TEST_CASE("Executor: move-only results wanted twice are a GraphError before anything runs",
          "[engine][results][errors]") {
  static std::atomic<int> bodies{0};
  bodies = 0;
  dagflow::Graph g;
  auto p = g.delayed([] { return ++bodies, std::make_unique<int>(6); });
  g.set_label(p, "box");
  const auto by_value = [](std::unique_ptr<int> q) { return ++bodies, *q; };
  const auto by_ref = [](const std::unique_ptr<int>& q) { return ++bodies, *q; };
  auto v1 = g.delayed(by_value, p);
  auto v2 = g.delayed(by_value, p);
  auto r1 = g.delayed(by_ref, p);
  auto twice =
      g.delayed([](std::unique_ptr<int> a, std::unique_ptr<int> b) { return *a + *b; }, p, p);
  const auto sum = [](int a, int b) { return a + b; };
  dagflow::Executor ex({.threads = 2});

  const auto refused = [&](auto&& compute) {
    try {
      compute();
    } catch (const dagflow::GraphError& e) {
      return std::string(e.what());
    }
    return std::string("no GraphError");
  };
  // two by-value readers
  CHECK_THAT(refused([&] { (void)ex.compute(g.delayed(sum, v1, v2)); }),
             Catch::Contains("task 'box'") && Catch::Contains("takes by value"));
  // one reader taking it twice
  CHECK_THAT(refused([&] { (void)ex.compute(twice); }), Catch::Contains("task 'box'"));
  // a by-value reader and a const& reader
  CHECK_THAT(refused([&] { (void)ex.compute(g.delayed(sum, v1, r1)); }),
             Catch::Contains("task 'box'"));
  // a by-value reader of a target
  CHECK_THAT(refused([&] { (void)ex.compute(p, v1); }),
             Catch::Contains("task 'box'") && Catch::Contains("task 'task#1' takes by value"));
  // the same target twice
  CHECK_THAT(refused([&] { (void)ex.compute(p, p); }),
             Catch::Contains("compute() (requested more than once)"));
  CHECK(bodies == 0);

  // One by-value reader, or any number of const& readers, is fine; so is a target that const&
  // readers also read (compute() takes it once they are done).
  CHECK(ex.compute(v1) == 6);
  auto [box, read] = ex.compute(p, r1);
  CHECK(*box == 6);
  CHECK(read == 6);
  CHECK(ex.compute(g.delayed(sum, r1, g.delayed(by_ref, p))) == 12);
}

// Results are stored once: const& readers share it, the last by-value reader gets it moved.
TEST_CASE("Executor: hands results over without copying", "[engine][results]") {
  const std::size_t threads = GENERATE(1, 2);
  Counters c;
  dagflow::Graph g;
  auto src = g.delayed([&c] { return Counted(c, 7); });
  std::vector<dagflow::Delayed<int>> readers;
  for (int i = 0; i < 10; ++i) {
    readers.push_back(g.delayed([](const Counted& v) { return v.value; }, src));
  }
  auto total = g.delayed(sum, readers);
  // The memory cache is off: it would keep `src` and hand out copies (see memory_cache_test).
  dagflow::Executor ex({.threads = threads, .memory_cache_bytes = 0});

  SECTION("const& readers share one stored value") {
    CHECK(ex.compute(total) == 70);
    CHECK(c.copies == 0);
  }
  SECTION("a sole by-value reader gets it moved") {
    auto mover = g.delayed([](Counted v) { return v.value; }, src);
    CHECK(ex.compute(mover) == 7);
    CHECK(c.copies == 0);
  }
  SECTION("a by-value reader copies while others still need it") {
    auto mover = g.delayed([](Counted v) { return v.value; }, src);
    auto [a, b] = ex.compute(mover, total);
    CHECK(a == 7);
    CHECK(b == 70);
    CHECK(c.copies <= 1);
  }
  SECTION("a target also read by a task is copied out, a lone target moved") {
    auto [v, t] = ex.compute(src, total);
    CHECK(v.value == 7);
    CHECK(t == 70);
    CHECK(c.copies == 0);  // by then the readers are done: the caller is the only holder
    Counted again = ex.compute(src);
    CHECK(c.copies == 0);
  }
  CHECK(c.live == 0);
}

// Intermediates are freed as soon as their last reader finishes; what the memory cache keeps
// stays within its budget.
TEST_CASE("Executor: frees each intermediate after its last reader", "[engine][memory]") {
  const bool fuse = GENERATE(true, false);
  const std::size_t threads = GENERATE(1, 2, 4);
  // The cache's budget in links: none, or room for 9 (a link is a little over kPayload bytes).
  const std::size_t budget_links = GENERATE(0, 10);
  // A chain far longer than the bound below, so that links kept too long are seen. The payload
  // stays within the sanitizer allocators' size classes: a 1 MiB block is a fresh mmap under
  // ASan (page-faulted anew each time, then held in quarantine), which made 1000 such links
  // take minutes on a loaded machine for no gain in what the test shows.
  constexpr int kLinks = 100;
  constexpr std::size_t kPayload = std::size_t{64} << 10;
  Counters c;
  dagflow::Graph g;
  auto link = g.delayed([&c] { return Counted(c, 0, kPayload); });
  for (int i = 1; i < kLinks; ++i) {
    link =
        g.delayed([&c](const Counted& prev) { return Counted(c, prev.value + 1, kPayload); }, link);
  }
  dagflow::Executor ex(
      {.threads = threads, .fuse_tasks = fuse, .memory_cache_bytes = budget_links * kPayload});
  CHECK(ex.compute(link).value == kLinks - 1);
  // Up to two links alive while one is being built, plus what the cache may keep.
  CHECK(c.peak_live <= 3 + static_cast<int>(budget_links));
  CHECK(ex.memory_cache_stats().bytes <= budget_links * kPayload);
  ex.clear_memory_cache();
  CHECK(c.live == 0);
}

// Large graphs are fused into few flow-graph nodes, and still give exact results.
TEST_CASE("Executor: fused and unfused runs agree on large graphs", "[engine][fusion]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  constexpr int kSide = 80;  // 6400-cell wavefront: above the level-fusion threshold
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> row(kSide);
  std::vector<std::vector<long>> expected(kSide, std::vector<long>(kSide));
  for (int i = 0; i < kSide; ++i) {
    for (int j = 0; j < kSide; ++j) {
      const long up = i > 0 ? expected[i - 1][j] : 1;
      const long left = j > 0 ? expected[i][j - 1] : 1;
      expected[i][j] = (up + left + i * j) % 1'000'003;
      auto cell = [i, j](long u, long l) { return (u + l + long{i} * j) % 1'000'003; };
      if (i == 0 && j == 0) {
        row[0] = g.delayed(cell, 1L, 1L);
      } else if (i == 0) {
        row[j] = g.delayed(cell, 1L, row[j - 1]);
      } else if (j == 0) {
        row[0] = g.delayed(cell, row[0], 1L);
      } else {
        row[j] = g.delayed(cell, row[j], row[j - 1]);
      }
    }
  }
  dagflow::Executor fused({.threads = threads});
  dagflow::Executor unfused({.threads = threads, .fuse_tasks = false});
  CHECK(fused.compute(row.back()) == expected.back().back());
  const dagflow::RunStats fs = fused.last_run_stats();
  CHECK(unfused.compute(row.back()) == expected.back().back());
  const dagflow::RunStats us = unfused.last_run_stats();
  CHECK(fs.executed == kSide * kSide);
  CHECK(us.executed == kSide * kSide);
  CHECK(us.flow_nodes == kSide * kSide);
  CHECK(fs.flow_nodes == 2 * kSide - 1);  // one node per anti-diagonal
}

// A compute() with targets in a vector returns their values in order.
TEST_CASE("Executor: compute of a vector of targets returns their values in order",
          "[engine][compute]") {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<int>> ts;
  for (int i = 0; i < 50; ++i) ts.push_back(g.delayed(square, i));
  ts.push_back(ts[3]);
  dagflow::Executor ex;
  const std::vector<int> out = ex.compute(ts);
  REQUIRE(out.size() == 51);
  for (int i = 0; i < 50; ++i) CHECK(out[static_cast<std::size_t>(i)] == i * i);
  CHECK(out.back() == 9);
  CHECK(ex.compute(std::vector<dagflow::Delayed<int>>{}).empty());
}

// Handles that cannot be computed are refused with std::invalid_argument.
TEST_CASE("Executor: refuses empty, foreign-mixed and orphaned targets", "[engine][errors]") {
  dagflow::Executor ex;
  dagflow::Graph g1;
  dagflow::Graph g2;
  auto a = g1.delayed(square, 2);
  auto b = g2.delayed(square, 3);
  CHECK_THROWS_AS(ex.compute(dagflow::Delayed<int>{}), std::invalid_argument);
  CHECK_THROWS_WITH(ex.compute(a, b), Catch::Contains("one Graph"));
  dagflow::Delayed<int> orphan;
  {
    dagflow::Graph gone;
    orphan = gone.delayed(square, 4);
  }
  CHECK_THROWS_AS(ex.compute(orphan), std::invalid_argument);
  CHECK(ex.compute(a) == 4);
}

// A string literal is stored as a std::string: no pointer into the caller's memory is kept, a
// `const char*` parameter gets the stored characters, and the key hashes them.
TEST_CASE("Executor: string literals are stored as std::string", "[engine][compute]") {
  dagflow::Graph g;
  auto a = g.delayed(length, "hello");
  auto b = g.delayed(c_length, "hello, world");
  auto c = g.delayed([](const auto& s) { return s.size(); }, "abc");  // generic: a std::string
  char buffer[] = "mutable";
  auto d = g.delayed(length, buffer);
  buffer[0] = 'M';  // the task keeps its own copy
  dagflow::Executor ex({.threads = 1});
  CHECK(ex.compute(a) == 5);
  CHECK(ex.compute(b) == 12);
  CHECK(ex.compute(c) == 3);
  CHECK(ex.compute(d) == 7);

  const std::string one = "same text";
  const std::string two = "same text";
  auto k1 = g.delayed(dagflow::op("ex length", length), one.c_str());
  auto k2 = g.delayed(dagflow::op("ex length", length), two.c_str());
  const auto keys = dagflow::task_keys(g);
  REQUIRE(keys[k1.id()].has_value());
  CHECK(keys[k1.id()] == keys[k2.id()]);  // the characters, not the address

  const char* null = nullptr;
  const std::size_t before = g.size();
  CHECK_THROWS_AS(g.delayed(c_length, null), std::invalid_argument);
  CHECK(g.size() == before);
}
