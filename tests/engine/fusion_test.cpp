#include <dagflow/engine/executor.hpp>

// Tests of map fusion (ExecutorOptions::fuse_maps): a chain of maps read by a map, reduce or
// map_reduce runs item by item inside its reader — the same results and the same bits as the
// unfused chain at every thread count; an intermediate that is a target or has another reader
// is made as usual; the fused map leaves nothing in the memory cache; failures name their item;
// per-block disk entries are keyed by the whole chain; streamed files and extras fuse too; and
// across ranks every rank gets one process's bits. Chains held in map's own handles (Mapped) are
// composed at compile time, per item; held as plain Delayed handles, read through the maps in
// batches: the same results and the same disk entries.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/streaming.hpp>

#include "support/temp_dir.hpp"
#include "thread_cluster.hpp"

namespace {

std::uint64_t bits_of(double x) {
  std::uint64_t b = 0;
  std::memcpy(&b, &x, sizeof x);
  return b;
}

std::vector<double> inputs(std::size_t n) {
  std::vector<double> xs(n);
  for (std::size_t i = 0; i < n; ++i)
    xs[i] = 1.0 / static_cast<double>(i + 1) + 0.001 * static_cast<double>(i % 7);
  return xs;
}

double h(double x) { return std::sqrt(x) * 1.25; }
double f(double x) { return x * x - 0.5 * x; }

// reduce(+, map(f, map(h, xs))) with or without fusion.
struct Chain {
  dagflow::Graph g;
  dagflow::Delayed<std::vector<double>> hs;
  dagflow::Delayed<std::vector<double>> fs;
  dagflow::Delayed<double> total;
  explicit Chain(std::size_t n) {
    hs = dagflow::map(g, dagflow::op("fusion h", h), inputs(n));
    fs = dagflow::map(g, dagflow::op("fusion f", f), hs);
    total = dagflow::reduce(g, dagflow::op("fusion sum", std::plus<>{}), 0.0, fs);
  }
};

// Counts the events of each outcome.
struct Outcomes : dagflow::RunObserver {
  std::mutex m;
  std::vector<dagflow::TaskOutcome> seen;
  void on_task(const dagflow::TaskEvent& e) override {
    const std::lock_guard lock(m);
    seen.push_back(e.outcome);
  }
  std::size_t count(dagflow::TaskOutcome o) {
    const std::lock_guard lock(m);
    return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), o));
  }
};

}  // namespace

TEST_CASE("fusion: a map chain into reduce has the unfused bits at 1, 2 and 4 threads",
          "[engine][fusion]") {
  constexpr std::size_t n = 300'007;
  dagflow::Executor plain({.threads = 1, .memory_cache_bytes = 0});
  dagflow::ExecutorOptions off{.threads = 1, .memory_cache_bytes = 0};
  off.fuse_maps = false;
  dagflow::Executor unfused(off);
  Chain reference(n);
  const double expected = unfused.compute(reference.total);
  CHECK(unfused.last_run_stats().fused == 0);
  const std::size_t threads = GENERATE(1, 2, 4);
  INFO(threads << " threads");
  dagflow::Executor ex({.threads = threads, .memory_cache_bytes = 0});
  Chain chain(n);
  const double got = ex.compute(chain.total);
  CHECK(bits_of(got) == bits_of(expected));
  const dagflow::RunStats stats = ex.last_run_stats();
  CHECK(stats.fused == 2);  // map(h) into map(f), map(f) into the reduce
  CHECK(stats.items_executed == n);
}

