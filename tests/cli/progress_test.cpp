#include "progress.hpp"  // cli/src: the unit under test, compiled into this executable

// The progress bar of `dagflow run` without a terminal or a clock: its text and ETA as pure
// functions, the running maps' shares (ChunkProgress) fed by several threads, and a ProgressBar
// writing to a file, whose last bar (drawn as a run ends) holds the state it was given.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/observer.hpp>

namespace {

using dagflow::ChunkEvent;
using dagflow::NodeId;
using dagflow::TaskEvent;
using dagflow::cli::ChunkProgress;
using dagflow::cli::ItemsProgress;
using dagflow::cli::progress_bar_text;
using dagflow::cli::progress_eta;
using dagflow::cli::progress_final_text;
using dagflow::cli::ProgressBar;
using dagflow::cli::ProgressMode;
using dagflow::cli::RunningMap;
using Clock = std::chrono::steady_clock;

ChunkEvent chunks(NodeId task, std::size_t units, std::size_t of,
                  Clock::time_point start = Clock::time_point{}) {
  ChunkEvent event;
  event.task = task;
  event.chunks = 1;
  event.units = units;
  event.of = of;
  event.start = start;
  event.end = start;
  return event;
}

TaskEvent finished(NodeId task, std::size_t items_computed = 0, std::size_t items_cached = 0) {
  TaskEvent event;
  event.task = task;
  event.items_computed = items_computed;
  event.items_cached = items_cached;
  return event;
}

// The ETA, or -1 when there is none.
double eta_of(std::optional<double> eta) { return eta.value_or(-1); }

// The one running map's share done, or -1 when none runs.
double share_of(const ChunkProgress& maps) {
  const std::vector<RunningMap> running = maps.running(Clock::now());
  return running.size() == 1 ? running[0].done : -1;
}

// A run of `to_run` tasks, as the Executor shows it to observers.
class FakeRun final : public dagflow::RunView {
 public:
  explicit FakeRun(std::size_t to_run) : to_run_(to_run) {}
  [[nodiscard]] std::size_t to_run() const noexcept override { return to_run_; }
  [[nodiscard]] std::size_t cached() const noexcept override { return 0; }
  [[nodiscard]] std::size_t threads() const noexcept override { return 2; }
  [[nodiscard]] std::string label(NodeId task) const override {
    return "task " + std::to_string(task);
  }
  [[nodiscard]] std::string_view op_name(NodeId /*task*/) const override { return {}; }
  [[nodiscard]] std::optional<dagflow::Hash128> key(NodeId /*task*/) const override {
    return std::nullopt;
  }

 private:
  std::size_t to_run_;
};

// A temporary file for a ProgressBar to write to, and what it holds.
class Output {
 public:
  Output() : file_(std::tmpfile(), &std::fclose) { REQUIRE(file_ != nullptr); }
  [[nodiscard]] std::FILE* file() const { return file_.get(); }
  [[nodiscard]] std::string text() const {
    std::fflush(file_.get());
    std::rewind(file_.get());
    std::string text;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_.get())) > 0;) {
      text.append(buffer, n);
    }
    return text;
  }
  // The last bar drawn: what follows the last '\r', without the erase to the end of the line.
  [[nodiscard]] std::string last_bar() const {
    std::string bar = text();
    bar.erase(0, bar.rfind('\r') + 1);
    if (bar.ends_with("\x1b[K")) bar.resize(bar.size() - 3);
    return bar;
  }

 private:
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
};

}  // namespace

// Without running maps or map items the bar and the final line read as they always did.
TEST_CASE("progress_bar_text: tasks only, unchanged", "[cli][progress]") {
  CHECK(progress_bar_text(45, 120, 3, 2.1, 3.4) ==
        "[#######.............]  45/120 tasks, 3 cached, 2.1 s, ETA 3.4 s");
  CHECK(progress_bar_text(0, 5, 0, 0.0, std::nullopt) ==
        "[....................] 0/5 tasks, 0 cached, 0.0 s");
  // A later run's tasks not announced yet: never past the end.
  CHECK(progress_bar_text(7, 5, 0, 1.0, std::nullopt) ==
        "[####################] 7/7 tasks, 0 cached, 1.0 s");
  CHECK(progress_final_text(120, 120, 3, 0.4, true) == "120/120 tasks done, 3 cached, 0.4 s");
  CHECK(progress_final_text(2, 5, 0, 0.4, false) == "2/5 tasks done, 0 cached, 0.4 s (failed)");
}

