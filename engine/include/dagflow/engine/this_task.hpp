// this_task: what a running task's body can ask about itself — which attempt this is, and whether
// it should stop. Safe to call from anywhere: outside a task they return 0 and false.
//
//   std::string fetch(const std::string& url) {
//     while (!done()) {
//       if (dagflow::this_task::stop_requested()) throw std::runtime_error("stopped");
//       poll_a_little();
//     }
//     ...
//   }
#pragma once

#include <cstddef>

namespace dagflow::this_task {

/// Which attempt of the running task this is: 0 for the first, 1 for the first retry, ...
[[nodiscard]] std::size_t attempt() noexcept;

/// True once the running task should stop: its timeout passed (TaskOptions::timeout),
/// Executor::cancel() was called, or its run is failing. Cooperative: a task that never asks is
/// waited for, and its result discarded when it ran past its timeout. A task that stops because
/// of it should throw: a value it returns counts as its finished result (and is cached). Cheap
/// enough to poll in a loop (a flag and, with a timeout, a clock read).
[[nodiscard]] bool stop_requested() noexcept;

}  // namespace dagflow::this_task