TEST_CASE("fusion: map of map gives the unfused vector, each function once per item",
          "[engine][fusion]") {
  static std::atomic<std::size_t> calls{0};
  calls = 0;
  const auto counted = [](double x) {
    ++calls;
    return x + 1;
  };
  const std::size_t threads = GENERATE(1, 2);
  dagflow::Graph g;
  auto a = dagflow::map(g, counted, inputs(10'001));
  auto b = dagflow::map(
      g, [](double x) { return x * 3; }, a);
  dagflow::Executor ex({.threads = threads});
  const std::vector<double> got = ex.compute(b);
  CHECK(ex.last_run_stats().fused == 1);
  CHECK(calls == 10'001);
  const std::vector<double> xs = inputs(10'001);
  REQUIRE(got.size() == xs.size());
  bool same = true;
  for (std::size_t i = 0; i < xs.size(); ++i) same = same && got[i] == (xs[i] + 1) * 3;
  CHECK(same);
}

TEST_CASE("fusion: map_reduce and extras on both maps fuse with the unfused result",
          "[engine][fusion]") {
  const auto build = [](dagflow::Graph& g) {
    auto scale = g.delayed([] { return 2.5; });
    auto a = dagflow::map(
        g, [](double x, double k) { return x * k; }, inputs(5000), scale);
    // A list of dependencies reaches the fused map as a vector of its own.
    std::vector<dagflow::Delayed<double>> offsets{g.delayed([] { return 0.25; }),
                                                  g.delayed([] { return 0.5; })};
    auto a2 = dagflow::map(
        g, [](double x, const std::vector<double>& o) { return x + o[0] - o[1]; }, a, offsets);
    auto b = dagflow::map(
        g, [](double x, int shift) { return x + shift; }, a2, 3);
    return dagflow::map_reduce(
        g, [](double x) { return std::floor(x * 1000); }, std::plus<>{}, 0.0, b);
  };
  dagflow::ExecutorOptions off{.threads = 2};
  off.fuse_maps = false;
  dagflow::Executor unfused(off);
  dagflow::Graph g1;
  const double expected = unfused.compute(build(g1));
  dagflow::Executor ex({.threads = 2});
  dagflow::Graph g2;
  const double got = ex.compute(build(g2));
  CHECK(bits_of(got) == bits_of(expected));
  CHECK(ex.last_run_stats().fused == 3);
}

TEST_CASE("fusion: a target or a second reader keeps the intermediate", "[engine][fusion]") {
  auto observer = std::make_shared<Outcomes>();
  dagflow::Executor ex({.threads = 2, .memory_cache_bytes = 0, .observers = {observer}});
  SECTION("the intermediate is a target") {
    Chain chain(1000);
    auto [hs, total] = ex.compute(chain.hs, chain.total);
    CHECK(hs.size() == 1000);
    CHECK(ex.last_run_stats().fused == 1);  // only map(f) into the reduce
    CHECK(observer->count(dagflow::TaskOutcome::kFused) == 1);
    (void)total;
  }
  SECTION("the intermediate has a second reader") {
    Chain chain(1000);
    auto count = chain.g.delayed([](const std::vector<double>& v) { return v.size(); }, chain.hs);
    auto [n, total] = ex.compute(count, chain.total);
    CHECK(n == 1000);
    CHECK(ex.last_run_stats().fused == 1);
    (void)total;
  }
  SECTION("the intermediate has an ordering-only reader") {
    Chain chain(1000);
    auto step = chain.g.delayed([] { return 1; });
    chain.g.after(step, chain.hs);
    auto [one, total] = ex.compute(step, chain.total);
    CHECK(one == 1);
    CHECK(ex.last_run_stats().fused == 1);
    (void)total;
  }
  SECTION("the intermediate has options") {
    Chain chain(1000);
    chain.g.set_options(chain.hs, {.retries = 1});
    (void)ex.compute(chain.total);
    CHECK(ex.last_run_stats().fused == 1);
  }
  SECTION("fuse_maps off") {
    dagflow::ExecutorOptions off{.threads = 2};
    off.fuse_maps = false;
    dagflow::Executor unfused(off);
    Chain chain(1000);
    (void)unfused.compute(chain.total);
    CHECK(unfused.last_run_stats().fused == 0);
    CHECK(unfused.last_run_stats().executed == 3);
  }
}

TEST_CASE("fusion: the memory cache keeps no fused intermediate", "[engine][fusion]") {
  static std::atomic<std::size_t> calls{0};
  calls = 0;
  dagflow::Graph g;
  auto a = dagflow::map(
      g,
      [](double x) {
        ++calls;
        return std::sqrt(x) + std::cbrt(x);
      },
      inputs(20'000));
  auto total = dagflow::reduce(g, std::plus<>{}, 0.0, a);
  dagflow::Executor ex({.threads = 2});
  const double first = ex.compute(total);
  CHECK(calls == 20'000);
  CHECK(ex.memory_cache_stats().entries == 1);  // the target only
  CHECK(ex.compute(total) == first);            // from the memory cache
  CHECK(calls == 20'000);
  const std::vector<double> values = ex.compute(a);  // never kept: computed now
  CHECK(values.size() == 20'000);
  CHECK(calls == 40'000);
}

TEST_CASE("fusion: map's handles compose the chain per item, plain Delayed ones per batch",
          "[engine][fusion]") {
  // Which function ran on which item, in order: one thread, one chunk at a time.
  static std::vector<std::string> calls;
  calls.clear();
  const auto traced = [](char name) {
    return [name](long x) {
      calls.push_back(std::string(1, name) + std::to_string(x));
      return x + 1;
    };
  };
  constexpr long n = 64'000;  // blocks of 64 items: the first starts the fold, then batches
  std::vector<long> xs(n);
  for (long i = 0; i < n; ++i) xs[static_cast<std::size_t>(i)] = 10 * i;
  dagflow::Graph g;
  auto hs = dagflow::map(g, traced('h'), xs);
  auto fs = dagflow::map(g, traced('f'), hs);
  auto typed = dagflow::reduce(g, std::plus<>{}, 0L, fs);
  const dagflow::Delayed<std::vector<long>> erased_hs = dagflow::map(g, traced('h'), xs);
  const dagflow::Delayed<std::vector<long>> erased_fs = dagflow::map(g, traced('f'), erased_hs);
  auto erased = dagflow::reduce(g, std::plus<>{}, 0L, erased_fs);
  dagflow::Executor ex({.threads = 1, .memory_cache_bytes = 0});
  const long expected = n * 2 + 10 * (n - 1) * n / 2;
  const auto h_calls = [](std::size_t from, std::size_t count) {
    return std::count_if(calls.begin() + static_cast<std::ptrdiff_t>(from),
                         calls.begin() + static_cast<std::ptrdiff_t>(from + count),
                         [](const std::string& c) { return c[0] == 'h'; });
  };

  CHECK(ex.compute(typed) == expected);
  CHECK(ex.last_run_stats().fused == 2);
  REQUIRE(calls.size() == 2 * n);
  CHECK(calls[0] == "h0");  // f(h(x)) item by item
  CHECK(calls[1] == "f1");
  CHECK(calls[2] == "h10");
  CHECK(calls[3] == "f11");
  CHECK(h_calls(2, 32) == 16);

  calls.clear();
  CHECK(ex.compute(erased) == expected);
  CHECK(ex.last_run_stats().fused == 2);
  REQUIRE(calls.size() == 2 * n);
  CHECK(calls[0] == "h0");  // the block's first item alone, then h over 32 items, f over them
  CHECK(calls[1] == "f1");
  CHECK(calls[2] == "h10");
  CHECK(calls[3] == "h20");
  CHECK(h_calls(2, 32) == 32);
}

TEST_CASE("fusion: a composed chain and one read through its maps share disk entries",
          "[engine][fusion][disk-cache]") {
  const dagflow::test::TempDir tmp;
  static std::atomic<std::size_t> calls{0};
  const auto h_op = dagflow::op("fusion shared h", [](long x) {
    ++calls;
    return 3 * x;
  });
  const auto f_op = dagflow::op("fusion shared f", [](long x) { return x - 1; });
  const auto sum = dagflow::op("fusion shared sum", std::plus<>{});
  std::vector<long> xs(5000);
  for (long i = 0; i < 5000; ++i) xs[static_cast<std::size_t>(i)] = i;
  const dagflow::ExecutorOptions options{.memory_cache_bytes = 0,
                                         .cache_dir = tmp.path() / "cache"};
  long composed = 0;
  {
    dagflow::Graph g;
    auto fs = dagflow::map(g, f_op, dagflow::map(g, h_op, xs));
    auto values = dagflow::map(g, f_op, dagflow::map(g, h_op, xs));  // a map as the reader
    dagflow::Executor ex(options);
    auto [total, got] = ex.compute(dagflow::reduce(g, sum, 0L, fs), values);
    composed = total;
    CHECK(got.size() == 5000);
    CHECK(got[4999] == 3 * 4999 - 1);
    CHECK(calls == 10'000);
  }
  calls = 0;
  dagflow::Graph g;
  const dagflow::Delayed<std::vector<long>> hs = dagflow::map(g, h_op, xs);
  const dagflow::Delayed<std::vector<long>> fs = dagflow::map(g, f_op, hs);
  const dagflow::Delayed<std::vector<long>> hs2 = dagflow::map(g, h_op, xs);
  const dagflow::Delayed<std::vector<long>> values = dagflow::map(g, f_op, hs2);
  dagflow::Executor ex(options);
  auto [total, got] = ex.compute(dagflow::reduce(g, sum, 0L, fs), values);
  CHECK(total == composed);
  CHECK(got[4999] == 3 * 4999 - 1);
  CHECK(calls == 0);  // every block from the entries the composed run wrote
}

TEST_CASE("fusion: a failing item of a fused map names its index", "[engine][fusion]") {
  const double bad = inputs(10'000)[4241];
  dagflow::Graph g;
  auto a = dagflow::map(
      g,
      [bad](double x) {
        if (x == bad) throw std::runtime_error("bad item");
        return x;
      },
      inputs(10'000));
  auto b = dagflow::map(
      g, [](double x) { return x * 2; }, a);
  const bool composed = GENERATE(true, false);  // map's handle, or a plain Delayed
  INFO((composed ? "composed" : "through the maps"));
  const dagflow::Delayed<std::vector<double>> erased = b;
  auto total = composed ? dagflow::reduce(g, std::plus<>{}, 0.0, b, {.label = "total"})
                        : dagflow::reduce(g, std::plus<>{}, 0.0, erased, {.label = "total"});
  dagflow::Executor ex({.threads = 2});
  try {
    (void)ex.compute(total);
    FAIL("no error");
  } catch (const dagflow::TaskError& e) {
    CHECK(e.item() == 4241);
    CHECK(e.label() == "total");
    CHECK_THAT(e.what(), Catch::Contains("bad item"));
  }
}

TEST_CASE("fusion: per-block disk entries of a fused chain are keyed by the whole chain",
          "[engine][fusion][disk-cache]") {
  const dagflow::test::TempDir tmp;
  static std::atomic<std::size_t> calls{0};
  const auto run = [&](long changed, std::uint32_t version) {
    std::vector<long> xs(2000);
    for (long i = 0; i < 2000; ++i) xs[static_cast<std::size_t>(i)] = i == changed ? -7 : i;
    dagflow::Graph g;
    auto a = dagflow::map(g,
                          dagflow::op("fusion twice",
                                      [](long x) {
                                        ++calls;
                                        return 2 * x;
                                      })
                              .with_version(version),
                          std::move(xs));
    auto b = dagflow::map(g, dagflow::op("fusion plus one", [](long x) { return x + 1; }), a);
    auto total = dagflow::reduce(g, dagflow::op("fusion total", std::plus<>{}), 0L, b);
    dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = tmp.path() / "cache"});
    auto [values, sum] = ex.compute(b, total);  // b is a target: a is fused into b only
    (void)values;
    return std::pair{sum, ex.last_run_stats()};
  };
  calls = 0;
  const auto [first, s1] = run(-1, 1);
  CHECK(first == 2000 + 2 * 1999 * 2000 / 2);
  CHECK(calls == 2000);
  CHECK(s1.fused == 1);  // map(twice) into map(plus one)
  calls = 0;
  const auto [second, s2] = run(700, 1);
  CHECK(second == first - 2 * 700 - 14);
  // One block of map(plus one), keyed by the chain and the source items, is recomputed.
  CHECK(calls == 2);  // 2000 items: blocks of 2
  calls = 0;
  const auto [third, s3] = run(700, 2);  // the first map's version changes every block's key
  CHECK(third == second);
  CHECK(calls == 2000);
}

TEST_CASE("fusion: a fused reduce keeps one disk entry per block", "[engine][fusion][disk-cache]") {
  const dagflow::test::TempDir tmp;
  static std::atomic<std::size_t> calls{0};
  const auto run = [&](long changed) {
    std::vector<long> xs(3000);
    for (long i = 0; i < 3000; ++i) xs[static_cast<std::size_t>(i)] = i == changed ? 5 : i;
    dagflow::Graph g;
    auto a = dagflow::map(g,
                          dagflow::op("fusion square",
                                      [](long x) {
                                        ++calls;
                                        return x * x;
                                      }),
                          std::move(xs));
    auto total = dagflow::reduce(g, dagflow::op("fusion add", std::plus<>{}), 0L, a);
    dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = tmp.path() / "cache"});
    const long sum = ex.compute(total);
    return std::pair{sum, ex.last_run_stats()};
  };
  calls = 0;
  const auto [first, s1] = run(-1);
  CHECK(calls == 3000);
  CHECK(s1.items_executed == 3000);
  calls = 0;
  const auto [second, s2] = run(1500);
  CHECK(second == first - 1500 * 1500 + 25);
  CHECK(calls == 3);  // 3000 items: blocks of 3
  CHECK(s2.items_cached == 2997);
}

// Over a streamed file the chain folds the file's blocks, as map_reduce over it does (the item
// count, which fixes reduce's tree in memory, is not known before the end): the same bits at
// every thread count, and the unfused value up to rounding.
TEST_CASE("fusion: a chain over a streamed file folds it as map_reduce does", "[engine][fusion]") {
  const dagflow::test::TempDir tmp;
  const auto path = tmp.path() / "numbers.txt";
  {
    std::ofstream out(path);
    for (int i = 0; i < 200'000; ++i) out << (i * 37 % 1000) * 0.125 << '\n';
  }
  const auto parse = [](std::string_view s) { return std::stod(std::string(s)); };
  const auto build = [&](dagflow::Graph& g) {
    auto lines = dagflow::read_lines(g, path);
    auto numbers = dagflow::map(g, parse, lines);
    auto roots = dagflow::map(g, h, numbers);
    return dagflow::reduce(g, std::plus<>{}, 0.0, roots);
  };
  dagflow::Executor direct({.threads = 1});
  dagflow::Graph g0;
  auto whole = dagflow::map_reduce(
      g0, [&](std::string_view s) { return h(parse(s)); }, std::plus<>{}, 0.0,
      dagflow::read_lines(g0, path));
  const double expected = direct.compute(whole);
  dagflow::ExecutorOptions off{.threads = 2};
  off.fuse_maps = false;
  dagflow::Executor unfused(off);
  dagflow::Graph g1;
  const double materialised = unfused.compute(build(g1));
  const std::size_t threads = GENERATE(1, 2, 4);
  dagflow::Executor ex({.threads = threads});
  dagflow::Graph g2;
  const double got = ex.compute(build(g2));
  CHECK(bits_of(got) == bits_of(expected));
  CHECK(got == Approx(materialised).epsilon(1e-12));
  CHECK(ex.last_run_stats().fused == 2);
}

TEST_CASE("fusion: across 2 ranks a fused chain gives one process's bits", "[engine][fusion]") {
  constexpr std::size_t n = 100'003;
  dagflow::Executor alone({.threads = 1});
  Chain reference(n);
  const std::uint64_t expected = bits_of(alone.compute(reference.total));
  dagflow::test::ThreadCluster cluster(2);
  std::mutex m;
  std::vector<std::uint64_t> got;
  std::vector<std::size_t> fused;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::ExecutorOptions opts{.threads = 1};
    opts.cluster = std::move(c);
    dagflow::Executor ex(opts);
    Chain chain(n);
    const double t = ex.compute(chain.total);
    const std::lock_guard lock(m);
    got.push_back(bits_of(t));
    fused.push_back(ex.last_run_stats().fused);
  });
  REQUIRE(got.size() == 2);
  for (const std::uint64_t b : got) CHECK(b == expected);
  for (const std::size_t k : fused) CHECK(k == 2);
}

TEST_CASE("fusion: map's handle goes wherever a Delayed goes, and its chain is only a hint",
          "[engine][fusion]") {
  const auto inc = [](int x) { return x + 1; };
  const auto twice = [](int x) { return x * 2; };
  const std::vector<int> xs{1, 2, 3};
  dagflow::Executor ex({.threads = 2});
  SECTION("as an argument, in a list, after, assigned to another chain's handle") {
    dagflow::Graph g;
    auto a = dagflow::map(g, inc, xs);
    auto b = dagflow::map(g, twice, a);
    std::vector parts{a, a};  // a list of map handles binds as a list of dependencies
    auto count = g.delayed([](const std::vector<std::vector<int>>& v) { return v.size(); }, parts);
    auto first = g.delayed([](const std::vector<int>& v) { return v[0]; }, b);
    g.after(first, parts);
    decltype(b) other = a;
    auto c = dagflow::map(g, inc, other);
    auto [n, f, cs] = ex.compute(count, first, c);
    CHECK(n == 2);
    CHECK(f == 4);
    CHECK(cs == std::vector<int>{3, 4, 5});
  }
  SECTION("a handle whose type names other maps than the run fuses") {
    dagflow::Graph unused;
    using Claimed = decltype(dagflow::map(unused, twice, dagflow::map(unused, inc, xs)));
    dagflow::Graph g;
    const Claimed wrong = dagflow::map(g, inc, xs);  // holds map(inc), claims map(twice) too
    auto total = dagflow::reduce(g, std::plus<>{}, 0, wrong);
    CHECK(ex.compute(total) == 2 + 3 + 4);
    CHECK(ex.last_run_stats().fused == 1);
  }
}
