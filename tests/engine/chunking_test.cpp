#include <dagflow/engine/chunking.hpp>

// Tests of dagflow::map, dagflow::reduce and dagflow::map_reduce: order and exact results for every
// chunk size and thread count, bit-identical floating-point sums, edge sizes, failing items named
// by index, labels and content keys.
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/executor.hpp>
#include <dagflow/graph/keys.hpp>

#include "support/temp_dir.hpp"

namespace {
std::vector<double> mixed_magnitudes(std::size_t n) {
  std::mt19937_64 rng(20261122);  // fixed seed: a failure can be replayed
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-20, 20);
  std::vector<double> xs(n);
  for (auto& x : xs) x = std::ldexp(mantissa(rng), exponent(rng));
  return xs;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
}  // namespace

// map keeps input order for every chunk policy and thread count; reduce is exact on integers.
TEST_CASE("map: order preserved for every chunk size and thread count", "[engine][chunking]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  const std::size_t chunk = GENERATE(0, 1, 7, 1000, 1'000'000);
  std::vector<long> xs(100'003);  // not a multiple of any chunk size above
  std::iota(xs.begin(), xs.end(), 0L);
  dagflow::Graph g;
  auto ys = dagflow::map(g, [](long x) { return 3 * x + 1; }, xs, {.chunk_size = chunk});
  auto total = dagflow::reduce(g, std::plus<>{}, 5L, ys, {.chunk_size = chunk});
  dagflow::Executor ex({.threads = threads});
  auto [out, sum] = ex.compute(ys, total);
  REQUIRE(out.size() == xs.size());
  bool ordered = true;
  for (std::size_t i = 0; i < xs.size(); ++i) ordered = ordered && out[i] == 3 * xs[i] + 1;
  CHECK(ordered);
  CHECK(sum == 5 + std::accumulate(out.begin(), out.end(), 0L));
  CHECK(g.size() == 2);  // one node each, however many items
  CHECK(ex.last_run_stats().executed == 2);
}

// Floating-point results are bit-identical whatever the chunking and the thread count.
TEST_CASE("reduce: floating-point sums are bit-identical across policies", "[engine][chunking]") {
  // 200,003 items: 1021 blocks of 196 (the partition that fixes the sum), several chunks of
  // each fixed size below, and magnitudes from 2^-20 to 2^20, so any change in the order of
  // the additions shows in the bits.
  const std::vector<double> xs = mixed_magnitudes(200'003);
  double reference = 0;
  std::vector<double> reference_squares;
  bool first = true;
  for (std::size_t threads : {1, 2, 4}) {
    for (std::size_t chunk : {0, 1, 3, 4096, 65536, 2'000'000}) {
      if (chunk == 1 && threads != 2) continue;  // 200,003 1-item chunks: once is enough
      dagflow::Graph g;
      auto squares =
          dagflow::map(g, [](double x) { return x * x - 0.5 * x; }, xs, {.chunk_size = chunk});
      auto sum = dagflow::reduce(g, std::plus<>{}, 0.25, squares, {.chunk_size = chunk});
      dagflow::Executor ex({.threads = threads});
      auto [s, q] = ex.compute(sum, squares);
      if (first) {
        reference = s;
        reference_squares = q;
        first = false;
      }
      INFO("threads " << threads << ", chunk " << chunk);
      CHECK(same_bits(s, reference));
      CHECK(std::memcmp(q.data(), reference_squares.data(), q.size() * sizeof(double)) == 0);
    }
  }
  // And it is the sum, to within rounding.
  long double exact = 0.25L;
  for (double r : reference_squares) exact += r;
  CHECK(std::abs(static_cast<long double>(reference) - exact) <= 1e-9L * std::abs(exact) + 1e-9L);
}

// map_reduce folds fn's results as they come: the same bits as reduce of map, at every thread
// count and chunk size, with no intermediate vector.
TEST_CASE("map_reduce: the same bits as reduce of map, at every policy", "[engine][chunking]") {
  const std::vector<double> xs = mixed_magnitudes(200'003);
  const auto f = [](double x) { return x * x - 0.5 * x; };
  dagflow::Graph g0;
  const double expected =
      dagflow::Executor({.threads = 1})
          .compute(dagflow::reduce(g0, std::plus<>{}, 0.25, dagflow::map(g0, f, xs)));
  for (std::size_t threads : {1, 2, 4}) {
    for (std::size_t chunk : {0, 3, 4096, 2'000'000}) {
      dagflow::Graph g;
      auto total = dagflow::map_reduce(g, f, std::plus<>{}, 0.25, xs, {.chunk_size = chunk});
      INFO("threads " << threads << ", chunk " << chunk);
      CHECK(same_bits(dagflow::Executor({.threads = threads}).compute(total), expected));
    }
  }
}

// The fold trap the README shows: reduce's op also merges block results, so a fold that squares
// its item squares partial sums too; map_reduce squares each item once.
TEST_CASE("map_reduce: a sum of squares where reduce's fold goes wrong", "[engine][chunking]") {
  std::vector<double> xs(1'000'000);
  std::iota(xs.begin(), xs.end(), 0.0);
  dagflow::Graph g;
  auto folded = dagflow::reduce(
      g, [](double acc, double x) { return acc + x * x; }, 0.0, xs);
  auto squares = dagflow::map_reduce(
      g, [](double x) { return x * x; }, std::plus<>{}, 0.0, xs);
  dagflow::Executor ex({.threads = 2});
  const auto [wrong, right] = ex.compute(folded, squares);
  long double exact = 0;
  for (const double x : xs) exact += static_cast<long double>(x) * x;
  CHECK(std::abs(static_cast<long double>(right) - exact) <= 1e-12L * exact);
  CHECK_FALSE(std::abs(static_cast<long double>(wrong) - exact) <= 1e-12L * exact);
}

// fn's result type may differ from the items' and from the accumulator's; a failing item is
// named by its index; the task is named after fn.
TEST_CASE("map_reduce: changes type, names a failing item, labels after fn",
          "[engine][chunking][errors]") {
  std::vector<std::string> words;
  for (int i = 0; i < 5000; ++i) words.push_back(std::string(static_cast<std::size_t>(i % 7), 'w'));
  dagflow::Graph g;
  auto letters = dagflow::map_reduce(
      g, dagflow::op("length", [](const std::string& w) { return static_cast<int>(w.size()); }),
      dagflow::op("add", [](long a, long b) { return a + b; }), 0L, words);
  auto failing = dagflow::map_reduce(
      g,
      [](const std::string& w) -> int {
        if (w.size() == 6) throw std::runtime_error("six");
        return 1;
      },
      std::plus<>{}, 0, words);
  CHECK(g.label(letters.id()) == "map_reduce(length)");
  dagflow::Executor ex({.threads = 2});
  long expected = 0;
  for (const auto& w : words) expected += static_cast<long>(w.size());
  CHECK(ex.compute(letters) == expected);
  CHECK(ex.last_run_stats().items_executed == words.size());  // counted as a map's items
  CHECK_THROWS_WITH(ex.compute(failing), Catch::Contains("failed at item 6: six"));
}

// A combine that says what no items give needs no init: it is not folded in at all.
TEST_CASE("map_reduce: a combine with no_items() uses no init", "[engine][chunking]") {
  struct Concat {  // merges partial strings; "none" stands for no items
    std::string operator()(std::string a, const std::string& b) const { return a + b; }
    [[nodiscard]] std::string no_items() const { return "none"; }
  };
  const std::size_t n = GENERATE(0, 1, 3, 2000);
  std::vector<int> xs(n, 7);
  dagflow::Graph g;
  auto joined = dagflow::map_reduce(
      g, [](int x) { return std::to_string(x); }, Concat{}, std::string("init?"), xs);
  dagflow::Executor ex({.threads = 2});
  CHECK(ex.compute(joined) == (n == 0 ? std::string("none") : std::string(n, '7')));
}

// Keyed when fn and combine are both ops: the combining op, init, the salt and fn's identity key
// it.
TEST_CASE("map_reduce: keyed by both ops, init and salt, keyless with a plain combine",
          "[engine][chunking][keys]") {
  const auto key_of = [](const char* combine_name, int init, bool plain_combine = false,
                         dagflow::Hash128 salt = {}) {
    dagflow::Graph g;
    std::vector<int> xs(100, 3);
    auto sq = dagflow::op("mr square", [](int x) { return x * x; });
    const dagflow::ChunkOptions options{.salt = salt};
    auto total = plain_combine
                     ? dagflow::map_reduce(g, sq, std::plus<>{}, init, xs, options)
                     : dagflow::map_reduce(g, sq, dagflow::op(combine_name, std::plus<>{}), init,
                                           xs, options);
    return dagflow::task_keys(g)[total.id()];
  };
  const auto base = key_of("mr add", 0);
  REQUIRE(base.has_value());
  CHECK(key_of("mr add", 0) == base);
  CHECK(key_of("mr other add", 0) != base);
  CHECK(key_of("mr add", 1) != base);
  CHECK(key_of("mr add", 0, false, dagflow::Hash128{1, 2}) != base);
  CHECK_FALSE(key_of("", 0, /*plain_combine=*/true).has_value());
}

// Edge sizes: no items, one item, a few.
TEST_CASE("map and reduce: empty, one-item and few-item inputs give exact results",
          "[engine][chunking]") {
  dagflow::Graph g;
  dagflow::Executor ex;
  auto square = [](int x) { return x * x; };
  const std::size_t n = GENERATE(0, 1, 2, 3, 1025);
  std::vector<int> xs(n);
  std::iota(xs.begin(), xs.end(), 1);
  auto ys = dagflow::map(g, square, xs);
  auto total = dagflow::reduce(g, std::plus<>{}, 100, ys);
  auto product = dagflow::reduce(
      g, [](long a, long b) { return a * b % 1'000'003; }, 1L, xs);
  auto [out, sum, prod] = ex.compute(ys, total, product);
  REQUIRE(out.size() == n);
  long expected_sum = 100;
  long expected_product = 1;
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(out[i] == xs[i] * xs[i]);
    expected_sum += out[i];
    expected_product = expected_product * xs[i] % 1'000'003;
  }
  CHECK(sum == expected_sum);
  CHECK(prod == expected_product);
}

// init is used exactly once, so a non-identity init is fine; reduce order is left to right.
TEST_CASE("reduce: init used once, order kept for non-commutative ops", "[engine][chunking]") {
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) words.push_back(std::to_string(i % 10));
  dagflow::Graph g;
  auto joined = dagflow::reduce(
      g, [](std::string a, const std::string& b) { return a + b; }, std::string("<"), words);
  dagflow::Executor ex({.threads = 2});
  std::string expected = "<";
  for (const auto& w : words) expected += w;
  CHECK(ex.compute(joined) == expected);
}

// Input known only at run time: a Delayed<std::vector<T>>.
TEST_CASE("map: maps a Delayed input whose size is known only at run time", "[engine][chunking]") {
  dagflow::Graph g;
  auto load_words = [] {
    std::vector<std::string> words;
    for (int i = 0; i < 5000; ++i)
      words.push_back(std::string(static_cast<std::size_t>(i % 7), 'w'));
    return words;
  };
  auto words = g.delayed(load_words);
  auto lengths = dagflow::map(
      g, [](const std::string& w) { return w.size(); }, words);
  auto total = dagflow::reduce(g, std::plus<>{}, std::size_t{0}, lengths);
  dagflow::Executor ex;
  std::size_t expected = 0;
  for (int i = 0; i < 5000; ++i) expected += static_cast<std::size_t>(i % 7);
  CHECK(ex.compute(total) == expected);
}

// Move-only item results work; non-default-constructible reduce results work.
TEST_CASE("map and reduce: accept move-only and non-default-constructible results",
          "[engine][chunking]") {
  struct Sum {
    explicit Sum(int v) : value(v) {}
    Sum operator+(const Sum& o) const { return Sum(value + o.value); }
    int value;
  };
  dagflow::Graph g;
  std::vector<int> xs(1000, 2);
  auto boxes = dagflow::map(
      g, [](int x) { return std::make_unique<int>(x); }, xs);
  auto count = dagflow::map(
      g, [](const std::unique_ptr<int>& p) { return *p + 1; }, boxes);
  std::vector<Sum> sums;
  for (int i = 0; i < 2000; ++i) sums.emplace_back(i);
  auto total = dagflow::reduce(g, std::plus<>{}, Sum(0), sums);
  dagflow::Executor ex;
  auto [c, t, b] = ex.compute(count, total, boxes);
  CHECK(c == std::vector<int>(1000, 3));
  CHECK(t.value == 1999 * 2000 / 2);
  REQUIRE(b.size() == 1000);
  CHECK(*b[999] == 2);
}

// An item that throws fails the task with its label and index; the Executor stays usable.
TEST_CASE("map: a failing item is named by index", "[engine][chunking][errors]") {
  const std::size_t threads = GENERATE(1, 2, 4);
  const std::size_t chunk = GENERATE(0, 16);
  std::vector<int> xs(20'000);
  std::iota(xs.begin(), xs.end(), 0);
  dagflow::Graph g;
  auto ys = dagflow::map(g,
                         [](int x) {
                           if (x == 12'345) throw std::domain_error("bad item");
                           return x;
                         },
                         xs, {.label = "checked", .chunk_size = chunk});
  auto named = dagflow::map(g,
                            dagflow::op("negate",
                                        [](int x) -> int {
                                          if (x == 7) throw std::runtime_error("seven");
                                          return -x;
                                        }),
                            xs);
  dagflow::Executor ex({.threads = threads});
  try {
    (void)ex.compute(ys);
    FAIL("no throw");
  } catch (const dagflow::TaskError& e) {
    CHECK(e.label() == "checked");
    REQUIRE(e.item().has_value());
    CHECK(*e.item() == 12'345);
    CHECK(std::string(e.what()) == "task 'checked' failed at item 12345: bad item");
    CHECK_THROWS_AS(std::rethrow_exception(e.original()), std::domain_error);
  }
  CHECK_THROWS_WITH(ex.compute(named), "task 'map(negate)' failed at item 7: seven");
  auto fine = dagflow::map(
      g, [](int x) { return x + 1; }, xs);
  CHECK(ex.compute(fine).back() == 20'000);
}

// Generated labels carry the node id; ops give "map(<name>)" / "reduce(<name>)".
TEST_CASE("map and reduce: label their tasks after the op, or by node id",
          "[engine][chunking][labels]") {
  dagflow::Graph g;
  std::vector<int> xs{1, 2, 3};
  auto a = dagflow::map(
      g, [](int x) { return x; }, xs);
  auto b = dagflow::map(g, dagflow::op("double", [](int x) { return 2 * x; }), a);
  auto c = dagflow::reduce(g, dagflow::op("add", std::plus<>{}), 0, b);
  auto d = dagflow::reduce(g, std::plus<>{}, 0, b, {.label = "total"});
  CHECK(g.label(a.id()) == "map#0");
  CHECK(g.label(b.id()) == "map(double)");
  CHECK(g.op_name(b.id()) == "map(double)");
  CHECK(g.label(c.id()) == "reduce(add)");
  CHECK(g.label(d.id()) == "total");
  CHECK(dagflow::Executor{}.compute(c) == 12);
}

// reduce's init is part of its content key; the chunk size (scheduling only) is not.
TEST_CASE("map and reduce: reduce's init is part of the content key, the chunk size is not",
          "[engine][chunking][keys]") {
  auto keys_of = [](double init, std::size_t chunk) {
    dagflow::Graph g;
    std::vector<double> xs(100, 1.0);
    auto ys = dagflow::map(g, dagflow::op("key halve", [](double x) { return x / 2; }), xs,
                           {.chunk_size = chunk});
    auto total = dagflow::reduce(g, dagflow::op("key sum", std::plus<>{}), init, ys);
    const auto keys = dagflow::task_keys(g);
    REQUIRE(keys[ys.id()].has_value());
    REQUIRE(keys[total.id()].has_value());
    return std::pair{*keys[ys.id()], *keys[total.id()]};
  };
  const auto base = keys_of(0.0, 0);
  CHECK(keys_of(0.0, 7) == base);
  const auto other_init = keys_of(1.0, 0);
  CHECK(other_init.first == base.first);
  CHECK(other_init.second != base.second);
}

// Further arguments of map reach every item after it: Delayed ones as dependencies, literals as
// copies; ChunkOptions may follow them.
TEST_CASE("map: passes extra arguments to every item", "[engine][chunking]") {
  dagflow::Graph g;
  std::vector<long> xs(5000);
  std::iota(xs.begin(), xs.end(), 0L);
  auto factor = g.delayed([] { return 3L; });
  auto scaled = dagflow::map(
      g, [](long x, long k) { return x * k; }, xs, factor);
  auto shifted = dagflow::map(
      g, [](long x, long k, const std::string& s) { return x * k + static_cast<long>(s.size()); },
      xs, factor, std::string("abcd"), dagflow::ChunkOptions{.label = "shifted", .chunk_size = 7});
  dagflow::Executor ex({.threads = 2});
  auto [a, b] = ex.compute(scaled, shifted);
  REQUIRE(a.size() == 5000);
  CHECK(a[4999] == 3 * 4999);
  CHECK(b[10] == 34);
  CHECK(g.label(shifted.id()) == "shifted");
  CHECK(g.dependencies(scaled.id()).size() == 1);  // the factor: a dependency
}

namespace {
std::atomic<long> g_item_calls{0};
long counted_scale(long x, long k) { return ++g_item_calls, x * k; }
}  // namespace

// With a disk cache, extras and the salt are part of what the map's blocks are keyed by: a
// changed extra or salt never reuses a block, the same ones reuse them all.
TEST_CASE("map: extras and the salt key the per-block disk entries", "[engine][chunking]") {
  const dagflow::test::TempDir tmp;
  std::vector<long> xs(3000);
  std::iota(xs.begin(), xs.end(), 0L);
  const auto run = [&](long k, std::uint64_t salt, std::size_t changed) {
    std::vector<long> items = xs;
    items[changed] = -1;
    dagflow::Graph g;
    auto factor = g.delayed(dagflow::op("chunk factor", [](long v) { return v; }), k);
    auto out = dagflow::map(g, dagflow::op("chunk scale", counted_scale), std::move(items), factor,
                            dagflow::ChunkOptions{.salt = dagflow::Hash128{salt, 0}});
    dagflow::Executor ex({.cache_dir = tmp.path() / "cache"});
    const std::vector<long> values = ex.compute(out);
    CHECK(values[1] == (changed == 1 ? -k : k));
    return ex.last_run_stats();
  };
  g_item_calls = 0;
  CHECK(run(2, 0, 0).items_executed == 3000);
  CHECK(run(2, 0, 1).items_executed < 100);    // one item changed: its block only
  CHECK(run(3, 0, 1).items_executed == 3000);  // another extra: every block
  CHECK(run(3, 9, 1).items_executed == 3000);  // another salt: every block
  CHECK(run(3, 9, 1).executed == 0);           // all the same: the task's own entry
}
