// The subcommands of the `dagflow` command, each a function from its parsed arguments to an exit
// code. main.cpp parses the command line into these structs and maps exceptions to exit codes;
// these functions print results to stdout and everything meant for people to stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dagflow::cli {

/// Exit codes of `dagflow` (documented in the README's usage section).
inline constexpr int kExitOk = 0;
/// A node failed while the pipeline ran (dagflow::NodeError).
inline constexpr int kExitTaskFailed = 1;
/// An invalid pipeline, a usage error or an environment error (refused cache dir, unwritable
/// --stats-json path...): nothing was run, or what ran is not reported.
inline constexpr int kExitInvalid = 2;
/// The run was interrupted (SIGINT or SIGTERM): what finished is cached, as a shell reports a
/// command that SIGINT ended.
inline constexpr int kExitInterrupted = 130;

/// A problem with how the command was used or with its environment that CLI11 cannot see while
/// parsing (e.g. an unwritable --stats-json path). main prints "dagflow: error: " + what() and
/// exits with kExitInvalid.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a failure means for `dagflow`: its exit code and what it prints on stderr (lines, each
/// ending in '\n'; a pipeline error starts with FILE:LINE:COL, as a compiler's does).
struct Failure {
  int code = kExitOk;
  std::string text{};
};

/// The Failure the exception being handled is (call it from a catch block): kExitInvalid for
/// an invalid pipeline, a usage or environment error, or an unexpected exception;
/// kExitTaskFailed for a failed node.
[[nodiscard]] Failure current_failure() noexcept;

class Ranks;

/// What every command that loads a pipeline takes.
struct LoadArgs {
  std::string file;
  std::vector<std::string> set{};
  std::vector<std::string> plugins{};  // --plugin PATH, loaded before the file
  bool allow_shell = false;
  bool allow_outside = false;
  bool allow_plugins = false;            // the file's own `plugins:` may load
  std::vector<std::string> resources{};  // --resource NAME=N, as written
};

/// `dagflow run`.
struct RunArgs {
  LoadArgs load{};
  std::size_t threads = 0;  // 0 = all cores
  std::string cache_dir{};  // empty = the pipeline's default cache dir
  bool no_cache = false;
  bool durable_cache = false;  // --durable-cache: fsync each cache entry before it counts
  bool json = false;
  std::string stats_json{};  // empty = no stats file
  std::string trace{};       // empty = no Chrome trace file
  std::string timeline{};    // empty = no SVG timeline
  bool dry_run = false;      // say what would run; run only the probes
  bool progress = false;     // --progress: a progress bar even when stderr is no terminal
  bool no_progress = false;  // --no-progress: none even on a terminal
  bool quiet = false;        // no summary line, no table (errors and warnings still print)
  std::vector<std::string> targets{};  // NODE...: empty = the outputs
  std::vector<std::string> force{};    // --force NODE, repeatable
  bool force_all = false;              // -B
  bool verbose = false;                // -v: each node as it finishes, with its reason
  bool keep_going = false;             // -k: run what does not depend on a failure
  std::size_t io_threads = 0;          // 0 = dagflow's choice
};

/// `dagflow graph`.
struct GraphArgs {
  LoadArgs load{};
  std::string format = "dot";  // "dot" or "svg"
  std::string output{};        // empty = stdout
  std::string cache_dir{};     // empty = the pipeline's default cache dir
  bool no_cache = false;       // a plain graph, not coloured by cache state
};

/// `dagflow cache stats|list|clear|prune`.
enum class CacheAction : std::uint8_t { kStats, kClear, kPrune, kList };
struct CacheArgs {
  std::string file{};  // the pipeline whose entries (and default cache) are meant, or empty
  std::vector<std::string> plugins{};  // --plugin PATH: loaded (and so checked), not needed
  std::string cache_dir{};             // the cache directory; default: the pipeline's
  std::uint64_t max_bytes = 0;
  bool json = false;
};

/// Loads, runs and prints the outputs (JSON object with --json, else `id: value` lines), then,
/// on stderr, a summary line and a table of the time per op (unless --quiet); shows a progress
/// bar on stderr while it runs (see progress.hpp); writes --stats-json, --trace and --timeline.
/// With --dry-run, prints what would run instead (one line per node, or a JSON object) and runs
/// only the probes. With --keep-going, failures do not stop the rest: each is printed on stderr,
/// then the summary, and it returns kExitTaskFailed. The first SIGINT or SIGTERM cancels the
/// run: it prints the summary and "interrupted" with what finished, and returns
/// kExitInterrupted (a second signal exits at once, see interrupts.hpp). Throws what loading and
/// running throw otherwise (PipelineError, NodeError, std::invalid_argument) and CommandError for
/// an unwritable output file (checked before the run) or a malformed --resource. The trace and
/// timeline are written even when the run fails or is interrupted (the stats file too, when
/// the run's nodes are known).
///
/// Across ranks (`mpirun -np N dagflow run ...`, see ranks.hpp), every rank runs its share of
/// the pipeline and returns the same exit code; rank 0 alone prints (what one process prints,
/// plus a line per rank in the summary) and writes the files, the trace holding every rank's
/// tasks. What a rank prepares before the run (loading the pipeline, opening the files) is
/// agreed on first: when one rank cannot, no rank runs, and rank 0 prints each rank's error.
/// A dry run is rank 0's alone, as the other commands are (main gives them to rank 0).
int run_command(const RunArgs& args, Ranks& ranks);

/// What to print after `error`'s message when it refused a capability (the flag that allows
/// it: " (pass --allow-shell)"), else "". The library names what it refused; only the command
/// knows its flags.
[[nodiscard]] std::string_view flag_hint(const std::exception& error) noexcept;

/// Loads the pipeline and prints "FILE: ok (N nodes, outputs: a, b)".
int validate_command(const LoadArgs& args);

/// Loads the pipeline and prints its graph, in Graphviz DOT or (through Graphviz's `dot`) SVG,
/// to stdout or --output. When the pipeline's cache directory exists (and not --no-cache), the
/// nodes are coloured by what a run would do now, found by a dry run (which runs the probes).
/// Throws CommandError when `dot` is missing or fails, or the output file cannot be written.
int graph_command(const GraphArgs& args);

/// `dagflow ops`.
struct OpsArgs {
  std::string name{};  // empty = every op
  bool json = false;
  std::vector<std::string> plugins{};  // --plugin PATH
};

/// Describes every op (the built-in ones and those of the --plugin files, each with its plugin's
/// path), or only `name` (CommandError with suggestions when unknown); with `json`, as one JSON
/// object {name: {doc, inputs, args, flags..., plugin}}.
int ops_command(const OpsArgs& args);

/// Shows, lists, clears or prunes a disk cache, or with a FILE that pipeline's share of it (see
/// dagflow/pipeline/records.hpp). Throws CommandError when neither a file nor a cache dir is
/// given, or the file is not a regular file, or `list` has no FILE.
int cache_command(CacheAction action, const CacheArgs& args);

}  // namespace dagflow::cli
