#include "progress.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
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

// 1234567 -> "1,234,567" (fmt's {:L} would follow the global locale: "C" in the command).
std::string grouped(std::size_t n) {
  std::string text = std::to_string(n);
  for (std::size_t at = text.size(); at > 3; at -= 3) text.insert(at - 3, 1, ',');
  return text;
}

double sum_done(std::span<const RunningMap> running) {
  return std::accumulate(running.begin(), running.end(), 0.0,
                         [](double sum, const RunningMap& m) { return sum + m.done; });
}

// ", 1,000,000 items mapped (250,000 cached)", or nothing without map items.
std::string mapped_text(const ItemsProgress& items) {
  if (items.mapped == 0) return {};
  std::string text = fmt::format(", {} items mapped", grouped(items.mapped));
  if (items.mapped_cached > 0) text += fmt::format(" ({} cached)", grouped(items.mapped_cached));
  return text;
}

}  // namespace

ProgressMode progress_mode(bool forced_on, bool forced_off, bool quiet,
                           bool stderr_is_tty) noexcept {
  if (forced_off) return ProgressMode::kOff;
  if (forced_on) return stderr_is_tty ? ProgressMode::kAnimated : ProgressMode::kFinalLine;
  return stderr_is_tty && !quiet ? ProgressMode::kAnimated : ProgressMode::kOff;
}

std::string progress_bar_text(std::size_t done, std::size_t total, std::size_t cached,
                              double elapsed_seconds, std::optional<double> eta_seconds,
                              const ItemsProgress& items) {
  // A later run may not have announced its tasks yet: never draw past the end.
  total = std::max(total, done);
  // The running maps' shares fill the bar too (done * width is exact, so without them the fill
  // is done * width / total rounded down, as it always was).
  const double work = static_cast<double>(done) + sum_done(items.running);
  const std::size_t filled =
      total == 0
          ? 0
          : std::min(kBarWidth, static_cast<std::size_t>(work * static_cast<double>(kBarWidth) /
                                                         static_cast<double>(total)));
  std::string text = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  text += fmt::format("{:>{}}/{} tasks, {} cached", done, digits(total), total, cached);
  text += mapped_text(items);
  if (!items.running.empty()) {
    // Rounded down: 100% only once one of its loops (its blocks, say) is complete.
    const auto percent = static_cast<int>(
        std::floor(sum_done(items.running) * 100 / static_cast<double>(items.running.size())));
    if (items.running.size() == 1) {
      text += fmt::format(", map {}%", percent);
    } else {
      text += fmt::format(", {} maps {}%", items.running.size(), percent);
    }
  }
  text += fmt::format(", {:.1f} s", elapsed_seconds);
  if (eta_seconds) text += fmt::format(", ETA {:.1f} s", *eta_seconds);
  return text;
}

std::string progress_final_text(std::size_t done, std::size_t total, std::size_t cached,
                                double elapsed_seconds, bool ok, const ItemsProgress& items) {
  return fmt::format("{}/{} tasks done, {} cached{}, {:.1f} s{}", done, std::max(total, done),
                     cached, mapped_text(items), elapsed_seconds, ok ? "" : " (failed)");
}

std::optional<double> progress_eta(std::size_t done, std::size_t total, std::size_t cached,
                                   double elapsed_seconds, std::span<const RunningMap> running) {
  if (total <= done) return std::nullopt;
  const double shares = sum_done(running);
  const double ran = static_cast<double>(done - std::min(done, cached)) + shares;
  const double left = std::max(0.0, static_cast<double>(total - done) - shares);
  std::optional<double> eta;
  if (ran > 0) eta = elapsed_seconds / ran * left;
  // The run cannot end before its slowest running map, at that map's own pace so far.
  for (const RunningMap& map : running) {
    if (map.done <= 0) continue;
    const double own = map.seconds / map.done * (1 - std::min(map.done, 1.0));
    eta = std::max(eta.value_or(0.0), own);
  }
  return eta;
}

