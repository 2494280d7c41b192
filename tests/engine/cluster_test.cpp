#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>

// Tests of runs across ranks (ExecutorOptions::cluster) with ranks that are threads of this
// process (ThreadCluster; Catch2 asserts only on the test's own thread, after the ranks
// return): the same bits as one process, each task run once, a differing graph
// refused on every rank, failures and cancels reaching every rank, caches shared. The MPI
// transport has its own tests (tests/mpi).
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/thread_cluster.hpp"
#include "support/temp_dir.hpp"

namespace {

using dagflow::test::ThreadCluster;

double f(double x) { return std::sqrt(x) * 1.5; }

std::vector<double> make_inputs(std::size_t n) {
  std::vector<double> xs(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = static_cast<double>(i % 1000) * 0.37 + 1.0;
  return xs;
}

std::uint64_t bits_of(double x) {
  std::uint64_t b = 0;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

dagflow::ExecutorOptions options_for(std::shared_ptr<dagflow::Cluster> cluster) {
  dagflow::ExecutorOptions opts;
  opts.threads = 1;
  opts.cluster = std::move(cluster);
  return opts;
}

// The map + reduce of the example, over n items.
double map_reduce_sum(dagflow::Executor& ex, std::size_t n) {
  dagflow::Graph g;
  auto xs = g.delayed(dagflow::op("inputs", make_inputs), n);
  auto ys = dagflow::map(g, dagflow::op("f", f), xs);
  auto total = dagflow::reduce(g, std::plus<>{}, 0.0, ys);
  return ex.compute(total);
}

// `tasks` independent tasks and their sum.
std::int64_t fan_in(dagflow::Executor& ex, int tasks, std::atomic<int>* ran = nullptr) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<std::int64_t>> parts;
  for (int i = 0; i < tasks; ++i) {
    parts.push_back(g.delayed(dagflow::op("part",
                                          [ran](int k) {
                                            if (ran != nullptr) ++*ran;
                                            return std::int64_t{k} * k;
                                          }),
                              i));
  }
  auto sum = g.delayed(dagflow::op("sum",
                                   [](const std::vector<std::int64_t>& v) {
                                     std::int64_t s = 0;
                                     for (auto x : v) s += x;
                                     return s;
                                   }),
                       parts);
  return ex.compute(sum);
}

}  // namespace

TEST_CASE("a map and reduce give the same bits on 1, 2 and 3 ranks as in one process",
          "[cluster]") {
  constexpr std::size_t n = 200'000;
  dagflow::Executor alone({.threads = 1});
  const std::uint64_t expected = bits_of(map_reduce_sum(alone, n));
  // With 2 threads per rank, a rank that waits for the others' shares blocks a thread instead of
  // suspending the wait (WorkingWait's two ways).
  const std::size_t threads = GENERATE(1, 2);
  for (std::size_t ranks : {1, 2, 3}) {
    ThreadCluster cluster(ranks);
    std::mutex m;
    std::vector<std::uint64_t> got;
    std::vector<std::size_t> items;
    cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
      dagflow::ExecutorOptions opts = options_for(c);
      opts.threads = threads;
      dagflow::Executor ex(opts);
      const double t = map_reduce_sum(ex, n);
      const std::lock_guard lock(m);
      got.push_back(bits_of(t));
      items.push_back(ex.last_run_stats().items_executed);
    });
    INFO(ranks << " ranks, " << threads << " threads each");
    for (const std::uint64_t b : got) CHECK(b == expected);
    // Each rank computed a share of the map's items, not all of them.
    std::size_t all = 0;
    for (const std::size_t i : items) all += i;
    CHECK(all == n);
  }
}

