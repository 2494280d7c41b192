#include "graphviz.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace dagflow {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(std::string_view what, int error) {
  throw CommandError(fmt::format("graphviz 'dot': {}: {}", what, std::strerror(error)));
}

// A file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  void reset(int fd) noexcept {
    close();
    fd_ = fd;
  }
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

void open_pipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("cannot create a pipe", errno);
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
}

// Waits for the child on destruction unless wait() did: no zombie is left behind when the
// exchange with it fails half-way (its pipes, declared later, are closed first, so it ends).
class Child {
 public:
  Child() = default;
  ~Child() {
    if (pid_ > 0) (void)wait();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void set(pid_t pid) noexcept { pid_ = pid; }

  // The wait status.
  int wait() noexcept {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

// Blocks SIGPIPE on this thread while it lives, so that writing to a `dot` that exited early is
// the error EPIPE rather than the death of dagflow; a SIGPIPE raised meanwhile is consumed.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec now{};
      while (sigtimedwait(&pipe_, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

// Writes `input` to `to` and reads `from` until its end, at the same time, so that neither side
// can block the other on a full pipe.
std::string exchange(Fd& to, Fd& from, std::string_view input) {
  if (::fcntl(to.get(), F_SETFL, O_NONBLOCK) != 0) fail("cannot configure a pipe", errno);
  const SigpipeBlocked no_sigpipe;
  std::string output;
  char buffer[1 << 16];
  while (from.is_open()) {
    if (input.empty()) to.close();  // end of input: dot starts rendering
    pollfd fds[2] = {{.fd = from.get(), .events = POLLIN, .revents = 0},
                     {.fd = to.get(), .events = POLLOUT, .revents = 0}};
    const nfds_t count = to.is_open() ? 2 : 1;
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll", errno);
    }
    if (count == 2 && fds[1].revents != 0) {
      const ssize_t written = ::write(to.get(), input.data(), input.size());
      if (written >= 0) {
        input.remove_prefix(static_cast<std::size_t>(written));
      } else if (errno == EPIPE) {
        to.close();  // dot stopped reading: its exit status says why
        input = {};
      } else if (errno != EINTR && errno != EAGAIN) {
        fail("cannot write to it", errno);
      }
    }
    if (fds[0].revents != 0) {
      const ssize_t got = ::read(from.get(), buffer, sizeof buffer);
      if (got > 0) {
        output.append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0) {
        from.close();
      } else if (errno != EINTR && errno != EAGAIN) {
        fail("cannot read from it", errno);
      }
    }
  }
  return output;
}

}  // namespace

fs::path find_on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  const std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    std::size_t end = dirs.find(':', begin);
    if (end == std::string_view::npos) end = dirs.size();
    const std::string_view dir = dirs.substr(begin, end - begin);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    begin = end + 1;
  }
  return {};
}

fs::path find_graphviz_dot() {
  fs::path program = find_on_path("dot");
  if (program.empty()) {
    throw CommandError("graphviz 'dot' not found: install graphviz or use --format dot");
  }
  return program;
}

std::string dot_to_svg(const fs::path& program, std::string_view dot_text) {
  Child child;  // declared before the pipes: they are closed before it is waited for
  Pipe input;
  Pipe output;
  open_pipe(input);
  open_pipe(output);

  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) fail("cannot start it", ENOMEM);
  posix_spawn_file_actions_adddup2(&actions, input.read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output.write.get(), STDOUT_FILENO);
  std::string arg0 = "dot";
  std::string arg1 = "-Tsvg";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) fail(fmt::format("cannot start '{}'", program.string()), spawned);
  child.set(pid);
  input.read.close();  // the child's ends: our copies would keep the pipes open
  output.write.close();

  std::string svg = exchange(input.write, output.read, dot_text);
  const int status = child.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw CommandError(fmt::format("graphviz '{}' failed ({})", program.string(),
                                   WIFEXITED(status)
                                       ? fmt::format("exit status {}", WEXITSTATUS(status))
                                       : fmt::format("killed by signal {}", WTERMSIG(status))));
  }
  return svg;
}

}  // namespace dagflow