void ChunkProgress::add(const ChunkEvent& event) {
  if (event.of == 0) return;
  std::lock_guard lock(mutex_);
  auto [it, added] = tasks_.try_emplace(event.task);
  if (added) count_.fetch_add(1, std::memory_order_relaxed);
  Task& task = it->second;
  std::size_t& units = task.units_of[event.of];
  units = std::min(event.of, units + event.units);
  task.done = std::max(task.done, static_cast<double>(units) / static_cast<double>(event.of));
  task.first_start = std::min(task.first_start, event.start);
}

void ChunkProgress::end_task(NodeId task, bool will_retry) {
  // A task's chunk events come before its end, from threads its body waited for: with none
  // counted by then, it had none.
  if (count_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(mutex_);
  const auto it = tasks_.find(task);
  if (it == tasks_.end()) return;
  if (will_retry) {
    it->second.units_of.clear();  // the next attempt starts its loops over
    return;
  }
  tasks_.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
}

void ChunkProgress::clear() {
  std::lock_guard lock(mutex_);
  tasks_.clear();
  count_.store(0, std::memory_order_relaxed);
}

std::vector<RunningMap> ChunkProgress::running(Clock::time_point now) const {
  std::vector<RunningMap> maps;
  std::lock_guard lock(mutex_);
  maps.reserve(tasks_.size());
  for (const auto& [id, task] : tasks_) {
    const double seconds =
        std::max(0.0, std::chrono::duration<double>(now - task.first_start).count());
    maps.push_back({.done = task.done, .seconds = seconds});
  }
  return maps;
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
  maps_.end_task(event.task, event.will_retry);
  if (event.will_retry) return;  // an attempt that will be retried: the task is not done
  if (event.outcome == TaskOutcome::kMemoryHit || event.outcome == TaskOutcome::kDiskHit) {
    cached_.fetch_add(1, std::memory_order_relaxed);
  }
  if (event.items_computed + event.items_cached > 0) {
    mapped_.fetch_add(event.items_computed + event.items_cached, std::memory_order_relaxed);
    mapped_cached_.fetch_add(event.items_cached, std::memory_order_relaxed);
  }
  done_.fetch_add(1, std::memory_order_relaxed);
}

void ProgressBar::on_chunks(const ChunkEvent& event) {
  if (mode_ == ProgressMode::kAnimated) maps_.add(event);
}

void ProgressBar::on_run_end() {
  if (mode_ != ProgressMode::kAnimated) return;
  std::jthread redraw;
  {
    std::lock_guard lock(mutex_);
    if (active_runs_ == 0 || --active_runs_ > 0) return;
    draw_locked();  // the run's last state, until the next run or finish()
    maps_.clear();  // a failed run's maps that never finished
    redraw = std::move(redraw_);
  }
  // Stopped and joined here, by jthread's destructor: the thread takes mutex_ to draw, so it
  // must not be joined while the lock is held.
}

void ProgressBar::finish(bool ok) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  ItemsProgress items;
  items.mapped = mapped_.load(std::memory_order_relaxed);
  items.mapped_cached = mapped_cached_.load(std::memory_order_relaxed);
  std::string line = progress_final_text(
      done_.load(std::memory_order_relaxed), total_.load(std::memory_order_relaxed),
      cached_.load(std::memory_order_relaxed), elapsed_seconds(), ok, items);
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
  const Clock::time_point now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  ItemsProgress items;
  items.running = maps_.running(now);
  items.mapped = mapped_.load(std::memory_order_relaxed);
  items.mapped_cached = mapped_cached_.load(std::memory_order_relaxed);
  const std::optional<double> eta = progress_eta(done, total, cached, elapsed, items.running);
  write_locked("\r" + progress_bar_text(done, total, cached, elapsed, eta, items) +
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
