// The subcommands of the `dagflow` command, each a function from its parsed arguments to an exit
// code. main.cpp parses the command line into these structs and maps exceptions to exit codes;
// these functions print results to stdout and everything meant for people to stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dagflow {

/// Exit codes of `dagflow` (documented in the README's usage section).
inline constexpr int kExitOk = 0;
/// A node failed while the pipeline ran (dagflow::NodeError).
inline constexpr int kExitTaskFailed = 1;
/// An invalid pipeline, a usage error or an environment error (refused cache dir, unwritable
/// --stats-json path...): nothing was run, or what ran is not reported.
inline constexpr int kExitInvalid = 2;

/// A problem with how the command was used or with its environment that CLI11 cannot see while
/// parsing (e.g. an unwritable --stats-json path). main prints "dagflow: error: " + what() and
/// exits with kExitInvalid.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What every command that loads a pipeline takes.
struct LoadArgs {
  std::string file;
  std::vector<std::string> set{};
  bool allow_shell = false;
  bool allow_outside = false;
};

/// `dagflow run`.
struct RunArgs {
  LoadArgs load{};
  std::size_t threads = 0;  // 0 = all cores
  std::string cache_dir{};  // empty = the pipeline's default cache dir
  bool no_cache = false;
  bool json = false;
  std::string stats_json{};  // empty = no stats file
};

/// `dagflow cache stats|clear|prune`.
enum class CacheAction : std::uint8_t { kStats, kClear, kPrune };
struct CacheArgs {
  std::string file{};       // the pipeline whose default cache is meant, or empty
  std::string cache_dir{};  // wins over `file` when both are given
  std::uint64_t max_bytes = 0;
};

/// Loads, runs and prints the outputs (JSON object with --json, else `id: value` lines).
/// Throws what loading and running throw (PipelineError, NodeError, std::invalid_argument) and
/// CommandError for an unwritable stats file.
int run_command(const RunArgs& args);

/// Loads the pipeline and prints "FILE: ok (N nodes, outputs: a, b)".
int validate_command(const LoadArgs& args);

/// Loads the pipeline and prints its Graphviz DOT graph.
int graph_command(const LoadArgs& args);

/// Describes every built-in op, or only `name` (CommandError with suggestions when unknown).
int ops_command(const std::string& name);

/// Shows, clears or prunes a disk cache. Throws CommandError when neither a file nor a cache dir
/// is given, or the file is not a regular file.
int cache_command(CacheAction action, const CacheArgs& args);

}  // namespace dagflow
