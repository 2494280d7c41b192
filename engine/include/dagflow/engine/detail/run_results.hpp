// RunResults: the finished run of a compute(), from which Executor::compute takes the typed
// values of its targets. Not API. Used by one thread: the one that called compute().
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include <dagflow/graph/detail/result_slot.hpp>

namespace dagflow::detail {

struct RunState;
struct RunStateDeleter {
  void operator()(RunState* run) const noexcept;
};

/// Owns the run's state (result slots included) until the caller has taken its values.
class RunResults {
 public:
  explicit RunResults(std::unique_ptr<RunState, RunStateDeleter> run) : run_(std::move(run)) {}

  /// Target i's value: moved out when nothing else holds it, copied otherwise (nothing for a
  /// void task).
  template <class T>
  T take(std::size_t i) {
    ResultSlot& slot = target_slot(i);
    if constexpr (std::is_void_v<T>) {
      slot.release();
      return;
    } else {
      T value = slot.take<T>();
      slot.release();
      return value;
    }
  }

 private:
  ResultSlot& target_slot(std::size_t i);
  std::unique_ptr<RunState, RunStateDeleter> run_;
};

}  // namespace dagflow::detail
