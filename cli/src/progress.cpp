#include "progress.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace dagflow::cli {

namespace {

// About ten redraws a second: smooth enough for people, cheap for the run.
constexpr std::chrono::milliseconds kRedrawInterval{100};
constexpr std::size_t kBarWidth = 20;

// Erases from the cursor to the end of the line (a shorter line must not leave the end of a
// longer one behind).
constexpr std::string_view kClearToEnd = "\x1b[K";

std::size_t digits(std::size_t n) {
  std::size_t count = 1;
  while (n >= 10) {
    n /= 10;
    ++count;
  }
  return count;
}

}  // namespace

ProgressMode progress_mode(bool forced_on, bool forced_off, bool quiet,
                           bool stderr_is_tty) noexcept {
  if (forced_off) return ProgressMode::kOff;
  if (forced_on) return stderr_is_tty ? ProgressMode::kAnimated : ProgressMode::kFinalLine;
  return stderr_is_tty && !quiet ? ProgressMode::kAnimated : ProgressMode::kOff;
}

std::string progress_bar_text(std::size_t done, std::size_t total, std::size_t cached,
                              double elapsed_seconds, std::optional<double> eta_seconds) {
  // A later run may not have announced its tasks yet: never draw past the end.
  total = std::max(total, done);
  const std::size_t filled = total == 0 ? 0 : done * kBarWidth / total;
  std::string text = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  text += fmt::format("{:>{}}/{} tasks, {} cached, {:.1f} s", done, digits(total), total, cached,
                      elapsed_seconds);
  if (eta_seconds) text += fmt::format(", ETA {:.1f} s", *eta_seconds);
  return text;
}

std::string progress_final_text(std::size_t done, std::size_t total, std::size_t cached,
                                double elapsed_seconds, bool ok) {
  return fmt::format("{}/{} tasks done, {} cached, {:.1f} s{}", done, std::max(total, done), cached,
                     elapsed_seconds, ok ? "" : " (failed)");
}

ProgressBar::ProgressBar(ProgressMode mode, std::FILE* out) : mode_(mode), out_(out) {}

ProgressBar::~ProgressBar() {
  std::jthread redraw;
  {
    std::lock_guard lock(mutex_);
    redraw = std::move(redraw_);
  }
  // jthread's destructor asks it to stop and joins it, outside the lock it needs to finish.
}

void ProgressBar::on_run_start(const RunView& run) {
  total_.fetch_add(run.to_run() + run.cached(), std::memory_order_relaxed);
  if (mode_ != ProgressMode::kAnimated) return;
  std::lock_guard lock(mutex_);
  if (active_runs_++ > 0) return;  // a nested run: the outer one's thread keeps drawing
  draw_locked();
  redraw_ = std::jthread([this](const std::stop_token& stop) { redraw_until_stopped(stop); });
}

void ProgressBar::on_task(const TaskEvent& event) {
  if (event.will_retry) return;  // an attempt that will be retried: the task is not done
  if (event.outcome == TaskOutcome::kMemoryHit || event.outcome == TaskOutcome::kDiskHit) {
    cached_.fetch_add(1, std::memory_order_relaxed);
  }
  done_.fetch_add(1, std::memory_order_relaxed);
}

void ProgressBar::on_run_end() {
  if (mode_ != ProgressMode::kAnimated) return;
  std::jthread redraw;
  {
    std::lock_guard lock(mutex_);
    if (active_runs_ == 0 || --active_runs_ > 0) return;
    draw_locked();  // the run's last state, until the next run or finish()
    redraw = std::move(redraw_);
  }
  // Stopped and joined here, by jthread's destructor: the thread takes mutex_ to draw, so it
  // must not be joined while the lock is held.
}

void ProgressBar::finish(bool ok) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  std::string line = progress_final_text(
      done_.load(std::memory_order_relaxed), total_.load(std::memory_order_relaxed),
      cached_.load(std::memory_order_relaxed), elapsed_seconds(), ok);
  if (mode_ == ProgressMode::kAnimated) line = "\r" + line + std::string(kClearToEnd);
  write_locked(line + "\n");
  bar_shown_ = false;
}

void ProgressBar::print_line(std::string_view line) {
  std::lock_guard lock(mutex_);
  std::string text;
  if (bar_shown_) text = "\r" + std::string(kClearToEnd);
  text += line;
  text += '\n';
  write_locked(text);
  bar_shown_ = false;
  if (active_runs_ > 0 && !finished_) draw_locked();
}

void ProgressBar::draw_locked() {
  const std::size_t done = done_.load(std::memory_order_relaxed);
  const std::size_t total = total_.load(std::memory_order_relaxed);
  const std::size_t cached = cached_.load(std::memory_order_relaxed);
  const double elapsed = elapsed_seconds();
  // The ETA assumes the tasks left take as long, on average, as the tasks that ran so far
  // (cache hits cost nothing and are not counted).
  std::optional<double> eta;
  const std::size_t ran = done - std::min(done, cached);
  if (ran > 0 && total > done) {
    eta = elapsed / static_cast<double>(ran) * static_cast<double>(total - done);
  }
  write_locked("\r" + progress_bar_text(done, total, cached, elapsed, eta) +
               std::string(kClearToEnd));
  bar_shown_ = true;
}

void ProgressBar::write_locked(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void ProgressBar::redraw_until_stopped(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    // Returns early when stop is requested; a spurious wake-up only redraws once more.
    wake_.wait_for(lock, stop, kRedrawInterval, [] { return false; });
    if (stop.stop_requested()) break;
    draw_locked();
  }
}

}  // namespace dagflow::cli
