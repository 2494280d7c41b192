// TaskOptions: how one task runs — on the I/O threads, holding units of shared resources, retried
// after a failure, stopped after a time, kept on rank 0 of a cluster. Set with Graph::set_options;
// none of them changes what a task computes, so none changes its content key.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace dagflow {

/// Per-task options. Fields are declared in this order (designated initialisers follow it):
///
///   g.set_options(page, {.io = true, .resources = {{"db", 1}}, .retries = 3,
///                        .retry_delay = std::chrono::milliseconds(100),
///                        .timeout = std::chrono::seconds(5)});
struct TaskOptions {
  /// The task mostly waits (network, disk, a child process): it runs on the Executor's I/O
  /// threads (ExecutorOptions::io_threads), never on a compute worker, so waiting costs no core.
  bool io = false;
  /// Units of named resources the task holds while it runs, all taken at once (so two tasks
  /// needing two resources cannot deadlock). A task whose units are not free waits in a queue,
  /// holding no thread. Capacities are ExecutorOptions::resources.
  std::map<std::string, std::size_t> resources{};
  /// Further attempts after a failure (a thrown exception or a timeout). A failed attempt is
  /// never cached; this_task::attempt() says which attempt runs.
  std::size_t retries = 0;
  /// Wait before the first retry, doubled before each further one. No thread is held meanwhile,
  /// and the resources are given back.
  std::chrono::milliseconds retry_delay{0};
  /// Time each attempt may run (0 = no limit). When it passes, this_task::stop_requested()
  /// turns true; an attempt that ends after it has its result discarded and fails with
  /// TimeoutError.
  std::chrono::milliseconds timeout{0};
  /// In a run across ranks (ExecutorOptions::cluster), the task runs on rank 0, which sends its
  /// result to the ranks that read it. For a task whose effect belongs in one place: a writer,
  /// whose files are looked for on rank 0's machine. Impure tasks run there anyway.
  bool on_rank0 = false;

  friend bool operator==(const TaskOptions&, const TaskOptions&) = default;
};

}  // namespace dagflow
