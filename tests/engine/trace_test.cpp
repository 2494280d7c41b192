#include <dagflow/engine/trace.hpp>

// Tests of TraceRecorder and the Executor's trace options: the Chrome trace JSON, the SVG
// timeline, trace_path, and dry_run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace fs = std::filesystem;
using dagflow::test::count_of;
using dagflow::test::read_file;
using dagflow::test::TempDir;

namespace {

long tr_inc(long x) { return x + 1; }
long tr_add(long a, long b) { return a + b; }
long tr_fail(long) { throw std::runtime_error("boom"); }

}  // namespace

// The Chrome trace JSON has one "X" event per executed task with name, times, worker and
// escaped labels, so chrome://tracing and Perfetto show the run as it happened.
TEST_CASE("TraceRecorder: a Chrome trace has one complete event per executed task, with its fields",
          "[engine][trace]") {
  auto trace = std::make_shared<dagflow::TraceRecorder>();
  dagflow::Executor ex({.threads = 2, .observers = {trace}});
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("tr_inc", tr_inc), 1L);
  auto b = g.delayed(dagflow::op("tr_inc", tr_inc), 2L);
  g.set_label(b, "second \"inc\"");  // quotes must be escaped
  auto sum = g.delayed(dagflow::op("tr_add", tr_add), a, b);
  auto squares = dagflow::map(g, dagflow::op("tr_square", [](const long& x) { return x * x; }),
                              std::vector<long>(500, 3));
  CHECK(ex.compute(sum) == 5);
  CHECK(ex.compute(squares).size() == 500);
  CHECK(ex.compute(sum) == 5);  // a memory hit: an instant event

  const dagflow::Value doc = dagflow::from_json(trace->chrome_trace());  // valid JSON
  const auto& events = doc.as_map().at("traceEvents").as_list();
  std::size_t complete = 0, instant = 0, names = 0, parts = 0;
  for (const dagflow::Value& e : events) {
    const auto& m = e.as_map();
    const std::string& ph = m.at("ph").as_string();
    CHECK(m.at("pid").as_int() == 1);
    CHECK(m.at("tid").as_int() >= 0);
    if (ph == "M") {
      ++names;
      CHECK(m.at("name").as_string() == "thread_name");
      continue;
    }
    CHECK(m.at("ts").as_double() >= 0);  // hits too: they are found after the run started
    CHECK(m.contains("cat"));
    if (m.at("cat").as_string() == "chunks") {  // a map's chunks on one worker
      ++parts;
      CHECK(m.at("name").as_string() == "map(tr_square) (part)");
      CHECK(m.at("args").as_map().at("op").as_string() == "map(tr_square)");
      CHECK(m.at("args").as_map().at("units").as_int() >= 1);
      continue;
    }
    CHECK(m.at("args").as_map().contains("cache"));
    if (ph == "X") {
      ++complete;
      CHECK(m.at("dur").as_double() >= 0);
      CHECK(m.at("args").as_map().at("cache").as_string() == "miss");
    } else {
      REQUIRE(ph == "i");
      ++instant;
      CHECK(m.at("args").as_map().at("cache").as_string() == "memory hit");
      CHECK(m.at("name").as_string() == "tr_add");
    }
  }
  CHECK(complete == 4);  // a, b, sum, squares
  CHECK(instant == 1);
  CHECK(names == 2);  // one per worker
  CHECK(parts >= 1);
  const auto spans = trace->spans();
  const auto map_span = std::find_if(spans.begin(), spans.end(), [](const auto& s) {
    return s.op == "map(tr_square)" && !s.part;
  });
  REQUIRE(map_span != spans.end());
  CHECK(map_span->items_computed == 500);
  CHECK(map_span->chunks >= 1);
  CHECK(std::count_if(spans.begin(), spans.end(),
                      [](const auto& s) { return s.name == "second \"inc\""; }) == 1);
}

