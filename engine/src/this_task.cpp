#include <chrono>

#include <dagflow/engine/this_task.hpp>

#include "task_scope.hpp"

namespace dagflow::this_task {

std::size_t attempt() noexcept { return detail::t_current_attempt.attempt; }

bool stop_requested() noexcept {
  const std::atomic<bool>* cancelled = detail::t_current_cancellation;
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) return true;
  const auto deadline = detail::t_current_attempt.deadline;
  return deadline != std::chrono::steady_clock::time_point::max() &&
         std::chrono::steady_clock::now() >= deadline;
}

}  // namespace dagflow::this_task
