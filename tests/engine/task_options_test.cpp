#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/this_task.hpp>

// Tests of task options: I/O tasks that never hold a compute worker, resources that are never
// exceeded, retries, timeouts, Executor::cancel and keep-going. They count (attempts, peak
// concurrency, tasks that never started); where one task must wait for another, it waits on a
// condition with a generous bound, so a loaded machine makes them slower, never wrong.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;

// Waits until `done()` holds, up to a bound far beyond any loaded machine; false if it never did.
template <class Done>
bool wait_until(Done done, std::chrono::seconds bound = std::chrono::seconds(60)) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// How many tasks are inside a region at once, and the most there ever were.
struct Concurrency {
  std::atomic<int> inside{0};
  std::atomic<int> peak{0};
  void enter() {
    const int now = ++inside;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { --inside; }
};

int twice(int x) { return 2 * x; }

// The attempts a flaky op saw (a plain function, so that its results have a content key).
std::vector<std::size_t> g_attempts;
int flaky_times_ten(int x) {
  g_attempts.push_back(dagflow::this_task::attempt());
  if (g_attempts.size() < 3) throw std::runtime_error("not yet");
  return x * 10;
}

}  // namespace

TEST_CASE("TaskOptions: set and read back, defaults for tasks without", "[engine][options]") {
  // Options are stored per task and do not change its result.
  dagflow::Graph g;
  auto a = g.delayed(twice, 2);
  auto b = g.delayed(twice, a);
  g.set_options(a, {.io = true,
                    .resources = {{"db", 1}},
                    .retries = 3,
                    .retry_delay = std::chrono::milliseconds(100),
                    .timeout = 5s});
  CHECK(g.options(a).io);
  CHECK(g.options(a).resources.at("db") == 1);
  CHECK(g.options(a).retries == 3);
  CHECK(g.options(a).retry_delay == 100ms);
  CHECK(g.options(a).timeout == 5000ms);
  CHECK(g.options(b) == dagflow::TaskOptions{});
  g.set_options(a, {});
  CHECK(g.options(a) == dagflow::TaskOptions{});
  CHECK_THROWS_AS(g.set_options(a, {.resources = {{"", 1}}}), std::invalid_argument);
}

TEST_CASE("I/O tasks: run on I/O threads, never on the compute worker", "[engine][options][io]") {
  // With one compute worker, an I/O task that waits for a compute task to run could never finish
  // if it held that worker.
  dagflow::Executor ex({.threads = 1});
  dagflow::Graph g;
  std::atomic<bool> computed{false};
  auto io = g.delayed([&computed] { return wait_until([&] { return computed.load(); }) ? 1 : 0; });
  g.set_options(io, {.io = true});
  auto compute = g.delayed([&computed] {
    computed = true;
    return 2;
  });
  const auto [waited, value] = ex.compute(io, compute);
  CHECK(waited == 1);
  CHECK(value == 2);
  CHECK(ex.last_run_stats().io_tasks == 1);
}

TEST_CASE("I/O tasks: many wait at once on one compute worker", "[engine][options][io]") {
  // Eight I/O tasks meet at a rendezvous that needs all eight inside at once.
  dagflow::Executor ex({.threads = 1, .memory_cache_bytes = 0, .io_threads = 8});
  dagflow::Graph g;
  std::atomic<int> arrived{0};
  std::vector<dagflow::Delayed<int>> tasks;
  for (int i = 0; i < 8; ++i) {
    tasks.push_back(g.delayed(
        [&arrived](int k) {
          ++arrived;
          return wait_until([&] { return arrived.load() == 8; }) ? k : -1;
        },
        i));
    g.set_options(tasks.back(), {.io = true});
  }
  auto sum = g.delayed(
      [](const std::vector<int>& v) {
        int s = 0;
        for (int x : v) s += x;
        return s;
      },
      tasks);
  CHECK(ex.compute(sum) == 28);
  CHECK(ex.last_run_stats().io_tasks == 8);
  CHECK(ex.options().io_threads == 8);
}

TEST_CASE("I/O tasks: a compute() inside a task runs them too", "[engine][options][io]") {
  dagflow::Executor ex({.threads = 1, .memory_cache_bytes = 0});
  dagflow::Graph outer;
  auto t = outer.delayed(
      [&ex](int x) {
        dagflow::Graph inner;
        auto io = inner.delayed(twice, x);
        inner.set_options(io, {.io = true});
        return ex.compute(inner.delayed(twice, io));
      },
      5);
  CHECK(ex.compute(t) == 20);
}

