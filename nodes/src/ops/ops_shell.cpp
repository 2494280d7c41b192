// The shell op: runs one external command from an argv vector (never through a shell), in its
// own process group, with a timeout and capped output, so that a hung or chatty command cannot
// hang the run or exhaust its memory, and nothing it starts outlives it. The group is killed too
// when its task is asked to stop (the node's timeout, a cancelled run: Ctrl-C).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/this_task.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/util/process.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

constexpr double kMaxTimeoutSeconds = 7 * 24 * 3600.0;
constexpr std::int64_t kMaxOutputLimit = std::int64_t{1} << 30;

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  constexpr std::size_t kMaxShown = 200;
  if (line.size() > kMaxShown) line = line.substr(0, kMaxShown) + "...";
  return line;
}

// Refuses what the command cannot run with; the messages name the argument at fault.
void check_arguments(const OpContext& ctx, const std::vector<std::string>& argv, double timeout,
                     std::int64_t max_output) {
  if (!ctx.allow_shell) {
    throw CapabilityError(Capability::kRunCommands, "the shell op runs commands");
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
}

// The command run to its end, or the Error saying why it could not be.
util::ProcessResult run(const OpContext& ctx, const std::vector<std::string>& argv, double timeout,
                        std::int64_t max_output) {
  try {
    return util::run_process({
        .argv = argv,
        .working_dir = ctx.base_dir,
        .max_output = static_cast<std::size_t>(max_output),
        .timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(timeout)),
        .own_process_group = true,
        .should_stop = [] { return this_task::stop_requested(); },
    });
  } catch (const util::SpawnError& e) {
    throw Error(fmt::format("cannot run command '{}': {}", argv[0], e.code().message()));
  } catch (const std::system_error& e) {
    throw Error(fmt::format("command '{}': {}", argv[0], e.what()));
  }
}

Value::Map run_command(const OpContext& ctx, const std::vector<std::string>& argv, double timeout,
                       std::int64_t max_output, bool check) {
  check_arguments(ctx, argv, timeout, max_output);
  util::ProcessResult r = run(ctx, argv, timeout, max_output);
  if (r.timed_out) {
    throw Error(fmt::format("command '{}' timed out after {} s", argv[0], timeout));
  }
  if (r.stopped) {
    throw Error(fmt::format("command '{}' was stopped: its run was cancelled or its node timed out",
                            argv[0]));
  }
  // As a shell reports it: 128 + the signal's number for a command a signal ended.
  const int exit_code = r.signal != 0 ? 128 + r.signal : r.exit_code;
  if (check && exit_code != 0) {
    if (r.signal != 0) {
      const char* name = ::sigdescr_np(r.signal);  // thread-safe, unlike strsignal
      throw Error(fmt::format("command '{}' was killed by signal {} ({})", argv[0], r.signal,
                              name != nullptr ? name : "unknown"));
    }
    const std::string reason = first_line(r.err);
    throw Error(fmt::format("command '{}' exited with code {}{}{}", argv[0], exit_code,
                            reason.empty() ? "" : ": ", reason));
  }
  return Value::Map{{"exit_code", exit_code},
                    {"stdout", std::move(r.out)},
                    {"stderr", std::move(r.err)},
                    {"stdout_truncated", r.out_truncated},
                    {"stderr_truncated", r.err_truncated}};
}

}  // namespace

void add_shell_ops(OpRegistry& ops) {
  ops.add("shell", &run_command,
          "Runs the command argv (a list of strings, passed as they are, never through a shell) "
          "UNSANDBOXED with your user's rights, so it runs only where running commands is allowed. "
          "Returns {exit_code, "
          "stdout, stderr, stdout_truncated, stderr_truncated}; each output keeps at most "
          "max_output bytes, a run longer than timeout seconds is killed with everything it "
          "started (as is one whose node times out or whose run is cancelled), and with check a "
          "non-zero exit code is an error.",
          {arg("argv"), arg("timeout", 60.0), arg("max_output", 1048576), arg("check", true)})
      .set_runs_commands()
      .set_side_effects()
      .set_io();
}

}  // namespace dagflow
