// ObserverList: the observers of one compute(), called in order (ExecutorOptions::observers, then
// the deprecated single `observer`, then the Executor's own trace recorder).
//
// Watching a run never fails it: an observer that throws is reported through the Executor's log
// once per compute() and keeps receiving events; the observers after it still get every event.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <dagflow/engine/observer.hpp>

namespace dagflow::detail {

class ObserverList {
 public:
  using Log = std::function<void(std::string_view)>;

  /// `observers` must outlive the list; `log` receives the failure reports.
  ObserverList(std::span<const std::shared_ptr<RunObserver>> observers, const Log& log);

  [[nodiscard]] bool empty() const noexcept { return observers_.empty(); }

  /// RunObserver's callbacks, forwarded to each observer in order. on_task may be called from
  /// several threads at once, as the observers' own on_task is.
  void on_run_start(const RunView& run) const noexcept;
  void on_task(const TaskEvent& event) const noexcept;
  void on_chunks(const ChunkEvent& event) const noexcept;
  void on_run_end() const noexcept;

 private:
  template <class Call>
  void each(std::string_view callback, const Call& call) const noexcept;
  void report_failure(std::size_t index, std::string_view callback) const noexcept;

  std::span<const std::shared_ptr<RunObserver>> observers_;
  std::unique_ptr<std::atomic<bool>[]> reported_;  // one flag per observer, for this compute()
  const Log& log_;
};

}  // namespace dagflow::detail