// A map's work shows on the lanes of the workers that ran it: its parts cover every item once,
// each worker's consecutive chunks merged into few parts, drawn in the SVG too.
TEST_CASE("TraceRecorder: a map's chunks show on the workers that ran them", "[engine][trace]") {
  auto trace = std::make_shared<dagflow::TraceRecorder>();
  dagflow::Executor ex({.threads = 2, .observers = {trace}});
  dagflow::Graph g;
  std::atomic<int> started{0};
  // Each worker's first item waits for the other's, so both run some of the map.
  auto slow = dagflow::map(
      g,
      [&started](const long& x) {
        if (x < 2) {
          ++started;
          const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (started.load() < 2 && std::chrono::steady_clock::now() < until) {
            std::this_thread::yield();
          }
        }
        return x + 1;
      },
      [] {
        std::vector<long> xs(20'000);
        std::iota(xs.begin(), xs.end(), 0L);
        return xs;
      }(),
      dagflow::ChunkOptions{.label = "slow", .chunk_size = 1});
  CHECK(ex.compute(slow).size() == 20'000);
  const auto spans = trace->spans();
  std::size_t units = 0;
  std::set<std::size_t> workers;
  std::size_t parts = 0;
  for (const auto& s : spans) {
    if (!s.part) continue;
    ++parts;
    CHECK(s.name == "slow");
    units += s.items_computed;
    workers.insert(s.worker);
  }
  CHECK(units == 20'000);
  CHECK(workers == std::set<std::size_t>{0, 1});
  CHECK(parts < 200);  // grouped, not one per chunk of one item
  const std::string svg = trace->timeline_svg();
  CHECK(svg.find("slow (part)") != std::string::npos);
  CHECK(svg.find("1 tasks on 2 workers") != std::string::npos);  // parts are no tasks
}

// With a disk cache each span carries its task's 32-hex-digit content key.
TEST_CASE("TraceRecorder: a disk-cached run puts content keys in the trace", "[engine][trace]") {
  const TempDir tmp;
  const fs::path dir = tmp.path() / "cache";
  auto trace = std::make_shared<dagflow::TraceRecorder>();
  {
    dagflow::Executor ex({.cache_dir = dir, .observers = {trace}});
    dagflow::Graph g;
    auto a = g.delayed(dagflow::op("tr_inc", tr_inc), 1L);
    CHECK(ex.compute(a) == 2);
  }
  const auto spans = trace->spans();
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].key.size() == 32);
}

// The SVG timeline draws every recorded span (executed, failed, hit) once, one lane per worker,
// one legend entry per op, failures outlined and hits marked.
TEST_CASE(
    "TraceRecorder: the SVG timeline has a lane per worker, a bar per task, a legend and hit marks",
    "[engine][trace]") {
  auto trace = std::make_shared<dagflow::TraceRecorder>();
  dagflow::Executor ex({.threads = 2, .observers = {trace}});
  dagflow::Graph g;
  std::vector<dagflow::Delayed<long>> parts;
  for (long i = 0; i < 10; ++i) parts.push_back(g.delayed(dagflow::op("tr_inc", tr_inc), i));
  auto total = g.delayed(
      dagflow::op("tr_total", [](const std::vector<long>& v) { return v.size(); }), parts);
  (void)ex.compute(total);
  (void)ex.compute(total);  // hit
  auto failing = g.delayed(dagflow::op("tr_fail", tr_fail), 1L);
  CHECK_THROWS_AS(ex.compute(failing), dagflow::TaskError);

  const std::string svg = trace->timeline_svg();
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(svg.ends_with("</svg>\n"));
  CHECK(count_of(svg, "<title>") == 13);  // 10 + 1 executed, 1 failed, 1 hit
  CHECK(count_of(svg, "<title>") == count_of(svg, "</title>"));
  CHECK(count_of(svg, ">worker 0<") == 1);
  CHECK(count_of(svg, ">worker 1<") == 1);
  CHECK(count_of(svg, ">cache hits<") == 1);
  CHECK(count_of(svg, ">tr_inc<") == 1);  // the legend
  CHECK(count_of(svg, ">tr_fail<") == 1);
  CHECK(count_of(svg, "stroke=\"#D00000\"") == 1);  // the failed task, outlined
  CHECK(count_of(svg, "<path ") == 1);              // the hit
}

// ExecutorOptions::trace_path is rewritten after each compute with all spans so far; a path that
// cannot be written is a warning through the log callback, never a failed run.
TEST_CASE("Executor: trace_path gets the trace of every compute, and a bad path only warns",
          "[engine][trace]") {
  const TempDir tmp;
  const fs::path file = tmp.path() / "trace.json";
  {
    dagflow::Executor ex({.trace_path = file});
    dagflow::Graph g;
    auto a = g.delayed(dagflow::op("tr_inc", tr_inc), 1L);
    auto b = g.delayed(dagflow::op("tr_inc", tr_inc), a);
    CHECK(ex.compute(a) == 2);
    CHECK(count_of(read_file(file), "\"ph\":\"X\"") == 1);
    CHECK(ex.compute(b) == 3);
    CHECK(count_of(read_file(file), "\"ph\":\"X\"") == 2);  // both runs
  }
  std::vector<std::string> warnings;
  dagflow::Executor bad({.log = [&](std::string_view m) { warnings.emplace_back(m); },
                         .trace_path = "/nonexistent-dir/trace.json"});
  dagflow::Graph g;
  CHECK(bad.compute(g.delayed(tr_inc, 1L)) == 2);  // the run still succeeds
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("cannot write"));
}