TEST_CASE("Resources: capacity is never exceeded, and is reached", "[engine][options][resources]") {
  dagflow::Executor ex({.threads = 2, .memory_cache_bytes = 0, .resources = {{"db", 2}}});
  dagflow::Graph g;
  Concurrency db;
  std::vector<dagflow::Delayed<int>> tasks;
  for (int i = 0; i < 12; ++i) {
    tasks.push_back(g.delayed(
        [&db](int k) {
          db.enter();
          // Stay until a second holder is in (or a long time passed), so the peak reaches 2.
          (void)wait_until([&] { return db.peak.load() >= 2; }, std::chrono::seconds(10));
          db.leave();
          return k;
        },
        i));
    g.set_options(tasks.back(), {.io = i % 2 == 0, .resources = {{"db", 1}}});
  }
  const std::vector<int> values = ex.compute(tasks);
  CHECK(values.size() == 12);
  CHECK(db.peak.load() == 2);
  CHECK(db.inside.load() == 0);
}

TEST_CASE("Resources: all units at once, so two resources cannot deadlock",
          "[engine][options][resources]") {
  dagflow::Executor ex({.threads = 2, .memory_cache_bytes = 0, .resources = {{"a", 1}, {"b", 1}}});
  dagflow::Graph g;
  Concurrency a;
  Concurrency b;
  std::vector<dagflow::Delayed<int>> tasks;
  for (int i = 0; i < 30; ++i) {
    const bool uses_a = i % 3 != 1;
    const bool uses_b = i % 3 != 0;
    tasks.push_back(g.delayed(
        [&a, &b, uses_a, uses_b](int k) {
          if (uses_a) a.enter();
          if (uses_b) b.enter();
          std::this_thread::sleep_for(100us);
          if (uses_b) b.leave();
          if (uses_a) a.leave();
          return k;
        },
        i));
    dagflow::TaskOptions options{.io = i % 2 == 0};
    if (uses_a) options.resources["a"] = 1;
    if (uses_b) options.resources["b"] = 1;
    g.set_options(tasks.back(), options);
  }
  CHECK(ex.compute(tasks).size() == 30);
  CHECK(a.peak.load() == 1);
  CHECK(b.peak.load() == 1);
}

TEST_CASE("Resources: undeclared or too large a need is a GraphError before anything runs",
          "[engine][options][resources]") {
  dagflow::Executor ex({.resources = {{"db", 2}}});
  dagflow::Graph g;
  std::atomic<int> ran{0};
  auto first = g.delayed([&ran] { return ++ran; });
  auto t = g.delayed([&ran](int x) { return x + ++ran; }, first);
  g.set_options(t, {.resources = {{"gpu", 1}}});
  CHECK_THROWS_WITH(ex.compute(t), Catch::Contains("'gpu'") && Catch::Contains("does not declare"));
  g.set_options(t, {.resources = {{"db", 3}}});
  CHECK_THROWS_WITH(ex.compute(t), Catch::Contains("3 units") && Catch::Contains("capacity of 2"));
  CHECK(ran.load() == 0);
}

TEST_CASE("Retries: a failed attempt is retried, and attempt() counts",
          "[engine][options][retry]") {
  dagflow::test::TempDir dir;
  for (const bool io : {false, true}) {
    dagflow::Executor ex({.memory_cache_bytes = 0, .cache_dir = dir.path() / (io ? "io" : "cpu")});
    dagflow::Graph g;
    g_attempts.clear();
    auto flaky = g.delayed(dagflow::op("flaky", flaky_times_ten), 4);
    g.set_options(flaky, {.io = io, .retries = 3, .retry_delay = 1ms});
    CHECK(ex.compute(flaky) == 40);
    CHECK(g_attempts == std::vector<std::size_t>{0, 1, 2});
    CHECK(ex.last_run_stats().retries == 2);
    CHECK(ex.last_run_stats().executed == 1);
    CHECK(ex.last_run_stats().disk_writes == 1);  // the successful attempt's result only
  }
}

TEST_CASE("Retries: exhausted, the TaskError says how many attempts ran",
          "[engine][options][retry]") {
  dagflow::Executor ex;
  dagflow::Graph g;
  std::atomic<int> calls{0};
  auto bad = g.delayed([&calls] {
    ++calls;
    throw std::runtime_error("service unavailable");
    return 0;
  });
  g.set_label(bad, "fetch");
  g.set_options(bad, {.retries = 2});
  try {
    (void)ex.compute(bad);
    FAIL("no error");
  } catch (const dagflow::TaskError& e) {
    CHECK(e.attempts() == 3);
    CHECK_FALSE(e.timed_out());
    CHECK_THAT(e.what(), Catch::Contains("task 'fetch' failed after 3 attempts") &&
                             Catch::Contains("service unavailable"));
  }
  CHECK(calls.load() == 3);
  CHECK(ex.last_run_stats().failed == 1);
}

