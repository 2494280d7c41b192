// The shell op: runs one external command from an argv vector (never through a shell), in its
// own process group, with a timeout and capped output, so that a hung or chatty command cannot
// hang the run or exhaust its memory, and nothing it starts outlives it. The group is killed too
// when its task is asked to stop (the node's timeout, a cancelled run: Ctrl-C). Its inputs reach
// argv through placeholders (shell_argv.hpp); a node that declares `outputs` is a writer whose
// files the pipeline tracks, and a failed command leaves none of them behind.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/this_task.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/util/process.hpp>

#include "builtin_ops.hpp"
#include "shell_argv.hpp"

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

// A declared output: where it is (checked like any file an op writes) and as the node names it.
struct Output {
  std::filesystem::path path;
  std::string shown;
};

std::vector<Output> declared_outputs(const OpContext& ctx, std::span<const std::string> templates,
                                     std::span<const Value* const> inputs) {
  std::vector<Output> out;
  for (std::string& name :
       detail::expand_shell_placeholders(templates, inputs, /*whole_lists=*/false)) {
    std::filesystem::path path = ctx.output_path(name);
    out.push_back({std::move(path), std::move(name)});
  }
  return out;
}

// What a failed attempt leaves: none of the files it was to make, even partly written ones.
void remove_outputs(const std::vector<Output>& outputs) noexcept {
  for (const Output& o : outputs) {
    std::error_code ignored;
    std::filesystem::remove(o.path, ignored);
  }
}

Value::Map run_checked(const OpContext& ctx, const std::vector<std::string>& argv, double timeout,
                       std::int64_t max_output, bool check) {
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

// `inputs` are the node's inputs in order (a map node's element first). Without declared
// outputs the result says how the command went; with them it is their paths, which the
// command must have made.
Value run_command(const OpContext& ctx, const std::vector<Value>& inputs,
                  const std::vector<std::string>& argv_template,
                  const std::optional<std::vector<std::string>>& output_templates, double timeout,
                  std::int64_t max_output, bool check) {
  std::vector<const Value*> in;
  in.reserve(inputs.size());
  for (const Value& v : inputs) in.push_back(&v);
  const std::vector<std::string> argv = detail::expand_shell_placeholders(argv_template, in);
  check_arguments(ctx, argv, timeout, max_output);
  if (!output_templates) return run_checked(ctx, argv, timeout, max_output, check);
  const std::vector<Output> outputs = declared_outputs(ctx, *output_templates, in);
  for (const Output& o : outputs) std::filesystem::create_directories(o.path.parent_path());
  try {
    run_checked(ctx, argv, timeout, max_output, check);
  } catch (...) {
    remove_outputs(outputs);
    throw;
  }
  Value::List made;
  made.reserve(outputs.size());
  for (const Output& o : outputs) {
    if (!std::filesystem::is_regular_file(o.path)) {
      remove_outputs(outputs);
      throw Error(fmt::format("command '{}' did not make its output '{}'", argv[0], o.shown));
    }
    made.push_back(Value::path(o.path, o.shown));
  }
  return made;
}

// Placeholders with nothing to stand for, and outputs named outside the pipeline's directory
// (those without placeholders: the others are checked when they are known), found before a run.
std::optional<NodeProblem> check_node(const OpContext& ctx, const Value::Map& args,
                                      NodeShape shape) {
  for (const char* name : {"argv", "outputs"}) {
    const auto it = args.find(name);
    if (it == args.end() || it->second.kind() != ValueKind::kList) continue;
    std::vector<std::string> templates;
    for (const Value& v : it->second.as_list()) {
      if (v.kind() == ValueKind::kString) templates.push_back(v.as_string());
    }
    const detail::ShellPlaceholders used = detail::shell_placeholders(templates);
    if (used.any() && shape.inputs == 0) {
      return NodeProblem{name,
                         fmt::format("{} uses {} but the node has no inputs (give it 'inputs' or "
                                     "'map')",
                                     name,
                                     used.item    ? "{item}"
                                     : used.input ? "{input}"
                                                  : "{inputs}")};
    }
    if (used.item && !shape.mapped) {
      return NodeProblem{name, fmt::format("{} uses {{item}}, a map node's element, but the node "
                                           "has no 'map' (use {{input}} or {{inputs}})",
                                           name)};
    }
    if (std::string_view(name) != "outputs") continue;
    if (used.inputs) {
      return NodeProblem{name, "outputs cannot use {inputs}: each output names one file"};
    }
    for (const std::string& t : templates) {
      if (detail::shell_placeholders(std::span(&t, 1)).any()) continue;
      try {
        (void)ctx.output_path(t);
      } catch (const CapabilityError& e) {
        return NodeProblem{name, e.what(), e.refused()};
      } catch (const Error& e) {
        return NodeProblem{name, e.what()};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

void add_shell_ops(OpRegistry& ops) {
  ops.add("shell", &run_command,
          "Runs the command argv (a list of strings, passed as they are, never through a shell) "
          "UNSANDBOXED with your user's rights, so it runs only where running commands is allowed. "
          "Takes any number of inputs: in argv and outputs, {item} is a map node's element, "
          "{input} the one file the inputs give, and {inputs}, a whole entry, one entry per file. "
          "Returns {exit_code, "
          "stdout, stderr, stdout_truncated, stderr_truncated}; each output keeps at most "
          "max_output bytes, a run longer than timeout seconds is killed with everything it "
          "started (as is one whose node times out or whose run is cancelled), and with check a "
          "non-zero exit code is an error. With outputs (files the command makes, relative to "
          "the pipeline) it returns their paths and is cached like a writer, its files tracked "
          "by content; a failed command leaves none of them behind. Without, it runs every time.",
          {arg("argv"), arg("outputs", Value()), arg("timeout", 60.0), arg("max_output", 1048576),
           arg("check", true)})
      .set_takes_any_inputs()
      .set_node_check(&check_node)
      .set_runs_commands()
      .set_side_effects()
      .set_writer_arg("outputs")
      .set_io();
}

}  // namespace dagflow
