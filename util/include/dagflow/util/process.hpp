// Running an external program through pipes: the `shell` op's commands and the CLI's Graphviz
// `dot`. The program is started directly (never through a shell), with default signal handling,
// and nothing is left behind on any path: no zombie, no descriptor, and with its own process
// group no background process it started. Calls are independent: any number may run at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dagflow::util {

/// What to run, and what to do with its input and output.
struct ProcessOptions {
  /// The argument vector, passed as it is; not empty. argv[0] is also the program to run unless
  /// `program` is given.
  std::vector<std::string> argv{};
  /// The program file; default (empty): argv[0], searched on PATH as execvp does.
  std::filesystem::path program{};
  /// The program's working directory; default (empty): this process's.
  std::filesystem::path working_dir{};
  /// Fed to the program's stdin through a pipe, which is then closed; default (nullopt): stdin
  /// is /dev/null.
  std::optional<std::string_view> input{};
  /// Whether stderr is captured (default) or goes where this process's stderr goes.
  bool capture_stderr = true;
  /// The most bytes kept of stdout, and of stderr; the rest is read and dropped, so that the
  /// program never blocks on a full pipe. Default: no limit.
  std::size_t max_output = std::numeric_limits<std::size_t>::max();
  /// How long the program may run, from the call, before it is killed (SIGKILL); default
  /// (nullopt): no limit.
  std::optional<std::chrono::steady_clock::duration> timeout{};
  /// Run it as the leader of a process group of its own, and kill the whole group (SIGKILL) once
  /// the leader has exited, timed out or been stopped, so that nothing it started outlives it.
  /// Default: off.
  bool own_process_group = false;
  /// Asked every few milliseconds (on the calling thread) while the program runs; when it returns
  /// true, the program is killed (SIGKILL, with its group when it leads one) and the result says
  /// `stopped`. For a caller that may be told to stop meanwhile (a task's cancellation or
  /// timeout). Default (empty): never asked.
  std::function<bool()> should_stop{};
};

/// How the program ended and what it wrote.
struct ProcessResult {
  /// The timeout ran out: the program (and its group) was killed; `out` and `err` hold what it
  /// had written by then, `exit_code` and `signal` are not set.
  bool timed_out = false;
  /// should_stop returned true: the program (and its group) was killed; as for timed_out, `out`
  /// and `err` hold what it had written by then, `exit_code` and `signal` are not set.
  bool stopped = false;
  /// The exit code when it exited, else -1.
  int exit_code = -1;
  /// The signal that ended it, else 0.
  int signal = 0;
  std::string out{};           ///< stdout, at most max_output bytes
  std::string err{};           ///< stderr, at most max_output bytes (empty unless captured)
  bool out_truncated = false;  ///< stdout had more than max_output bytes
  bool err_truncated = false;  ///< stderr had more than max_output bytes
};

/// The program could not be started (posix_spawn failed: not found, not executable...).
/// code() is the errno; what() is "cannot start 'PROGRAM': " and its text.
class SpawnError : public std::system_error {
 public:
  using std::system_error::system_error;
};

/// Runs the program to its end (or its timeout, or until should_stop says so): feeds `input`,
/// collects stdout (and stderr) while it runs, then waits for it to exit (and with
/// own_process_group kills what it left running). The pipes are
/// close-on-exec, so no other program started meanwhile inherits them; the child starts with no
/// blocked signals and default handlers (whatever this process ignores, e.g. SIGPIPE). While input
/// is written, SIGPIPE is blocked on the calling thread, so a program that stops reading is an
/// EPIPE, not the death of this process. Throws std::invalid_argument for an empty argv, SpawnError
/// when the program cannot be started, and std::system_error for a failing pipe, poll, read or
/// write (what() names it: "cannot create a pipe: ...", "poll failed: ...", "cannot read its
/// output: ...", "cannot write to its input: ..."), after killing and reaping the program.
[[nodiscard]] ProcessResult run_process(const ProcessOptions& options);

}  // namespace dagflow::util