TEST_CASE("map_reduce across 2 and 3 ranks gives the bits of one process, each rank a share",
          "[cluster]") {
  static std::atomic<std::size_t> calls{0};  // of the item function, on all ranks
  const auto compute = [](dagflow::Executor& ex) {
    dagflow::Graph g;
    auto xs = g.delayed(dagflow::op("inputs", make_inputs), std::size_t{200'000});
    auto counted = [](double x) {
      ++calls;
      return f(x);
    };
    return ex.compute(dagflow::map_reduce(g, counted, std::plus<>{}, 0.0, xs));
  };
  dagflow::Executor alone({.threads = 1});
  const std::uint64_t expected = bits_of(compute(alone));
  for (std::size_t ranks : {2, 3}) {
    calls = 0;
    ThreadCluster cluster(ranks);
    std::mutex m;
    std::vector<std::uint64_t> got;
    cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
      dagflow::Executor ex(options_for(c));
      const double t = compute(ex);
      const std::lock_guard lock(m);
      got.push_back(bits_of(t));
    });
    INFO(ranks << " ranks");
    CHECK(got == std::vector<std::uint64_t>(ranks, expected));
    CHECK(calls == 200'000);  // each item once, on one rank
  }
}

TEST_CASE("independent tasks run once each, spread over the ranks", "[cluster]") {
  ThreadCluster cluster(3);
  std::atomic<int> ran{0};
  std::mutex m;
  std::vector<std::int64_t> sums;
  std::vector<dagflow::RunStats> stats;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    const std::int64_t s = fan_in(ex, 3000, &ran);
    const std::lock_guard lock(m);
    sums.push_back(s);
    stats.push_back(ex.last_run_stats());
  });
  std::int64_t expected = 0;
  for (std::int64_t k = 0; k < 3000; ++k) expected += k * k;
  for (const std::int64_t s : sums) CHECK(s == expected);
  CHECK(ran.load() == 3000);
  for (const dagflow::RunStats& s : stats) {
    REQUIRE(s.ranks.size() == 3);
    for (const dagflow::RankStats& r : s.ranks) CHECK(r.executed > 500);  // every rank worked
    CHECK(s.not_run == 0);
  }
}

TEST_CASE("ranks that built different graphs all throw GraphError naming the task", "[cluster]") {
  ThreadCluster cluster(2);
  std::mutex m;
  std::vector<std::string> errors;
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    auto a = g.delayed(dagflow::op("a", [](int x) { return x + 1; }), 1);
    auto b = g.delayed(dagflow::op("b", [](int x) { return x * 2; }), rank == 0 ? 5 : 6);
    g.set_label(b, "scale");
    auto c2 = g.delayed(dagflow::op("c", [](int x, int y) { return x + y; }), a, b);
    try {
      (void)ex.compute(c2);
    } catch (const dagflow::GraphError& e) {
      const std::lock_guard lock(m);
      errors.emplace_back(e.what());
    }
  });
  REQUIRE(errors.size() == 2);
  for (const std::string& e : errors) {
    CHECK_THAT(e, Catch::Contains("'scale'") && Catch::Contains("different graphs"));
  }
}

TEST_CASE("a task that throws on rank 1 fails compute() on every rank, naming it", "[cluster]") {
  ThreadCluster cluster(3);
  std::mutex m;
  std::vector<std::string> errors;
  std::vector<std::size_t> failed_on;
  std::vector<int> afterwards;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    std::vector<dagflow::Delayed<int>> parts;
    for (int i = 0; i < 30; ++i) {
      parts.push_back(g.delayed(dagflow::op("throwing part",
                                            [](int k) {
                                              if (k == 17) throw std::runtime_error("bad part");
                                              return k;
                                            }),
                                i));
    }
    auto sum = g.delayed(dagflow::op("int sum",
                                     [](const std::vector<int>& v) {
                                       int s = 0;
                                       for (int x : v) s += x;
                                       return s;
                                     }),
                         parts);
    try {
      (void)ex.compute(sum);
    } catch (const dagflow::TaskError& e) {
      const std::lock_guard lock(m);
      errors.emplace_back(e.what());
      failed_on.push_back(e.rank().value_or(99));
    }
    // The Executor stays usable: a graph without the failure runs on every rank.
    dagflow::Graph ok;
    auto one = ok.delayed(dagflow::op("after failure", [] { return 1; }));
    const int after = ex.compute(one);
    const std::lock_guard lock(m);
    afterwards.push_back(after);
  });
  CHECK(afterwards == std::vector<int>{1, 1, 1});
  REQUIRE(errors.size() == 3);
  for (const std::string& e : errors) {
    CHECK(e == errors.front());
    CHECK_THAT(e, Catch::Contains("bad part") && Catch::Contains("on rank"));
  }
  for (const std::size_t r : failed_on) CHECK(r == failed_on.front());
}

