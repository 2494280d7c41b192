// Running the `dagflow` binary under test as another, unprivileged user (`nobody`: uid and gid
// 65534), for the tests of what a user without root's rights meets: directories they cannot
// write, files of other users, a full disk. Tests run as root in CI; these ones copy the binary
// and its libraries where `nobody` can read them, and setpriv drops the privileges. Call from the
// test's thread only (failures are Catch2 REQUIREs).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace dagflow::test {

/// The uid and the gid the programs run as (`nobody` and `nogroup` on Debian).
inline constexpr unsigned kUnprivilegedId = 65534;

/// Why this process cannot run a program as another user (it is not root, or there is no
/// setpriv), as the text of a visible skip ("skipped: ..."); empty when it can.
[[nodiscard]] std::string unprivileged_runs_unavailable();

/// A copy of the `dagflow` binary under test and of its shared libraries in `<dir>/bin`, run as
/// `nobody`. The constructor makes `dir` mode 0755 (so that `nobody` can reach what the test puts
/// there) and requires unprivileged_runs_unavailable() to be empty.
class UnprivilegedDagflow {
 public:
  explicit UnprivilegedDagflow(const std::filesystem::path& dir);

  /// The command line that runs `dagflow args...` as `nobody`, with no supplementary groups and
  /// an environment of `env` ("NAME=VALUE") and the libraries' path only. Put it after a wrapper
  /// (a shell that sets limits first) or give it to run_process.
  [[nodiscard]] std::vector<std::string> argv(const std::vector<std::string>& args,
                                              std::vector<std::string> env = {}) const;

  /// run_process(argv(args, env), cwd), shown with any failing assertion that follows (as
  /// run_dagflow does).
  ProcessResult run(const std::vector<std::string>& args, std::vector<std::string> env = {},
                    const std::filesystem::path& cwd = {}) const;

 private:
  std::filesystem::path bin_;
};

}  // namespace dagflow::test
