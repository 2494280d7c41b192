#include "support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <catch2/catch.hpp>

#include "support/files.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace dagflow::test {

namespace fs = std::filesystem;

namespace {

// A file the child writes one of its streams to: files rather than pipes, so that a child that
// writes a lot to both streams can never block on a pipe nobody reads yet.
class CaptureFile {
 public:
  explicit CaptureFile(const fs::path& dir, const char* name) : path_(dir / name) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    REQUIRE(fd_ >= 0);
  }
  ~CaptureFile() { ::close(fd_); }
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] std::string contents() const { return read_file(path_); }

 private:
  fs::path path_;
  int fd_ = -1;
};

}  // namespace

// Where a started process's stdout and stderr go, until it is waited for.
struct CaptureFiles {
  TempDir dir;
  CaptureFile out{dir.path(), "stdout"};
  CaptureFile err{dir.path(), "stderr"};
};

RunningProcess::RunningProcess(int pid, std::unique_ptr<CaptureFiles> captures)
    : pid_(pid), captures_(std::move(captures)) {}

RunningProcess::RunningProcess(RunningProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), captures_(std::move(other.captures_)) {}

RunningProcess::~RunningProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::string RunningProcess::err_so_far() const { return captures_->err.contents(); }

ProcessResult RunningProcess::wait() {
  REQUIRE(pid_ > 0);
  int status = 0;
  pid_t waited = 0;
  do {
    waited = ::waitpid(pid_, &status, 0);
  } while (waited < 0 && errno == EINTR);
  REQUIRE(waited == pid_);
  pid_ = -1;

  ProcessResult result;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  result.out = captures_->out.contents();
  result.err = captures_->err.contents();
  return result;
}

RunningProcess start_process(const std::vector<std::string>& argv, const fs::path& cwd) {
  REQUIRE(!argv.empty());
  auto captures = std::make_unique<CaptureFiles>();

  posix_spawn_file_actions_t actions;
  REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0);
  REQUIRE(posix_spawn_file_actions_adddup2(&actions, captures->out.fd(), 1) == 0);
  REQUIRE(posix_spawn_file_actions_adddup2(&actions, captures->err.fd(), 2) == 0);
  if (!cwd.empty()) {
    REQUIRE(posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str()) == 0);
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  INFO("posix_spawn " << argv[0] << ": " << std::strerror(spawned));
  REQUIRE(spawned == 0);
  return RunningProcess(pid, std::move(captures));
}

ProcessResult run_process(const std::vector<std::string>& argv, const fs::path& cwd) {
  return start_process(argv, cwd).wait();
}

std::string dagflow_program() { return DAGFLOW_TEST_DAGFLOW_PROGRAM; }

std::string dot_program() { return DAGFLOW_TEST_DOT_PROGRAM; }

std::string script_program() { return DAGFLOW_TEST_SCRIPT_PROGRAM; }

std::string unshare_program() { return DAGFLOW_TEST_UNSHARE_PROGRAM; }

std::string strace_program() { return DAGFLOW_TEST_STRACE_PROGRAM; }

fs::path example_program(std::string_view name) {
  const fs::path dir = DAGFLOW_TEST_EXAMPLES_DIR;
  INFO("the examples are not built (DAGFLOW_BUILD_EXAMPLES=OFF)");
  REQUIRE_FALSE(dir.empty());
  return dir / name;
}

fs::path example_pipelines_dir() { return DAGFLOW_TEST_EXAMPLE_PIPELINES; }

RunningProcess start_dagflow(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> argv{dagflow_program()};
  argv.insert(argv.end(), args.begin(), args.end());
  return start_process(argv, cwd);
}

const ProcessResult& show_result(const ProcessResult& result) {
  UNSCOPED_INFO("dagflow exit code " << result.exit_code << "\n--- stdout ---\n"
                                     << result.out << "--- stderr ---\n"
                                     << result.err);
  return result;
}

ProcessResult run_dagflow(const std::vector<std::string>& args, const fs::path& cwd) {
  ProcessResult result = start_dagflow(args, cwd).wait();
  show_result(result);
  return result;
}

ProcessResult run_dagflow_on_terminal(const std::vector<std::string>& args, const fs::path& cwd) {
  REQUIRE_FALSE(script_program().empty());
  // `script -c` hands the command to a shell: every word is single-quoted.
  const auto quoted = [](const std::string& word) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string command = quoted(dagflow_program());
  for (const std::string& a : args) command += " " + quoted(a);
  // -q: no "Script started" lines; -e: its exit code is the command's.
  ProcessResult result = run_process({script_program(), "-qec", command, "/dev/null"}, cwd);
  UNSCOPED_INFO("dagflow on a terminal: exit code " << result.exit_code << "\n--- output ---\n"
                                                    << result.out << "--- script's stderr ---\n"
                                                    << result.err);
  return result;
}

DataDir::DataDir() { fs::copy(DAGFLOW_TEST_CLI_DATA, path(), fs::copy_options::recursive); }

std::string DataDir::file(const std::string& name) const { return (path() / name).string(); }

}  // namespace dagflow::test