// dry_run answers from the graph and the caches alone: no task body runs.
TEST_CASE("Executor: dry_run tells what would run and what is cached, running nothing",
          "[engine][dry-run]") {
  static std::atomic<int> runs{0};
  const auto counted = [](long x) { return ++runs, x + 1; };
  dagflow::Executor ex;
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("tr_counted", +counted), 1L);
  auto b = g.delayed(dagflow::op("tr_counted", +counted), a);
  auto c = g.delayed(dagflow::op("tr_counted", +counted), b);
  const dagflow::DelayedBase* targets[] = {&c};
  const dagflow::DryRun before = ex.dry_run(targets);
  CHECK(before.to_run == std::vector<dagflow::NodeId>{a.id(), b.id(), c.id()});
  CHECK(before.cached.empty());
  CHECK(runs == 0);
  CHECK(ex.compute(b) == 3);
  const dagflow::DryRun after = ex.dry_run(targets);
  CHECK(after.to_run == std::vector<dagflow::NodeId>{c.id()});
  CHECK(after.cached == std::vector<dagflow::NodeId>{b.id()});
  CHECK(runs == 2);
}

// A task that waits for a resource, an I/O task and a retried one: the trace shows an "io" lane,
// the wait, and each attempt.
TEST_CASE("TraceRecorder: I/O lanes, resource waits and retries", "[engine][trace][options]") {
  auto trace = std::make_shared<dagflow::TraceRecorder>();
  dagflow::Executor ex({.threads = 1, .observers = {trace}, .resources = {{"db", 1}}});
  dagflow::Graph g;
  std::atomic<int> calls{0};
  auto flaky = g.delayed(
      [&calls](long x) {
        if (++calls == 1) throw std::runtime_error("once");
        return x;
      },
      1L);
  g.set_label(flaky, "flaky");
  g.set_options(flaky, {.io = true, .resources = {{"db", 1}}, .retries = 1});
  auto other = g.delayed(tr_inc, 2L);
  g.set_label(other, "other");
  g.set_options(other, {.io = true, .resources = {{"db", 1}}});
  CHECK(ex.compute(g.delayed(tr_add, flaky, other)) == 4);

  const std::vector<dagflow::TraceSpan> spans = trace->spans();
  CHECK(std::count_if(spans.begin(), spans.end(), [](const auto& s) { return s.io; }) == 3);
  CHECK(std::count_if(spans.begin(), spans.end(), [](const auto& s) { return s.will_retry; }) == 1);
  const std::string json = trace->chrome_trace();
  CHECK_THAT(json, Catch::Contains("\"name\":\"io 0\"") && Catch::Contains("\"flaky #2\"") &&
                       Catch::Contains("\"retried\":true"));
  // One db unit for two tasks: one of them queued (its wait is in the trace when it was
  // measurable).
  const bool waited =
      std::any_of(spans.begin(), spans.end(), [](const auto& s) { return s.wait_us > 0; });
  if (waited) CHECK_THAT(json, Catch::Contains("waiting for resources"));
  const std::string svg = trace->timeline_svg();
  CHECK_THAT(svg, Catch::Contains(">io 0<") && Catch::Contains("#F08000"));
}
