#include <chrono>

#include <dagflow/engine/this_task.hpp>

#include "task_scope.hpp"

namespace dagflow::this_task {

std::size_t attempt() noexcept {
  const detail::TaskContext* task = detail::t_current_task;
  return task != nullptr ? task->attempt.attempt : 0;
}

bool stop_requested() noexcept {
  const detail::TaskContext* task = detail::t_current_task;
  if (task == nullptr) return false;
  if (task->cancelled != nullptr && task->cancelled->load(std::memory_order_relaxed)) return true;
  const auto deadline = task->attempt.deadline;
  return deadline != std::chrono::steady_clock::time_point::max() &&
         std::chrono::steady_clock::now() >= deadline;
}

}  // namespace dagflow::this_task
