// The shell op: runs one external command from an argv vector (never through a shell), in its
// own process group, with a timeout and capped output (RELIABILITY S2).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <climits>
#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "builtin_ops.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace dagflow {

namespace {

constexpr double kMaxTimeoutSeconds = 7 * 24 * 3600.0;
constexpr std::int64_t kMaxOutputLimit = std::int64_t{1} << 30;
// How often the exit of a command that closed its output is checked.
constexpr auto kExitPollInterval = std::chrono::milliseconds(5);

using Clock = std::chrono::steady_clock;

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) {
      throw Error(fmt::format("cannot create a pipe: {}", detail::errno_text(errno)));
    }
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_read();
    close_write();
  }
  [[nodiscard]] int read_end() const noexcept { return fds_[0]; }
  [[nodiscard]] int write_end() const noexcept { return fds_[1]; }
  void close_read() noexcept { close_fd(fds_[0]); }
  void close_write() noexcept { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

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

class SpawnAttributes {
 public:
  SpawnAttributes() { ::posix_spawnattr_init(&attr_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  ~SpawnAttributes() { ::posix_spawnattr_destroy(&attr_); }
  posix_spawnattr_t* get() noexcept { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// A started command, leader of its own process group. Unless it was reaped, the destructor kills
// the whole group and reaps the leader, so no error path leaves a process or a zombie behind.
class Child {
 public:
  explicit Child(pid_t pid) noexcept : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) kill_and_reap();
  }

  // Whether the leader has exited (it is not reaped: its process group stays reserved).
  [[nodiscard]] bool has_exited() const {
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
        return info.si_pid != 0;
      }
      if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
    }
  }

  // Kills every process of the group, then reaps the leader; returns its wait status.
  int kill_and_reap() noexcept {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

struct Output {
  std::string text;
  bool truncated = false;
  bool open = true;
};

// Reads what is available on `fd` into `out`, keeping at most `cap` bytes (the rest is read and
// dropped, so that the command never blocks on a full pipe).
void drain(int fd, Output& out, std::size_t cap) {
  char buffer[65536];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    out.open = false;
    return;
  }
  if (n == 0) {
    out.open = false;
    return;
  }
  const auto got = static_cast<std::size_t>(n);
  const std::size_t room = cap - std::min(cap, out.text.size());
  out.text.append(buffer, std::min(got, room));
  if (got > room) out.truncated = true;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  constexpr std::size_t kMaxShown = 200;
  if (line.size() > kMaxShown) line = line.substr(0, kMaxShown) + "...";
  return line;
}

pid_t spawn(const OpContext& ctx, const std::vector<std::string>& argv, const Pipe& out,
            const Pipe& err) {
  SpawnActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // dup2 clears close-on-exec on 1 and 2; every other descriptor of ours is O_CLOEXEC.
  ::posix_spawn_file_actions_adddup2(actions.get(), out.write_end(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), err.write_end(), STDERR_FILENO);
  if (!ctx.base_dir.empty()) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), ctx.base_dir.c_str());
  }
  SpawnAttributes attr;
  // Its own process group (to kill all it starts), no blocked signals and default handlers
  // (whatever this process masks or ignores, e.g. SIGPIPE, the command should not inherit).
  ::posix_spawnattr_setflags(
      attr.get(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(attr.get(), 0);
  sigset_t signals;
  ::sigemptyset(&signals);
  ::posix_spawnattr_setsigmask(attr.get(), &signals);
  ::sigfillset(&signals);
  ::sigdelset(&signals, SIGKILL);
  ::sigdelset(&signals, SIGSTOP);
  ::posix_spawnattr_setsigdefault(attr.get(), &signals);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      ::posix_spawnp(&pid, argv[0].c_str(), actions.get(), attr.get(), args.data(), environ);
  if (rc != 0) {
    throw Error(fmt::format("cannot run command '{}': {}", argv[0], detail::errno_text(rc)));
  }
  return pid;
}

Value run_command(const OpContext& ctx, const std::vector<std::string>& argv, double timeout,
                  std::int64_t max_output, bool check) {
  if (!ctx.allow_shell) {
    throw Error("the shell op runs commands and is refused without --allow-shell");
  }
  if (argv.empty()) throw Error("argv is empty: it needs at least the command to run");
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].find('\0') != std::string::npos) {
      throw Error(fmt::format("argv[{}] contains a NUL byte", i));
    }
  }
  if (argv[0].empty()) throw Error("argv[0], the command, is empty");
  if (!std::isfinite(timeout) || timeout <= 0 || timeout > kMaxTimeoutSeconds) {
    throw Error(fmt::format("timeout must be more than 0 and at most {} seconds, got {}",
                            kMaxTimeoutSeconds, timeout));
  }
  if (max_output < 0 || max_output > kMaxOutputLimit) {
    throw Error(fmt::format("max_output must be between 0 and {} bytes, got {}", kMaxOutputLimit,
                            max_output));
  }
  const auto cap = static_cast<std::size_t>(max_output);
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(timeout));

  Pipe out_pipe;
  Pipe err_pipe;
  Child child(spawn(ctx, argv, out_pipe, err_pipe));
  // Only the child holds the write ends now: end of file means it (and all it started) closed them.
  out_pipe.close_write();
  err_pipe.close_write();

  const auto timed_out = [&]() -> Error {
    child.kill_and_reap();
    return Error(fmt::format("command '{}' timed out after {} s", argv[0], timeout));
  };

  Output out;
  Output err;
  while (out.open || err.open) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) throw timed_out();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd fds[2];
    nfds_t count = 0;
    if (out.open) fds[count++] = {out_pipe.read_end(), POLLIN, 0};
    if (err.open) fds[count++] = {err_pipe.read_end(), POLLIN, 0};
    const int ready = ::poll(fds, count, static_cast<int>(std::min<std::int64_t>(ms, INT_MAX)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("command '{}': poll failed: {}", argv[0], detail::errno_text(errno)));
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == out_pipe.read_end()) {
        drain(fds[i].fd, out, cap);
      } else {
        drain(fds[i].fd, err, cap);
      }
    }
  }
  // The output is closed; the command may still be running (it closed them itself).
  while (!child.has_exited()) {
    if (Clock::now() >= deadline) throw timed_out();
    std::this_thread::sleep_for(kExitPollInterval);
  }
  // Whatever it left running in its group in the background goes with it.
  const int status = child.kill_and_reap();

  const int exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                        : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                              : -1;
  if (check && exit_code != 0) {
    if (WIFSIGNALED(status)) {
      const char* name = ::sigdescr_np(WTERMSIG(status));  // thread-safe, unlike strsignal
      throw Error(fmt::format("command '{}' was killed by signal {} ({})", argv[0],
                              WTERMSIG(status), name != nullptr ? name : "unknown"));
    }
    const std::string reason = first_line(err.text);
    throw Error(fmt::format("command '{}' exited with code {}{}{}", argv[0], exit_code,
                            reason.empty() ? "" : ": ", reason));
  }
  return Value::Map{{"exit_code", exit_code},
                    {"stdout", std::move(out.text)},
                    {"stderr", std::move(err.text)},
                    {"stdout_truncated", out.truncated},
                    {"stderr_truncated", err.truncated}};
}

}  // namespace

void add_shell_ops(OpRegistry& ops) {
  ops.add("shell", &run_command,
          "Runs the command argv (a list of strings, passed as they are, never through a shell) "
          "UNSANDBOXED with your user's rights: it needs --allow-shell. Returns {exit_code, "
          "stdout, stderr, stdout_truncated, stderr_truncated}; each output keeps at most "
          "max_output bytes, a run longer than timeout seconds is killed with everything it "
          "started, and with check a non-zero exit code is an error.",
          {arg("argv"), arg("timeout", 60.0), arg("max_output", 1048576), arg("check", true)})
      .set_runs_commands()
      .set_side_effects();
}

}  // namespace dagflow
