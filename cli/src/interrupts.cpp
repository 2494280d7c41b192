#include "interrupts.hpp"

#include <cerrno>
#include <ctime>
#include <pthread.h>
#include <unistd.h>
#include <utility>

#include "commands.hpp"

namespace dagflow::cli {

namespace {
// How often the watcher looks whether the run is over.
constexpr long kPollNanoseconds = 50'000'000;
}  // namespace

InterruptWatch::InterruptWatch(std::shared_ptr<CancelToken> token) : token_(std::move(token)) {
  ::sigemptyset(&signals_);
  ::sigaddset(&signals_, SIGINT);
  ::sigaddset(&signals_, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &signals_, &old_mask_);
  try {
    watcher_ = std::thread([this] { watch(); });
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw;
  }
}

InterruptWatch::~InterruptWatch() {
  stopping_.store(true);
  watcher_.join();
  // A signal that came after the watcher stopped is still pending: unblocking delivers it, with
  // the default action (the run is over by then).
  ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void InterruptWatch::watch() {
  const timespec poll{0, kPollNanoseconds};
  bool cancelled = false;
  while (!stopping_.load()) {
    const int signal = ::sigtimedwait(&signals_, nullptr, &poll);
    if (signal < 0) continue;                  // EAGAIN (the poll ran out) or EINTR
    if (cancelled) ::_exit(kExitInterrupted);  // the second: at once
    cancelled = true;
    token_->cancel();
  }
}

}  // namespace dagflow::cli