TEST_CASE("Timeouts: stop_requested turns true, and the task times out",
          "[engine][options][timeout]") {
  dagflow::Executor ex;
  dagflow::Graph g;
  std::atomic<int> attempts{0};
  auto slow = g.delayed([&attempts] {
    ++attempts;
    const bool stopped = wait_until([] { return dagflow::this_task::stop_requested(); });
    return stopped ? 1 : 0;
  });
  g.set_label(slow, "slow");
  g.set_options(slow, {.retries = 1, .timeout = 20ms});
  try {
    (void)ex.compute(slow);
    FAIL("no timeout");
  } catch (const dagflow::TimeoutError& e) {
    CHECK(e.timed_out());
    CHECK(e.attempts() == 2);
    CHECK_THAT(e.what(), Catch::Contains("task 'slow' timed out after 20 ms"));
  }
  CHECK(attempts.load() == 2);
  CHECK(ex.last_run_stats().timeouts == 2);
  CHECK(ex.last_run_stats().retries == 1);
}

TEST_CASE("Timeouts: a task that ignores the request is waited for and its result discarded",
          "[engine][options][timeout]") {
  dagflow::Executor ex;
  dagflow::Graph g;
  auto stubborn = g.delayed([] {
    std::this_thread::sleep_for(30ms);
    return 7;
  });
  g.set_options(stubborn, {.io = true, .timeout = 1ms});
  auto after = g.delayed(twice, stubborn);
  CHECK_THROWS_AS(ex.compute(after), dagflow::TimeoutError);
  CHECK(ex.last_run_stats().executed == 1);  // `after` never ran
  CHECK(ex.last_run_stats().not_run == 1);
}

TEST_CASE("Executor::cancel: stops the running compute, and later ones run",
          "[engine][options][cancel]") {
  dagflow::Executor ex({.threads = 2, .resources = {{"db", 1}}});
  dagflow::Graph g;
  std::atomic<bool> started{false};
  std::atomic<int> downstream{0};
  auto waiting = g.delayed([&started] {
    started = true;
    return wait_until([] { return dagflow::this_task::stop_requested(); }) ? 1 : 0;
  });
  g.set_options(waiting, {.io = true, .resources = {{"db", 1}}});
  auto queued = g.delayed([] { return 2; });  // waits for the resource, never gets it
  g.set_options(queued, {.resources = {{"db", 1}}});
  auto delayed_retry = g.delayed([]() -> int { throw std::runtime_error("try later"); });
  g.set_options(delayed_retry, {.retries = 5, .retry_delay = std::chrono::hours(1)});
  auto next = g.delayed([&downstream](int a, int b, int c) { return ++downstream + a + b + c; },
                        waiting, queued, delayed_retry);
  std::thread canceller([&] {
    (void)wait_until([&] { return started.load(); });
    ex.cancel();
  });
  CHECK_THROWS_WITH(ex.compute(next), Catch::Contains("cancelled"));
  canceller.join();
  CHECK(downstream.load() == 0);
  CHECK(ex.last_run_stats().not_run >= 2);

  dagflow::Graph h;
  auto fine = h.delayed(twice, 21);
  h.set_options(fine, {.io = true, .resources = {{"db", 1}}});
  CHECK(ex.compute(fine) == 42);  // the resource was given back, and cancel() is over
}

TEST_CASE("Executor::cancel: Cancelled is a dagflow::Error, not a TaskError",
          "[engine][options][cancel]") {
  dagflow::Executor ex;
  dagflow::Graph g;
  auto t = g.delayed([&ex] {
    ex.cancel();  // from inside the run: the same as from any other thread
    return 1;
  });
  try {
    (void)ex.compute(g.delayed(twice, t));
    FAIL("not cancelled");
  } catch (const dagflow::TaskError&) {
    FAIL("a TaskError");
  } catch (const dagflow::Cancelled& e) {
    CHECK_THAT(e.what(), Catch::Contains("cancelled"));
  }
}

