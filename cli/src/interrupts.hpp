// Ctrl-C during `dagflow run`: the first SIGINT or SIGTERM cancels the run through its
// CancelToken, so that what finished is cached, recorded and reported; a second one ends the
// process at once (exit code 130). The signals are blocked in every thread and taken by one
// watcher thread with sigtimedwait: no handler runs inside the run's threads (a handler may not
// take the lock CancelToken::cancel takes, and one on a worker asleep in the scheduler could be
// held back until it wakes, as ThreadSanitizer does). One InterruptWatch may live at a time, and
// it must be made before the run starts its threads, which inherit the block.
#pragma once

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#include <dagflow/pipeline/pipeline.hpp>

namespace dagflow::cli {

class InterruptWatch {
 public:
  /// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts from now
  /// on) and starts the watcher, which calls token->cancel() on the first signal. Throws
  /// std::system_error when the thread cannot be started.
  explicit InterruptWatch(std::shared_ptr<CancelToken> token);
  /// Stops the watcher and puts the calling thread's signal mask back.
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  void watch();

  std::shared_ptr<CancelToken> token_;
  sigset_t signals_{};
  sigset_t old_mask_{};
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace dagflow::cli
