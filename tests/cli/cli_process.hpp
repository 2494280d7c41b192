// Helpers for the CLI tests: run the `dagflow` binary as a user would (no shell, stdout and
// stderr captured separately, exit code) inside a fresh copy of the test data.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dagflow::testing {

/// What a finished process left behind.
struct ProcessResult {
  /// The exit status; 128 + the signal number when the process was killed by a signal.
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs argv[0] (a path, no PATH search, no shell) with argv, stdin from /dev/null, in `cwd`
/// (empty: this process's working directory), and waits for it. Fails the test (REQUIRE) when
/// the process cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& cwd = {});

/// Runs the `dagflow` binary under test with `args`.
ProcessResult run_dagflow(const std::vector<std::string>& args,
                          const std::filesystem::path& cwd = {});

/// util-linux `script`, which runs a command on a pseudo-terminal; empty when not installed.
[[nodiscard]] std::string script_program();

/// Runs the `dagflow` binary under test with `args` on a pseudo-terminal (through `script -qec`),
/// so that its stdout and stderr are a terminal. `out` holds everything it printed on either
/// (the terminal's lines end in "\r\n"); `err` holds what `script` itself printed. Requires
/// script_program() to be non-empty.
ProcessResult run_dagflow_on_terminal(const std::vector<std::string>& args,
                                      const std::filesystem::path& cwd = {});

/// A fresh directory under the system temp dir, removed (with everything in it) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// A TempDir holding a copy of tests/cli/data (the pipelines and their text files).
class DataDir : public TempDir {
 public:
  DataDir();
  /// `name` inside the copy, as a string (for argv).
  [[nodiscard]] std::string file(const std::string& name) const;
};

[[nodiscard]] std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace dagflow::testing