// A running map fills the bar by its share done and shows it; finished maps show their items.
TEST_CASE("progress_bar_text: running maps and map items", "[cli][progress]") {
  SECTION("one big map") {
    ItemsProgress items;
    items.running = {{.done = 0.412, .seconds = 2.0}};
    // (1 + 0.412) of 3 tasks: 9 of 20.
    CHECK(progress_bar_text(1, 3, 0, 2.1, 3.0, items) ==
          "[#########...........] 1/3 tasks, 0 cached, map 41%, 2.1 s, ETA 3.0 s");
    // Not done until it is: 99.9% shows 99%.
    items.running = {{.done = 0.999, .seconds = 2.0}};
    CHECK(progress_bar_text(0, 1, 0, 2.0, std::nullopt, items) ==
          "[###################.] 0/1 tasks, 0 cached, map 99%, 2.0 s");
  }
  SECTION("several maps, and items of finished ones") {
    ItemsProgress items;
    items.running = {{.done = 0.25, .seconds = 1.0}, {.done = 0.5, .seconds = 1.0}};
    items.mapped = 1'234'567;
    items.mapped_cached = 1'000;
    // (2 + 0.75) of 6: 9 of 20; the maps' mean is 37.5%.
    CHECK(progress_bar_text(2, 6, 1, 5.0, std::nullopt, items) ==
          "[#########...........] 2/6 tasks, 1 cached, 1,234,567 items mapped (1,000 cached), "
          "2 maps 37%, 5.0 s");
  }
  SECTION("items only") {
    ItemsProgress items;
    items.mapped = 999;
    CHECK(progress_bar_text(3, 3, 0, 0.5, std::nullopt, items) ==
          "[####################] 3/3 tasks, 0 cached, 999 items mapped, 0.5 s");
    CHECK(progress_final_text(3, 3, 0, 0.5, true, items) ==
          "3/3 tasks done, 0 cached, 999 items mapped, 0.5 s");
    items.mapped = 1'000'000;
    items.mapped_cached = 250'000;
    CHECK(progress_final_text(3, 3, 0, 4.1, false, items) ==
          "3/3 tasks done, 0 cached, 1,000,000 items mapped (250,000 cached), 4.1 s (failed)");
  }
  SECTION("never past the end") {
    ItemsProgress items;
    items.running = {{.done = 1.0, .seconds = 1.0}};
    CHECK_THAT(progress_bar_text(2, 2, 0, 1.0, std::nullopt, items),
               Catch::StartsWith("[####################] 2/2 tasks, 0 cached, map 100%"));
  }
}

// The ETA counts running maps by their share done, and waits for the slowest one.
TEST_CASE("progress_eta: tasks and running maps", "[cli][progress]") {
  SECTION("tasks only: as long as the tasks that ran, cache hits left out") {
    // 2 ran in 4 s, 7 left.
    CHECK(eta_of(progress_eta(3, 10, 1, 4.0)) == Approx(14.0));
    CHECK_FALSE(progress_eta(0, 3, 0, 1.0).has_value());  // nothing ran yet
    CHECK_FALSE(progress_eta(2, 2, 1, 1.0).has_value());  // nothing left
    CHECK_FALSE(progress_eta(1, 3, 1, 1.0).has_value());  // only a cache hit
  }
  SECTION("one big map gets an ETA") {
    // A quarter of the only task in 3 s: 9 s left.
    const std::vector<RunningMap> running{{.done = 0.25, .seconds = 3.0}};
    CHECK(eta_of(progress_eta(0, 1, 0, 3.0, running)) == Approx(9.0));
  }
  SECTION("a map's share counts as work done") {
    // 1.5 of 3 in 2 s: 2 s left; the map itself needs 1 s more.
    const std::vector<RunningMap> running{{.done = 0.5, .seconds = 1.0}};
    CHECK(eta_of(progress_eta(1, 3, 0, 2.0, running)) == Approx(2.0));
  }
  SECTION("no sooner than the slowest running map finishes") {
    // The tasks say 2 of 4 in 2 s (2 s left), but the map at 10% after 1 s needs 9 s more.
    const std::vector<RunningMap> running{{.done = 0.1, .seconds = 1.0},
                                          {.done = 0.9, .seconds = 1.0}};
    CHECK(eta_of(progress_eta(1, 4, 0, 2.0, running)) == Approx(9.0));
  }
  SECTION("a map that reported no share yet tells nothing") {
    const std::vector<RunningMap> running{{.done = 0.0, .seconds = 1.0}};
    CHECK_FALSE(progress_eta(0, 2, 0, 1.0, running).has_value());
  }
}