TEST_CASE("with keep_going every rank throws the same RunError", "[cluster]") {
  ThreadCluster cluster(2);
  std::mutex m;
  std::vector<std::string> errors;
  std::vector<std::size_t> not_run;
  std::vector<std::size_t> failures;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::ExecutorOptions opts = options_for(c);
    opts.keep_going = true;
    dagflow::Executor ex(opts);
    dagflow::Graph g;
    std::vector<dagflow::Delayed<int>> outs;
    for (int i = 0; i < 8; ++i) {
      auto x = g.delayed(dagflow::op("x",
                                     [](int k) {
                                       if (k % 4 == 1)
                                         throw std::runtime_error("odd one " + std::to_string(k));
                                       return k;
                                     }),
                         i);
      outs.push_back(g.delayed(dagflow::op("y", [](int k) { return k + 1; }), x));
    }
    try {
      (void)ex.compute(outs);
    } catch (const dagflow::RunError& e) {
      const std::lock_guard lock(m);
      errors.emplace_back(e.what());
      not_run.push_back(e.not_run());
      failures.push_back(e.failures().size());
    }
  });
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == errors[1]);
  CHECK_THAT(errors[0], Catch::Contains("odd one 1") && Catch::Contains("odd one 5"));
  CHECK(not_run == std::vector<std::size_t>{2, 2});
  CHECK(failures == std::vector<std::size_t>{2, 2});
}

TEST_CASE("cancel() on one rank cancels the run on every rank", "[cluster]") {
  ThreadCluster cluster(2);
  std::atomic<int> cancelled{0};
  std::atomic<bool> started{false};
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    std::vector<dagflow::Delayed<int>> parts;
    for (int i = 0; i < 200; ++i) {
      parts.push_back(g.delayed(dagflow::op("slow",
                                            [&started](int k) {
                                              started = true;
                                              std::this_thread::sleep_for(
                                                  std::chrono::milliseconds(5));
                                              return k;
                                            }),
                                i));
    }
    std::thread canceller;
    if (rank == 1) {
      canceller = std::thread([&] {
        while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ex.cancel();
      });
    }
    try {
      (void)ex.compute(parts);
    } catch (const dagflow::Cancelled&) {
      ++cancelled;
    }
    if (canceller.joinable()) canceller.join();
  });
  CHECK(cancelled.load() == 2);
}

TEST_CASE("across ranks, a shared disk cache makes the second run compute nothing", "[cluster]") {
  dagflow::test::TempDir dir;
  ThreadCluster cluster(2);
  std::mutex m;
  std::vector<std::size_t> executed;
  std::vector<std::int64_t> sums;
  for (int round = 0; round < 2; ++round) {
    cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
      dagflow::ExecutorOptions opts = options_for(c);
      opts.cache_dir = dir.path() / "cache";
      opts.memory_cache_bytes = 0;
      dagflow::Executor ex(opts);
      dagflow::Graph g;
      std::vector<dagflow::Delayed<std::int64_t>> parts;
      for (int i = 0; i < 40; ++i) {
        parts.push_back(
            g.delayed(dagflow::op("cached part", [](int k) { return std::int64_t{k} * 3; }), i));
      }
      auto total = g.delayed(dagflow::op("cached sum",
                                         [](const std::vector<std::int64_t>& v) {
                                           std::int64_t t = 0;
                                           for (auto x : v) t += x;
                                           return t;
                                         }),
                             parts);
      const std::int64_t s = ex.compute(total);
      const std::lock_guard lock(m);
      sums.push_back(s);
      executed.push_back(ex.last_run_stats().executed);
    });
  }
  REQUIRE(sums.size() == 4);
  for (const std::int64_t s : sums) CHECK(s == sums.front());
  CHECK(executed[0] + executed[1] == 41);  // each task once, across the ranks
  CHECK(executed[2] + executed[3] == 0);   // the target was found: nothing ran
}

