#include <dagflow/util/process.hpp>
// (the header this file implements first)

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <functional>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include <climits>
#include <fmt/format.h>

#include <dagflow/util/unique_fd.hpp>

extern char** environ;  // NOLINT: POSIX declares it in no header

namespace dagflow::util {

namespace {

using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;

// How often the exit of a program that closed its output is checked while a limit runs.
constexpr auto kExitPollInterval = std::chrono::milliseconds(5);
// How often should_stop is asked while the program runs: soon enough for a person pressing
// Ctrl-C, rarely enough to cost nothing.
constexpr auto kStopPollInterval = std::chrono::milliseconds(20);

[[noreturn]] void fail(int err, const char* what) {
  throw std::system_error(err, std::generic_category(), what);
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail(errno, "cannot create a pipe");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() noexcept { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// No blocked signals and default handlers in the child (whatever this process masks or ignores,
// e.g. SIGPIPE, the program should not inherit); with `own_group`, a process group of its own,
// so that killing the group kills all it starts.
class SpawnAttributes {
 public:
  explicit SpawnAttributes(bool own_group) {
    ::posix_spawnattr_init(&attr_);
    const int group_flag = own_group ? POSIX_SPAWN_SETPGROUP : 0;
    ::posix_spawnattr_setflags(
        &attr_, static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | group_flag));
    ::posix_spawnattr_setpgroup(&attr_, 0);
    sigset_t signals;
    ::sigemptyset(&signals);
    ::posix_spawnattr_setsigmask(&attr_, &signals);
    ::sigfillset(&signals);
    ::sigdelset(&signals, SIGKILL);
    ::sigdelset(&signals, SIGSTOP);
    ::posix_spawnattr_setsigdefault(&attr_, &signals);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  ~SpawnAttributes() { ::posix_spawnattr_destroy(&attr_); }
  posix_spawnattr_t* get() noexcept { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// A started program. Unless it was reaped, the destructor kills it (with its group when it leads
// one) and reaps it, so that no error path leaves a process or a zombie behind.
class Child {
 public:
  Child(pid_t pid, bool own_group) noexcept : pid_(pid), own_group_(own_group) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) (void)kill_and_reap();
  }

  // Whether it has exited, waiting for that when `block`. It is not reaped: its pid (and its
  // process group's id) cannot be reused until kill_and_reap.
  [[nodiscard]] bool has_exited(bool block) const {
    for (;;) {
      siginfo_t info{};
      const int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, flags) == 0) return info.si_pid != 0;
      if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
    }
  }

  // Kills it, or its whole group when it leads one (the group outlives an exited leader while
  // something it started runs on), then reaps it; returns its wait status.
  int kill_and_reap() noexcept {
    ::kill(own_group_ ? -pid_ : pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
  bool own_group_;
};

// Blocks SIGPIPE on this thread while it lives, so that writing to a program that exited early
// is the error EPIPE rather than the death of this process; a SIGPIPE raised meanwhile is
// consumed.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    ::sigemptyset(&pipe_);
    ::sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    ::sigpending(&pending);
    if (!was_pending_ && ::sigismember(&pending, SIGPIPE) == 1) {
      const timespec now{};
      while (::sigtimedwait(&pipe_, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

// Starts the program with `stdin_fd` (or /dev/null when -1), `stdout_fd` and `stderr_fd` (or
// this process's stderr when -1) as its standard streams.
pid_t spawn(const ProcessOptions& options, int stdin_fd, int stdout_fd, int stderr_fd) {
  SpawnActions actions;
  if (stdin_fd >= 0) {
    ::posix_spawn_file_actions_adddup2(actions.get(), stdin_fd, STDIN_FILENO);
  } else {
    ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  // dup2 clears close-on-exec on 0, 1 and 2 only: the pipes' other copies stay out of the child.
  ::posix_spawn_file_actions_adddup2(actions.get(), stdout_fd, STDOUT_FILENO);
  if (stderr_fd >= 0) ::posix_spawn_file_actions_adddup2(actions.get(), stderr_fd, STDERR_FILENO);
  if (!options.working_dir.empty()) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), options.working_dir.c_str());
  }
  SpawnAttributes attr(options.own_process_group);

  std::vector<char*> args;
  args.reserve(options.argv.size() + 1);
  for (const std::string& a : options.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      options.program.empty()
          ? ::posix_spawnp(&pid, args[0], actions.get(), attr.get(), args.data(), environ)
          : ::posix_spawn(&pid, options.program.c_str(), actions.get(), attr.get(), args.data(),
                          environ);
  if (rc != 0) {
    const std::string shown = options.program.empty() ? options.argv[0] : options.program.string();
    throw SpawnError(rc, std::generic_category(), fmt::format("cannot start '{}'", shown));
  }
  return pid;
}

// A pipe the program writes to, read into `text`.
struct Capture {
  UniqueFd fd;
  std::string& text;
  bool& truncated;
};

// Reads what is available into `c`, keeping at most `cap` bytes in all (the rest is read and
// dropped, so that the program never blocks on a full pipe); closes it at end of file. False
// when there was nothing to read yet.
bool drain(Capture& c, std::size_t cap) {
  char buffer[65536];
  const ssize_t n = ::read(c.fd.get(), buffer, sizeof buffer);
  if (n < 0) {
    if (errno == EINTR) return true;
    if (errno == EAGAIN) return false;
    fail(errno, "cannot read its output");
  }
  if (n == 0) {
    c.fd.reset();
    return false;
  }
  const auto got = static_cast<std::size_t>(n);
  const std::size_t room = cap - std::min(cap, c.text.size());
  c.text.append(buffer, std::min(got, room));
  if (got > room) c.truncated = true;
  return true;
}

// After a timeout or a stop: what the program wrote before it was killed is still in the pipe.
// Read without waiting, since a process outside the killed group may hold the pipe open.
void drain_written(Capture& c, std::size_t cap) {
  if (!c.fd || ::fcntl(c.fd.get(), F_SETFL, O_NONBLOCK) != 0) return;
  while (c.fd && drain(c, cap)) {
  }
}

// Writes what the pipe takes of `input` to `to` (non-blocking) and drops it from `input`; closes
// `to` when all is written or the program stopped reading (EPIPE: its exit status says why).
void feed(UniqueFd& to, std::string_view& input) {
  const ssize_t n = ::write(to.get(), input.data(), input.size());
  if (n >= 0) {
    input.remove_prefix(static_cast<std::size_t>(n));
  } else if (errno == EPIPE) {
    input = {};
  } else if (errno != EINTR && errno != EAGAIN) {
    fail(errno, "cannot write to its input");
  }
  if (input.empty()) to.reset();  // end of input: the program may start on its output
}

// Why a wait ended before the program did.
enum class Early : std::uint8_t { kNo, kTimedOut, kStopped };

// What may end the wait for a program before the program ends: the deadline, and the caller's
// should_stop (asked at least every kStopPollInterval).
struct Limits {
  Deadline deadline;
  const std::function<bool()>* should_stop = nullptr;  // null: never asked

  // Why to give up now, if at all.
  [[nodiscard]] Early reached() const {
    if (deadline && Clock::now() >= *deadline) return Early::kTimedOut;
    if (should_stop != nullptr && (*should_stop)()) return Early::kStopped;
    return Early::kNo;
  }

  // How long poll may wait before reached() must be asked again: -1 for ever.
  [[nodiscard]] int poll_ms() const {
    std::int64_t ms = should_stop != nullptr ? kStopPollInterval.count() : -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      const std::int64_t left_ms = std::max<std::int64_t>(left.count(), 0);
      ms = ms < 0 ? left_ms : std::min(ms, left_ms);
    }
    return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
  }

  [[nodiscard]] bool any() const { return deadline.has_value() || should_stop != nullptr; }
};

// Feeds `input` to `to` and reads `out` and `err` until the program closes its output, all at
// once, so that neither side can block the other on a full pipe. Early::kNo when it got there,
// else the limit reached first.
Early exchange(UniqueFd& to, std::string_view input, Capture& out, Capture& err, std::size_t cap,
               const Limits& limits) {
  std::optional<SigpipeBlocked> no_sigpipe;
  if (to) {
    if (::fcntl(to.get(), F_SETFL, O_NONBLOCK) != 0) fail(errno, "cannot configure a pipe");
    no_sigpipe.emplace();
    if (input.empty()) to.reset();
  }
  while (out.fd || err.fd) {
    if (const Early early = limits.reached(); early != Early::kNo) return early;
    pollfd fds[3];
    Capture* captures[3] = {};
    nfds_t count = 0;
    for (Capture* c : {&out, &err}) {
      if (!c->fd) continue;
      captures[count] = c;
      fds[count++] = {c->fd.get(), POLLIN, 0};
    }
    if (to) fds[count++] = {to.get(), POLLOUT, 0};
    if (::poll(fds, count, limits.poll_ms()) < 0) {
      if (errno == EINTR) continue;
      fail(errno, "poll failed");
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (captures[i] != nullptr) {
        drain(*captures[i], cap);
      } else {
        feed(to, input);
      }
    }
  }
  return Early::kNo;
}

// Waits until the program has exited (without reaping it); Early::kNo when it did, else the
// limit reached first.
Early wait_for_exit(const Child& child, const Limits& limits) {
  if (!limits.any()) {
    (void)child.has_exited(true);
    return Early::kNo;
  }
  while (!child.has_exited(false)) {
    if (const Early early = limits.reached(); early != Early::kNo) return early;
    std::this_thread::sleep_for(kExitPollInterval);
  }
  return Early::kNo;
}

}  // namespace

ProcessResult run_process(const ProcessOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("run_process: argv is empty");
  Limits limits;
  if (options.timeout) limits.deadline = Clock::now() + *options.timeout;
  if (options.should_stop) limits.should_stop = &options.should_stop;

  Pipe in;
  if (options.input) in = make_pipe();
  Pipe out = make_pipe();
  Pipe err;
  if (options.capture_stderr) err = make_pipe();
  Child child(spawn(options, in.read.get(), out.write.get(), err.write.get()),
              options.own_process_group);
  // Only the child holds these ends now: end of file means it (and all it started) closed them.
  in.read.reset();
  out.write.reset();
  err.write.reset();

  ProcessResult result;
  Capture out_capture{std::move(out.read), result.out, result.out_truncated};
  Capture err_capture{std::move(err.read), result.err, result.err_truncated};
  Early early = exchange(in.write, options.input.value_or(std::string_view()), out_capture,
                         err_capture, options.max_output, limits);
  in.write.reset();  // input not taken by now never will be: a reader waiting for more ends
  if (early == Early::kNo) early = wait_for_exit(child, limits);
  const int status = child.kill_and_reap();
  if (early != Early::kNo) {
    drain_written(out_capture, options.max_output);
    drain_written(err_capture, options.max_output);
  }
  if (early == Early::kTimedOut) {
    result.timed_out = true;
  } else if (early == Early::kStopped) {
    result.stopped = true;
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace dagflow::util