// A task's share is the largest of its loops' (units summed, capped at each loop's total): a
// reduce's tree, reported out of a smaller total after its blocks, never takes it back, nor does
// a retried attempt.
TEST_CASE("ChunkProgress: a task's share never goes backwards", "[cli][progress]") {
  ChunkProgress maps;
  CHECK(maps.running(Clock::now()).empty());
  const auto t0 = Clock::now();

  maps.add(chunks(4, 40, 100, t0 + std::chrono::seconds(1)));
  CHECK(share_of(maps) == Approx(0.4));
  maps.add(chunks(4, 10, 50, t0));  // a tree of 50 pairs: 20% of it
  CHECK(share_of(maps) == Approx(0.4));
  maps.add(chunks(4, 30, 50, t0));  // 80% of the tree
  CHECK(share_of(maps) == Approx(0.8));
  maps.add(chunks(4, 0, 0, t0));  // a loop of nothing: ignored
  CHECK(share_of(maps) == Approx(0.8));
  maps.add(chunks(4, 50, 50, t0));  // more than the loop has: capped
  CHECK(share_of(maps) == Approx(1.0));

  // The earliest chunk's start counts.
  const std::vector<RunningMap> running = maps.running(t0 + std::chrono::seconds(3));
  REQUIRE(running.size() == 1);
  CHECK(running[0].seconds == Approx(3.0));

  SECTION("a retried attempt starts its loops over below the floor") {
    maps.end_task(4, /*will_retry=*/true);
    CHECK(share_of(maps) == Approx(1.0));
    ChunkProgress other;
    other.add(chunks(5, 60, 100));
    other.end_task(5, /*will_retry=*/true);
    other.add(chunks(5, 30, 100));  // the second attempt: 30%, below its first attempt's 60%
    CHECK(share_of(other) == Approx(0.6));
    other.add(chunks(5, 40, 100));  // 70%: its loop was counted anew, not on top of 60
    CHECK(share_of(other) == Approx(0.7));
  }
  SECTION("a finished task is forgotten, others stay") {
    maps.add(chunks(9, 1, 4));
    maps.add(chunks(2, 3, 4));
    maps.end_task(4, /*will_retry=*/false);
    maps.end_task(11, /*will_retry=*/false);  // never reported chunks
    const std::vector<RunningMap> left = maps.running(Clock::now());
    REQUIRE(left.size() == 2);
    CHECK(left[0].done == Approx(0.75));  // task 2, in task order
    CHECK(left[1].done == Approx(0.25));  // task 9
    maps.clear();
    CHECK(maps.running(Clock::now()).empty());
  }
}