TEST_CASE("a result that cannot be serialised is computed by each rank that needs it",
          "[cluster]") {
  struct Opaque {
    int value = 0;
  };
  ThreadCluster cluster(2);
  std::mutex m;
  std::vector<int> got;
  std::vector<std::size_t> replicated;
  std::vector<std::size_t> warned;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    std::vector<std::string> warnings;
    dagflow::ExecutorOptions opts = options_for(c);
    opts.log = [&](std::string_view w) { warnings.emplace_back(w); };
    dagflow::Executor ex(opts);
    dagflow::Graph g;
    auto o = g.delayed(dagflow::op("opaque", [] { return Opaque{21}; }));
    std::vector<dagflow::Delayed<int>> uses;
    for (int i = 0; i < 4; ++i) {
      uses.push_back(
          g.delayed(dagflow::op("use", [](const Opaque& x, int k) { return x.value + k; }), o, i));
    }
    const std::vector<int> r = ex.compute(uses);
    const std::lock_guard lock(m);
    got.insert(got.end(), r.begin(), r.end());
    replicated.push_back(ex.last_run_stats().replicated);
    warned.push_back(warnings.size());
  });
  CHECK(warned == std::vector<std::size_t>{1, 1});
  CHECK(got == std::vector<int>{21, 22, 23, 24, 21, 22, 23, 24});
  CHECK(replicated == std::vector<std::size_t>{1, 1});
}

TEST_CASE("Executor::all_gather returns every rank's bytes, by rank", "[cluster]") {
  ThreadCluster cluster(3);
  std::mutex m;
  std::vector<std::vector<std::string>> seen;
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    const std::vector<std::string> all = ex.all_gather("rank " + std::to_string(rank));
    const std::lock_guard lock(m);
    seen.push_back(all);
  });
  for (const auto& all : seen) CHECK(all == std::vector<std::string>{"rank 0", "rank 1", "rank 2"});
  dagflow::Executor alone;
  CHECK(alone.all_gather("me") == std::vector<std::string>{"me"});
}

TEST_CASE("across ranks, side-effect steps run once, on rank 0, in their order", "[cluster]") {
  ThreadCluster cluster(2);
  std::mutex m;
  std::vector<std::string> log;
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    auto first = g.delayed([&, rank] {
      const std::lock_guard lock(m);
      log.push_back("first on " + std::to_string(rank));
    });
    auto second = g.delayed([&, rank] {
      const std::lock_guard lock(m);
      log.push_back("second on " + std::to_string(rank));
    });
    g.after(second, first);
    ex.compute(std::vector<dagflow::Delayed<void>>{second});
  });
  CHECK(log == std::vector<std::string>{"first on 0", "second on 0"});
}

TEST_CASE("across ranks, tasks with on_rank0 run on rank 0 and their results reach all",
          "[cluster]") {
  ThreadCluster cluster(3);
  std::mutex m;
  std::vector<std::size_t> ran_on;
  std::vector<std::int64_t> totals;
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    std::vector<dagflow::Delayed<std::int64_t>> written;
    for (int i = 0; i < 6; ++i) {
      auto part = g.delayed(dagflow::op("part", [](int k) { return std::int64_t{k} * 10; }), i);
      auto write = g.delayed(dagflow::op("write",
                                         [&, rank](std::int64_t x) {
                                           const std::lock_guard lock(m);
                                           ran_on.push_back(rank);
                                           return x + 1;
                                         }),
                             part);
      g.set_options(write, {.on_rank0 = true});
      written.push_back(write);
    }
    auto total = g.delayed(dagflow::op("total",
                                       [](const std::vector<std::int64_t>& v) {
                                         std::int64_t t = 0;
                                         for (auto x : v) t += x;
                                         return t;
                                       }),
                           written);
    const std::int64_t t = ex.compute(total);
    const std::lock_guard lock(m);
    totals.push_back(t);
  });
  CHECK(ran_on == std::vector<std::size_t>(6, 0));
  CHECK(totals == std::vector<std::int64_t>(3, 156));
}

