// ProgressBar: how far `dagflow run` has come, on stderr (never stdout, so that `--json` output
// stays one JSON object). A RunObserver: counters are atomics, bumped by the Executor's workers;
// while a run is active, a background thread redraws the bar about ten times a second, so that
// the elapsed time and the ETA move even while one long task runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

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

/// The bar's text (no '\r'): "[#########.........]  45/120 tasks, 3 cached, 2.1 s, ETA 3.4 s";
/// the ETA is left out when `eta_seconds` is empty.
[[nodiscard]] std::string progress_bar_text(std::size_t done, std::size_t total, std::size_t cached,
                                            double elapsed_seconds,
                                            std::optional<double> eta_seconds);

/// The final line: "120/120 tasks done, 3 cached, 0.4 s", with " (failed)" when !ok.
[[nodiscard]] std::string progress_final_text(std::size_t done, std::size_t total,
                                              std::size_t cached, double elapsed_seconds, bool ok);

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
  /// Counts a finished task or a cache hit (lock-free: called by workers).
  void on_task(const TaskEvent& event) override;
  /// Stops and joins the redrawing thread when the outermost run ends.
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

  std::mutex mutex_;  // guards everything below and all writes to out_
  std::condition_variable_any wake_;
  std::jthread redraw_;
  int active_runs_ = 0;
  bool bar_shown_ = false;  // the current line holds the bar
  bool finished_ = false;
};

}  // namespace dagflow::cli
