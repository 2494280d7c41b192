// Running programs as a user would, for the CLI and example tests: no shell, stdin from
// /dev/null, stdout and stderr captured apart, the exit code. The programs under test (the
// `dagflow` command, the examples) and the tools the tests use (Graphviz `dot`, util-linux
// `script`) are found through paths the build gives this library, and nowhere else.
// Call from the test's thread only (failures are Catch2 REQUIREs).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

namespace dagflow::test {

/// What a finished process left behind.
struct ProcessResult {
  /// The exit status; 128 + the signal number when the process was killed by a signal.
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct CaptureFiles;  // where a started process's output goes (process.cpp)

/// A process start_process started. Until wait() it runs on its own, so that a test can act on
/// it meanwhile (send it a signal); the destructor kills (SIGKILL) and reaps one never waited
/// for, so a failed test leaves nothing running. Not copyable.
class RunningProcess {
 public:
  RunningProcess(int pid, std::unique_ptr<CaptureFiles> captures);
  ~RunningProcess();
  RunningProcess(RunningProcess&& other) noexcept;
  RunningProcess& operator=(RunningProcess&&) = delete;
  RunningProcess(const RunningProcess&) = delete;
  RunningProcess& operator=(const RunningProcess&) = delete;

  [[nodiscard]] int pid() const noexcept { return pid_; }
  /// What it has written to stderr so far (to wait for a line it prints while it runs).
  [[nodiscard]] std::string err_so_far() const;
  /// Waits for it to end; what it left behind. Call once.
  ProcessResult wait();

 private:
  int pid_;
  std::unique_ptr<CaptureFiles> captures_;
};

/// Starts argv[0] (a path, no PATH search, no shell) with argv, stdin from /dev/null, in `cwd`
/// (empty: this process's working directory). Stdout and stderr go to files, so a child that
/// writes a lot to both never blocks. Fails the test (REQUIRE) when the process cannot be
/// started.
RunningProcess start_process(const std::vector<std::string>& argv,
                             const std::filesystem::path& cwd = {});

/// start_process(argv, cwd).wait().
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& cwd = {});

/// The `dagflow` binary under test.
[[nodiscard]] std::string dagflow_program();
/// Graphviz `dot`; empty when it is not installed.
[[nodiscard]] std::string dot_program();
/// util-linux `script`, which runs a command on a pseudo-terminal; empty when not installed.
[[nodiscard]] std::string script_program();
/// util-linux `unshare` (a test's own mount namespace); empty when not installed.
[[nodiscard]] std::string unshare_program();
/// `strace` (which syscalls a run made); empty when not installed.
[[nodiscard]] std::string strace_program();
/// The example program built from examples/<name>.cpp. Fails the test when the examples are not
/// built.
[[nodiscard]] std::filesystem::path example_program(std::string_view name);
/// examples/pipelines in the source tree (the YAML twins of the examples).
[[nodiscard]] std::filesystem::path example_pipelines_dir();

/// Runs the `dagflow` binary under test with `args`. The exit code and both streams are shown
/// with any failing assertion that follows, so a failure explains itself.
ProcessResult run_dagflow(const std::vector<std::string>& args,
                          const std::filesystem::path& cwd = {});

/// Starts the `dagflow` binary under test with `args` (see start_process); show_result() then
/// adds its exit code and streams to the assertions that follow, as run_dagflow does.
RunningProcess start_dagflow(const std::vector<std::string>& args,
                             const std::filesystem::path& cwd = {});
/// Shows what `dagflow` left behind with any failing assertion that follows; returns `result`.
const ProcessResult& show_result(const ProcessResult& result);

/// Runs the `dagflow` binary under test with `args` on a pseudo-terminal (through `script -qec`),
/// so that its stdout and stderr are a terminal. `out` holds everything it printed on either
/// (the terminal's lines end in "\r\n"); `err` holds what `script` itself printed. Requires
/// script_program() to be non-empty.
ProcessResult run_dagflow_on_terminal(const std::vector<std::string>& args,
                                      const std::filesystem::path& cwd = {});

/// A TempDir holding a fresh copy of tests/cli/data (the CLI tests' pipelines and text files).
class DataDir : public TempDir {
 public:
  DataDir();
  /// `name` inside the copy, as a string (for argv).
  [[nodiscard]] std::string file(const std::string& name) const;
};

}  // namespace dagflow::test