// A rank whose share of a map is done waits for the other ranks' shares without holding its
// worker: with one thread per rank, the wait is suspended and rank 0 runs another task meanwhile.
// That task becomes ready only once a slow task of rank 1 ("ticket") arrives, after rank 0 began
// its share; rank 1's share waits (at most 5 s) for it, so a worker blocked in the wait shows as
// a miss.
TEST_CASE("across ranks, a worker waiting for other ranks' shares runs other tasks meanwhile",
          "[cluster]") {
  ThreadCluster cluster(2);
  std::atomic<bool> side_ran{false};
  std::atomic<bool> side_seen{false};
  std::atomic<std::size_t> ticket_rank{9};
  std::atomic<int> right{0};
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    auto items = g.delayed(dagflow::op("items", [] { return std::vector<int>{0, 1}; }));
    auto ticket = g.delayed(dagflow::op("ticket", [&, rank] {
      ticket_rank = rank;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return 1;
    }));
    auto shares = dagflow::map(
        g,
        [&](int i) {
          if (i == 1) {  // rank 1's share (one item per block)
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (!side_ran && std::chrono::steady_clock::now() < until) {
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            side_seen = side_ran.load();
          }
          return i * 10;
        },
        items);
    auto side = g.delayed(dagflow::op("side",
                                      [&](int t) {
                                        side_ran = true;
                                        return t + 1;
                                      }),
                          ticket);
    g.set_options(side, {.on_rank0 = true});
    const auto [v, n] = ex.compute(shares, side);
    if (v == std::vector<int>{0, 10} && n == 2) ++right;
  });
  CHECK(right == 2);
  CHECK(ticket_rank == 1);  // else the case above is not what runs
  CHECK(side_seen);
}

// Arrays of numbers cross ranks as their elements' bytes, lent to the send and received into a
// vector of the receiver's (or, with the port's default, joined into one message).
TEST_CASE("across ranks, large arrays of numbers reach every rank intact", "[cluster]") {
  const bool lend = GENERATE(true, false);
  const std::size_t ranks = GENERATE(2, 3);
  INFO("ranks " << ranks << (lend ? ", lent bodies" : ", joined messages"));
  constexpr std::size_t kDoubles = 400'000;  // 3.2 MB: lent; the 1000 ints are serialised
  const auto compute_on = [&](dagflow::Executor& ex) {
    dagflow::Graph g;
    auto big = g.delayed(dagflow::op("big",
                                     [](std::size_t n) {
                                       std::vector<double> v(n);
                                       for (std::size_t i = 0; i < n; ++i)
                                         v[i] = static_cast<double>(i) * 0.5;
                                       return v;
                                     }),
                         kDoubles);
    auto odd = g.delayed(
        dagflow::op(
            "odd",
            [](int n) { return std::vector<std::int32_t>(static_cast<std::size_t>(n), -7); }),
        1000);
    auto sum = g.delayed(dagflow::op("sum",
                                     [](std::vector<double> v) {  // by value: a copy
                                       double s = 0;
                                       for (const double x : v) s += x;
                                       return s;
                                     }),
                         big);
    auto last =
        g.delayed(dagflow::op("last", [](const std::vector<double>& v) { return v.back(); }), big);
    return ex.compute(big, odd, sum, last);
  };
  dagflow::Executor alone(options_for(nullptr));
  const auto expected = compute_on(alone);
  ThreadCluster cluster(ranks, lend);
  std::mutex m;
  std::vector<decltype(compute_on(alone))> got;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    auto result = compute_on(ex);
    const std::lock_guard lock(m);
    got.push_back(std::move(result));
  });
  REQUIRE(got.size() == ranks);
  for (const auto& r : got) {
    CHECK(std::get<0>(r) == std::get<0>(expected));
    CHECK(std::get<1>(r) == std::get<1>(expected));
    CHECK(bits_of(std::get<2>(r)) == bits_of(std::get<2>(expected)));
    CHECK(std::get<3>(r) == std::get<3>(expected));
  }
}

