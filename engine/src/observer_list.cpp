#include "observer_list.hpp"

#include <exception>
#include <string>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "task_scope.hpp"
#include "worker_pool.hpp"

namespace dagflow::detail {

ObserverList::ObserverList(std::span<const std::shared_ptr<RunObserver>> observers, const Log& log)
    : observers_(observers), log_(log) {
  if (!observers_.empty()) reported_ = std::make_unique<std::atomic<bool>[]>(observers_.size());
}

template <class Call>
void ObserverList::each(std::string_view callback, const Call& call) const noexcept {
  for (std::size_t i = 0; i < observers_.size(); ++i) {
    try {
      call(*observers_[i]);
    } catch (...) {
      report_failure(i, callback);
    }
  }
}

void ObserverList::on_run_start(const RunView& run) const noexcept {
  each("on_run_start", [&](RunObserver& o) { o.on_run_start(run); });
}

void ObserverList::on_task(const TaskEvent& event) const noexcept {
  each("on_task", [&](RunObserver& o) { o.on_task(event); });
}

void ObserverList::on_chunks(const ChunkEvent& event) const noexcept {
  each("on_chunks", [&](RunObserver& o) { o.on_chunks(event); });
}

void ObserverList::on_run_end() const noexcept {
  each("on_run_end", [&](RunObserver& o) { o.on_run_end(); });
}

void ChunkReporter::report(std::chrono::steady_clock::time_point start,
                           std::chrono::steady_clock::time_point end, std::size_t chunks,
                           std::size_t units, std::size_t of) const noexcept {
  ChunkEvent event;
  event.task = task;
  event.worker = WorkerPool::current_worker();
  event.start = start;
  event.end = end;
  event.chunks = chunks;
  event.units = units;
  event.of = of;
  observers->on_chunks(event);
}

// Called from inside a catch block. Only the first failure of each observer in a compute() is
// reported: an observer that fails on every task would otherwise flood the log.
void ObserverList::report_failure(std::size_t index, std::string_view callback) const noexcept {
  if (reported_[index].exchange(true, std::memory_order_relaxed)) return;
  try {
    const std::string what = detail::message_of(std::current_exception());
    log_(
        fmt::format("observer {} of {} threw from {}: {} (ignored: the run goes on, and further "
                    "failures of this observer in this compute() are not reported)",
                    index + 1, observers_.size(), callback, what));
  } catch (...) {  // a failing log must not fail the run either
  }
}

}  // namespace dagflow::detail
