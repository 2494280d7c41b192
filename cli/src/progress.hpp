// ProgressBar: how far `dagflow run` has come, on stderr (never stdout, so that `--json` output
// stays one JSON object). A RunObserver: counters are atomics, bumped by the Executor's workers;
// the running maps' chunk events go to a ChunkProgress (one mutex), so that one big map fills the
// bar as its items run; while a run is active, a background thread redraws the bar about ten
// times a second, so that the elapsed time and the ETA move even while one long task runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <dagflow/engine/observer.hpp>

namespace dagflow::cli {

/// How progress is shown.
enum class ProgressMode : std::uint8_t {
  kOff,        ///< nothing
  kAnimated,   ///< a bar redrawn in place with '\r', then the final line
  kFinalLine,  ///< only the final line (stderr is no terminal but --progress asked for it)
};

/// The mode for `dagflow run`: --progress forces it on (animated on a terminal, else the final
/// line only), --no-progress forces it off; otherwise a bar when stderr is a terminal, unless
/// --quiet.
[[nodiscard]] ProgressMode progress_mode(bool forced_on, bool forced_off, bool quiet,
                                         bool stderr_is_tty) noexcept;

/// A running map (or reduce: any task that reports chunks, RunObserver::on_chunks).
struct RunningMap {
  /// The share of its work done, 0 .. 1.
  double done = 0;
  /// Seconds since its first reported chunk started.
  double seconds = 0;
};

/// What the bar shows of maps beside the tasks. Empty (the default): nothing.
struct ItemsProgress {
  /// The maps running (in task order).
  std::vector<RunningMap> running{};
  /// Items of the maps that finished: computed or taken from their per-block cache entries.
  std::size_t mapped = 0;
  /// Of `mapped`, those taken from per-block cache entries.
  std::size_t mapped_cached = 0;
};

/// The bar's text (no '\r'): "[#########.........]  45/120 tasks, 3 cached, 2.1 s, ETA 3.4 s";
/// the ETA is left out when `eta_seconds` is empty. With `items`, after the cached tasks: the
/// items of the maps that finished ("1,000,000 items mapped", with " (250,000 cached)" when some
/// came from per-block cache entries) and how far the running ones are ("map 41%"; for several,
/// "2 maps 37%", their mean). Running maps fill the bar by their share done, so one big map
/// fills it smoothly.
[[nodiscard]] std::string progress_bar_text(std::size_t done, std::size_t total, std::size_t cached,
                                            double elapsed_seconds,
                                            std::optional<double> eta_seconds,
                                            const ItemsProgress& items = {});

/// The final line: "120/120 tasks done, 3 cached, 0.4 s", with " (failed)" when !ok; with map
/// items (items.mapped > 0), "120/120 tasks done, 3 cached, 1,000,000 items mapped, 0.4 s"
/// (items.running is not shown).
[[nodiscard]] std::string progress_final_text(std::size_t done, std::size_t total,
                                              std::size_t cached, double elapsed_seconds, bool ok,
                                              const ItemsProgress& items = {});

/// The seconds left, when they can be told: the tasks left take as long, on average, as the
/// tasks that ran so far (cache hits cost nothing and are not counted), where a running map
/// counts as its share done (and the rest of it as left); and no sooner than the slowest running
/// map finishes at its own pace so far. Empty when nothing ran yet or nothing is left.
[[nodiscard]] std::optional<double> progress_eta(std::size_t done, std::size_t total,
                                                 std::size_t cached, double elapsed_seconds,
                                                 std::span<const RunningMap> running = {});

/// How far the running maps (and reduces) of a run are, from their chunk events. A task may run
/// several chunked loops, each reported out of its own total (a reduce: a loop over its blocks,
/// then its tree's loops of pairs): each loop's units are summed and capped at its total, and a
/// task's share done is the largest share of any of its loops so far, so it never goes
/// backwards, not even when a failed attempt is retried. Thread-safe: one mutex, taken per
/// chunk event (a worker sends about 20 a second) and per finished task while maps run.
class ChunkProgress {
 public:
  using Clock = std::chrono::steady_clock;

  /// Counts a group of chunks of `event.task`.
  void add(const ChunkEvent& event);
  /// The task finished (it is forgotten) or failed and `will_retry` (its share done so far stays
  /// a floor while the next attempt's loops start over). Cheap when no map runs.
  void end_task(NodeId task, bool will_retry);
  /// Forgets every task (a run ended: what did not finish will not report again).
  void clear();
  /// The running maps in task order, their `seconds` counted to `now`.
  [[nodiscard]] std::vector<RunningMap> running(Clock::time_point now) const;

 private:
  struct Task {
    std::map<std::size_t, std::size_t> units_of;  // units done per loop total
    double done = 0;
    Clock::time_point first_start = Clock::time_point::max();
  };

  mutable std::mutex mutex_;  // guards tasks_
  std::map<NodeId, Task> tasks_;
  std::atomic<std::size_t> count_{0};  // tasks_.size(), read without the lock
};

/// A RunObserver that shows the progress of every run it watches, accumulated: a Pipeline may
/// start several Executor runs (probes that take inputs), each adding its tasks to the total.
/// Elapsed time counts from construction. Call finish() once, after the pipeline's run returned
/// or threw, to print the final line.
class ProgressBar final : public RunObserver {
 public:
  /// `mode` kAnimated or kFinalLine (kOff: make no ProgressBar). Writes to `out` (stderr).
  explicit ProgressBar(ProgressMode mode, std::FILE* out = stderr);
  /// Stops the redrawing thread if a run never ended.
  ~ProgressBar() override;
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Adds the run's tasks (to run and cached) to the total; animated, draws the bar and starts
  /// the redrawing thread (for the outermost of nested runs).
  void on_run_start(const RunView& run) override;
  /// Counts a finished task or a cache hit, and a map's items (called by workers; lock-free
  /// unless a map runs).
  void on_task(const TaskEvent& event) override;
  /// Animated: counts the units a running map's chunks covered (called by workers).
  void on_chunks(const ChunkEvent& event) override;
  /// Stops and joins the redrawing thread when the outermost run ends, and forgets the maps that
  /// did not finish.
  void on_run_end() override;

  /// Prints the final line (animated: over the bar, which is cleared). `ok` false after a
  /// failed run. Call it after the runs ended; later calls print nothing.
  void finish(bool ok);

  /// Prints `line` on a line of its own above the bar (e.g. a warning of the Executor) without
  /// garbling it. Thread-safe.
  void print_line(std::string_view line);

 private:
  using Clock = std::chrono::steady_clock;

  // Draws the bar over the current line; the caller holds mutex_.
  void draw_locked();
  void write_locked(std::string_view text);
  [[nodiscard]] double elapsed_seconds() const;
  void redraw_until_stopped(const std::stop_token& stop);

  const ProgressMode mode_;
  std::FILE* const out_;
  const Clock::time_point start_ = Clock::now();

  std::atomic<std::size_t> total_{0};
  std::atomic<std::size_t> done_{0};
  std::atomic<std::size_t> cached_{0};
  std::atomic<std::size_t> mapped_{0};
  std::atomic<std::size_t> mapped_cached_{0};
  ChunkProgress maps_;  // animated only: the final line needs no shares

  std::mutex mutex_;  // guards everything below and all writes to out_
  std::condition_variable_any wake_;
  std::jthread redraw_;
  int active_runs_ = 0;
  bool bar_shown_ = false;  // the current line holds the bar
  bool finished_ = false;
};

}  // namespace dagflow::cli