TEST_CASE("across ranks, a second compute takes what it can from the memory caches", "[cluster]") {
  ThreadCluster cluster(2);
  std::atomic<int> ran{0};
  std::mutex m;
  std::vector<std::int64_t> sums;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    std::vector<dagflow::Delayed<std::int64_t>> parts;
    for (int i = 0; i < 20; ++i) {
      parts.push_back(g.delayed(dagflow::op("slow part",
                                            [&ran](int k) {
                                              ++ran;
                                              std::this_thread::sleep_for(
                                                  std::chrono::microseconds(50));
                                              return std::int64_t{k};
                                            }),
                                i));
    }
    auto total = g.delayed(dagflow::op("part total",
                                       [](const std::vector<std::int64_t>& v) {
                                         std::int64_t t = 0;
                                         for (auto x : v) t += x;
                                         return t;
                                       }),
                           parts);
    const std::int64_t a = ex.compute(total);
    const std::int64_t b = ex.compute(total);  // kept by its holder: found, sent to the other
    const std::lock_guard lock(m);
    sums.push_back(a);
    sums.push_back(b);
  });
  for (const std::int64_t s : sums) CHECK(s == 190);
  CHECK(ran.load() == 20);
}

TEST_CASE("across ranks, I/O tasks with retries run once each and reach every rank", "[cluster]") {
  ThreadCluster cluster(2);
  std::atomic<int> attempts{0};
  std::mutex m;
  std::vector<int> got;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::Executor ex(options_for(c));
    dagflow::Graph g;
    std::vector<dagflow::Delayed<int>> fetched;
    for (int i = 0; i < 6; ++i) {
      auto f = g.delayed(dagflow::op("flaky fetch",
                                     [&attempts](int k) {
                                       if (attempts.fetch_add(1) % 2 == 0) {
                                         throw std::runtime_error("try again");
                                       }
                                       return k * 10;
                                     }),
                         i);
      g.set_options(f, {.io = true, .retries = 5});
      fetched.push_back(f);
    }
    const std::vector<int> r = ex.compute(fetched);
    const std::lock_guard lock(m);
    got.insert(got.end(), r.begin(), r.end());
  });
  CHECK(got == std::vector<int>{0, 10, 20, 30, 40, 50, 0, 10, 20, 30, 40, 50});
  CHECK(attempts.load() <= 6 * 6);
}

namespace {

// Layers of tasks, each reading two of the layer before; task k of a layer throws when
// k % 11 == 7. Returns the last layer's tasks.
std::vector<dagflow::Delayed<std::int64_t>> layered_graph(dagflow::Graph& g, int layers,
                                                          int width) {
  std::vector<dagflow::Delayed<std::int64_t>> prev;
  for (int k = 0; k < width; ++k) {
    prev.push_back(
        g.delayed(dagflow::op("layer source", [](int x) { return std::int64_t{x}; }), k));
  }
  for (int l = 1; l < layers; ++l) {
    std::vector<dagflow::Delayed<std::int64_t>> next;
    for (int k = 0; k < width; ++k) {
      const auto& a = prev[static_cast<std::size_t>((k * 7 + l) % width)];
      const auto& b = prev[static_cast<std::size_t>((k * 3 + 2 * l) % width)];
      next.push_back(g.delayed(dagflow::op("layer step",
                                           [](std::int64_t x, std::int64_t y, int id) {
                                             if (id % 11 == 7) {
                                               throw std::runtime_error("step " +
                                                                        std::to_string(id));
                                             }
                                             return x * 3 + y + id;
                                           }),
                               a, b, l * 1000 + k));
    }
    prev = std::move(next);
  }
  return prev;
}

}  // namespace

TEST_CASE("keep-going across 3 ranks reports what one process reports", "[cluster]") {
  const auto outcome = [](dagflow::Executor& ex) {
    dagflow::Graph g;
    const auto last = layered_graph(g, 6, 40);
    try {
      (void)ex.compute(last);
    } catch (const dagflow::RunError& e) {
      return std::to_string(e.failures().size()) + " failed, " + std::to_string(e.not_run()) +
             " not run";
    }
    return std::string("no failure");
  };
  dagflow::Executor alone({.threads = 1, .keep_going = true});
  const std::string expected = outcome(alone);
  REQUIRE(expected != "no failure");
  ThreadCluster cluster(3);
  std::mutex m;
  std::vector<std::string> got;
  cluster.run([&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
    dagflow::ExecutorOptions opts = options_for(c);
    opts.keep_going = true;
    dagflow::Executor ex(opts);
    const std::string mine = outcome(ex);
    const std::lock_guard lock(m);
    got.push_back(mine);
  });
  CHECK(got == std::vector<std::string>{expected, expected, expected});
}
