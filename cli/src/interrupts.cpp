#include "interrupts.hpp"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <pthread.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include "commands.hpp"

namespace dagflow::cli {

namespace {

// What the handler shares with the rest: lock-free atomics, which a handler may touch.
std::atomic<int> g_wake_fd{-1};
std::atomic<int> g_signals{0};

// What the pipe carries: a signal came, or the watcher is to stop.
constexpr char kSignalled = 1;
constexpr char kStop = 0;

extern "C" void on_signal(int /*number*/) {
  if (g_signals.fetch_add(1) > 0) ::_exit(kExitInterrupted);  // the second: at once
  const int saved = errno;
  const char byte = kSignalled;
  (void)!::write(g_wake_fd.load(), &byte, 1);
  errno = saved;
}

void install(int number, struct sigaction& old) {
  struct sigaction action {};
  action.sa_handler = on_signal;
  ::sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the run's own system calls go on; the token stops it
  if (::sigaction(number, &action, &old) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot install a signal handler");
  }
  // A signal this process was started ignoring stays ignored: a script's background job is
  // meant to outlive the script's Ctrl-C.
  if (old.sa_handler == SIG_IGN) ::sigaction(number, &old, nullptr);
}

}  // namespace

InterruptWatch::InterruptWatch(std::shared_ptr<CancelToken> token) : token_(std::move(token)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot create a pipe");
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  g_signals.store(0);
  g_wake_fd.store(write_fd_);
  try {
    watcher_ = std::thread([this] { watch(); });
    install(SIGINT, old_int_);
    install(SIGTERM, old_term_);
    // A blocked mask is inherited through exec (from whatever started this process): unblocked
    // here, before the run starts its threads, so that the signals reach the handler.
    sigset_t signals;
    ::sigemptyset(&signals);
    ::sigaddset(&signals, SIGINT);
    ::sigaddset(&signals, SIGTERM);
    ::pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  } catch (...) {
    stop();
    throw;
  }
}

InterruptWatch::~InterruptWatch() { stop(); }

void InterruptWatch::stop() noexcept {
  // A handler that was never installed left its `old` zeroed: SIG_DFL, as it was.
  ::sigaction(SIGINT, &old_int_, nullptr);
  ::sigaction(SIGTERM, &old_term_, nullptr);
  const char byte = kStop;
  while (::write(write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
  if (watcher_.joinable()) watcher_.join();
  g_wake_fd.store(-1);
  ::close(read_fd_);
  ::close(write_fd_);
}

void InterruptWatch::watch() const {
  for (;;) {
    char byte = kStop;
    const ssize_t n = ::read(read_fd_, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == kStop) return;
    token_->cancel();
  }
}

}  // namespace dagflow::cli