// Workers report at once: no units are lost, and a reader drawing meanwhile never sees a share
// shrink.
TEST_CASE("ChunkProgress: chunk events from several threads", "[cli][progress][threads]") {
  const int threads = GENERATE(1, 2, 4);
  constexpr std::size_t kEvents = 2'000;
  const std::size_t units = static_cast<std::size_t>(threads) * kEvents;
  ChunkProgress maps;
  std::latch start(threads + 1);
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&maps, &start, w] {
      start.arrive_and_wait();
      for (std::size_t i = 0; i < kEvents; ++i) {
        maps.add(chunks(1, 1, 4 * kEvents * 4));  // task 1: ends at threads / 16
        maps.add(chunks(2, 1, 2 * kEvents));      // task 2: full by any 2 threads
        // Each worker's task of its own, finished when it is done.
        maps.add(chunks(static_cast<NodeId>(10 + w), 1, kEvents));
      }
      maps.end_task(static_cast<NodeId>(10 + w), /*will_retry=*/false);
    });
  }
  // Tasks 1 and 2 come first (task order); a worker reports them before its own task.
  std::vector<double> last(2, 0.0);
  bool shrank = false;
  bool out_of_range = false;
  start.arrive_and_wait();
  for (int i = 0; i < 2'000; ++i) {
    const std::vector<RunningMap> now = maps.running(Clock::now());
    for (const RunningMap& map : now) out_of_range = out_of_range || map.done < 0 || map.done > 1;
    if (now.size() < 2) continue;
    for (std::size_t t = 0; t < 2; ++t) {
      shrank = shrank || now[t].done < last[t];
      last[t] = now[t].done;
    }
  }
  for (std::thread& worker : workers) worker.join();
  CHECK_FALSE(shrank);
  CHECK_FALSE(out_of_range);
  const std::vector<RunningMap> running = maps.running(Clock::now());
  REQUIRE(running.size() == 2);  // the workers' own tasks finished
  CHECK(running[0].done == Approx(static_cast<double>(units) / (16.0 * kEvents)));
  CHECK(running[1].done == Approx(std::min(1.0, static_cast<double>(units) / (2.0 * kEvents))));
}

// The bar as a run ends shows the running map's share, and a finished map's items reach the
// final line; chunk events come from several threads, as from workers.
TEST_CASE("ProgressBar: running maps fill the bar, map items reach the final line",
          "[cli][progress]") {
  Output out;
  const FakeRun run(3);
  SECTION("a map running") {
    ProgressBar bar(ProgressMode::kAnimated, out.file());
    bar.on_run_start(run);
    bar.on_task(finished(0));
    // 4 workers, 103 units each of 1,000: 41.2%.
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
      workers.emplace_back([&bar] {
        for (int i = 0; i < 103; ++i) bar.on_chunks(chunks(7, 1, 1'000, Clock::now()));
      });
    }
    for (std::thread& worker : workers) worker.join();
    bar.on_run_end();
    const std::string last = out.last_bar();
    CHECK_THAT(last, Catch::StartsWith("[#########...........] 1/3 tasks, 0 cached, map 41%, ") &&
                         Catch::Contains(", ETA "));
    bar.finish(true);
    CHECK_THAT(out.text(),
               Catch::Contains("\r1/3 tasks done, 0 cached, ") && !Catch::Contains("items mapped"));
  }
  SECTION("a map finished") {
    ProgressBar bar(ProgressMode::kAnimated, out.file());
    bar.on_run_start(run);
    bar.on_chunks(chunks(7, 500, 1'000));
    bar.on_task(finished(7, 750'000, 250'000));
    bar.on_task(finished(8));
    bar.on_run_end();
    CHECK_THAT(out.last_bar(), Catch::StartsWith("[#############.......] 2/3 tasks, 0 cached, "
                                                 "1,000,000 items mapped (250,000 cached), ") &&
                                   !Catch::Contains("map "));
    bar.finish(false);
    CHECK_THAT(out.text(), Catch::Contains("\r2/3 tasks done, 0 cached, 1,000,000 items mapped "
                                           "(250,000 cached), ") &&
                               Catch::EndsWith(" s (failed)\x1b[K\n"));
  }
  SECTION("final line only") {
    ProgressBar bar(ProgressMode::kFinalLine, out.file());
    bar.on_run_start(run);
    bar.on_chunks(chunks(7, 500, 1'000));
    bar.on_task(finished(7, 12'345));
    bar.on_run_end();
    CHECK(out.text().empty());
    bar.finish(true);
    CHECK_THAT(out.text(), Catch::StartsWith("1/3 tasks done, 0 cached, 12,345 items mapped, ") &&
                               !Catch::Contains("\r"));
  }
}
