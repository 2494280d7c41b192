// Ctrl-C during `dagflow run`: the first SIGINT or SIGTERM cancels the run through its
// CancelToken, so that what finished is cached, recorded and reported; a second one ends the
// process at once (exit code 130). A signal handler may not take a lock, which
// CancelToken::cancel does: the handler only writes a byte to a pipe, and a watcher thread reads
// it and cancels. One InterruptWatch may live at a time (the handlers are process-wide).
#pragma once

#include <csignal>
#include <memory>
#include <thread>

#include <dagflow/pipeline/pipeline.hpp>

namespace dagflow::cli {

class InterruptWatch {
 public:
  /// Installs the handlers of SIGINT and SIGTERM and starts the watcher, which calls
  /// token->cancel() on the first signal. Throws std::system_error when the pipe or the thread
  /// cannot be made.
  explicit InterruptWatch(std::shared_ptr<CancelToken> token);
  /// Puts the previous handlers back and stops the watcher.
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  void watch() const;
  void stop() noexcept;

  std::shared_ptr<CancelToken> token_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::thread watcher_;
};

}  // namespace dagflow::cli
