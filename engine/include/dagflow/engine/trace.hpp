// TraceRecorder: every task of the runs it watches, as a Chrome trace or an SVG timeline.
// Thread-safety: a recorder may watch several Executors and be read while they run.
//
//   auto trace = std::make_shared<dagflow::TraceRecorder>();
//   dagflow::Executor ex({.observers = {trace}});
//   ex.compute(result);
//   trace->write_chrome_trace("trace.json");   // open in https://ui.perfetto.dev
//   trace->write_timeline_svg("timeline.svg"); // open in any browser or image viewer
//
// ExecutorOptions::trace_path does the same for every compute() of an Executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <dagflow/engine/observer.hpp>

namespace dagflow {

/// One recorded task.
struct TraceSpan {
  std::string name;  ///< the task's label
  std::string op;    ///< its op name (empty for anonymous callables)
  std::string key;   ///< its content key in hex (empty without a disk cache or a key)
  TaskOutcome outcome = TaskOutcome::kExecuted;
  std::size_t worker = 0;
  double start_us = 0;     ///< since the recorder's first run started
  double duration_us = 0;  ///< 0 for cache hits
  std::size_t items_computed = 0;
  std::size_t items_cached = 0;
  std::size_t chunks = 0;
  bool io = false;          ///< ran on an I/O thread (`worker` is then past the compute workers)
  std::size_t attempt = 0;  ///< 0 for the first attempt
  bool will_retry = false;  ///< a failed attempt that was retried
  bool timed_out = false;   ///< the attempt ran past its timeout
  double wait_us = 0;       ///< time queued for resources before `start_us`
  /// Part of a map's or reduce's work that worker `worker` ran (RunObserver::on_chunks): its
  /// chunks, consecutive ones within a millisecond of each other merged; `name`, `op` and `key`
  /// are the task's, `items_computed` the units they covered, `chunks` how many.
  bool part = false;
};

/// A RunObserver that keeps every event (thread-safe) and writes them out.
class TraceRecorder final : public RunObserver {
 public:
  void on_run_start(const RunView& run) override;
  void on_task(const TaskEvent& event) override;
  void on_chunks(const ChunkEvent& event) override;
  void on_run_end() override;

  /// Everything recorded so far, in the order events arrived (parts of maps included).
  [[nodiscard]] std::vector<TraceSpan> spans() const;
  /// The most worker threads any recorded run had.
  [[nodiscard]] std::size_t threads() const;

  /// Chrome trace-event JSON ({"traceEvents": [...]}): a complete event ("ph": "X") per task
  /// attempt that ran — name = label (with "#2", "#3"... for retries), cat = op, tid = worker
  /// (I/O threads after the compute workers, named "io N"), ts and dur in microseconds, args =
  /// key, cache ("miss", or "blocks" for a map whose every block was cached), items, chunks,
  /// attempt, "retried"/"timed out" — the parts of a map or reduce on each worker that ran
  /// them (cat "chunks", name "<label> (part)", args op, units and chunks), a "waiting for
  /// resources" event (cat "wait") before a task
  /// that queued for its resources, an instant event ("ph": "i") per cache hit, and thread
  /// names. Opens in Perfetto and chrome://tracing.
  [[nodiscard]] std::string chrome_trace() const;
  /// A self-contained SVG: one lane per worker thread and per I/O thread used ("io N"), each
  /// task attempt a bar coloured by op (with a legend), the parts of a map or reduce as thinner
  /// bars of its colour in the lanes of the workers that ran them, failed attempts outlined in
  /// red (orange
  /// when retried), time queued for resources as a thin grey bar before the task, cache hits as
  /// marks in a lane of their own, and a time axis.
  [[nodiscard]] std::string timeline_svg() const;

  /// Writes chrome_trace() / timeline_svg() to `path` (replaced). Throws dagflow::Error when the
  /// file cannot be written.
  void write_chrome_trace(const std::filesystem::path& path) const;
  void write_timeline_svg(const std::filesystem::path& path) const;

 private:
  mutable std::mutex mutex_;
  const RunView* run_ = nullptr;
  bool started_ = false;
  std::chrono::steady_clock::time_point origin_{};
  std::size_t threads_ = 0;
  std::vector<TraceSpan> spans_;
  // This run's last part of each (task, worker), in spans_: the next one may extend it.
  std::map<std::pair<NodeId, std::size_t>, std::size_t> last_part_;
};

}  // namespace dagflow