TEST_CASE("keep_going: a failure skips only its dependants, RunError lists every failure",
          "[engine][options][keep_going]") {
  for (const bool fuse : {true, false}) {
    dagflow::Executor ex({.fuse_tasks = fuse, .keep_going = true});
    dagflow::Graph g;
    std::atomic<int> dependants{0};
    std::atomic<int> independent{0};
    auto bad = g.delayed([]() -> int { throw std::runtime_error("bad input"); });
    g.set_label(bad, "parse");
    auto worse = g.delayed([]() -> int { throw std::runtime_error("worse input"); });
    g.set_label(worse, "load");
    g.set_options(worse, {.io = true});
    auto dep = g.delayed([&dependants](int x) { return ++dependants + x; }, bad);
    auto dep2 = g.delayed([&dependants](int x) { return ++dependants + x; }, dep);
    auto ok = g.delayed([&independent] { return ++independent; });
    auto ok2 = g.delayed(twice, ok);
    try {
      (void)ex.compute(std::vector<dagflow::Delayed<int>>{dep2, ok2, worse});
      FAIL("no error");
    } catch (const dagflow::RunError& e) {
      REQUIRE(e.failures().size() == 2);
      std::vector<std::string> labels{e.failures()[0].label(), e.failures()[1].label()};
      std::sort(labels.begin(), labels.end());
      CHECK(labels == std::vector<std::string>{"load", "parse"});
      CHECK_THAT(e.what(), Catch::Contains("2 tasks failed") && Catch::Contains("bad input") &&
                               Catch::Contains("worse input"));
      CHECK(e.not_run() == 2);
    }
    CHECK(dependants.load() == 0);
    CHECK(independent.load() == 1);
    CHECK(ex.compute(ok2) == 2);  // kept by the memory cache: not run again
    CHECK(independent.load() == 1);
  }
}

TEST_CASE("keep_going: exactly one failure is a RunError too", "[engine][options][keep_going]") {
  dagflow::Executor ex({.keep_going = true});
  dagflow::Graph g;
  auto bad = g.delayed([]() -> int { throw std::runtime_error("only one"); });
  try {
    (void)ex.compute(bad);
    FAIL("no error");
  } catch (const dagflow::RunError& e) {
    CHECK(e.failures().size() == 1);
    CHECK_THAT(e.what(), Catch::Contains("1 task failed") && Catch::Contains("only one"));
  }
}

TEST_CASE("Disk-cache writes: done when compute() returns", "[engine][options][disk]") {
  dagflow::test::TempDir dir;
  dagflow::Executor ex({.cache_dir = dir.path()});
  dagflow::Graph g;
  std::vector<dagflow::Delayed<std::vector<double>>> tasks;
  const auto make = dagflow::op("make", [](int n) { return std::vector<double>(1000, n); });
  for (int i = 0; i < 64; ++i) tasks.push_back(g.delayed(make, i));
  CHECK(ex.compute(tasks).size() == 64);
  CHECK(ex.last_run_stats().disk_writes == 64);
  CHECK(ex.disk_cache_stats().entries == 64);
  dagflow::Executor fresh({.memory_cache_bytes = 0, .cache_dir = dir.path()});
  CHECK(fresh.compute(tasks).at(5).at(0) == 5.0);
  CHECK(fresh.last_run_stats().disk_hits == 64);
}

TEST_CASE("Observers: each attempt is an event, I/O tasks say so", "[engine][options][observer]") {
  struct Events : dagflow::RunObserver {
    std::mutex mutex;
    std::vector<dagflow::TaskEvent> events;
    void on_task(const dagflow::TaskEvent& e) override {
      const std::lock_guard lock(mutex);
      events.push_back(e);
    }
  };
  auto seen = std::make_shared<Events>();
  dagflow::Executor ex({.threads = 1, .observers = {seen}});
  dagflow::Graph g;
  std::atomic<int> calls{0};
  auto t = g.delayed([&calls] {
    if (++calls == 1) throw std::runtime_error("once");
    return 3;
  });
  g.set_options(t, {.io = true, .retries = 1});
  CHECK(ex.compute(t) == 3);
  REQUIRE(seen->events.size() == 2);
  CHECK(seen->events[0].outcome == dagflow::TaskOutcome::kFailed);
  CHECK(seen->events[0].will_retry);
  CHECK(seen->events[0].attempt == 0);
  CHECK(seen->events[1].outcome == dagflow::TaskOutcome::kExecuted);
  CHECK(seen->events[1].attempt == 1);
  CHECK(seen->events[1].io);
  CHECK(seen->events[1].worker >= 1);  // past the one compute worker
}
