// `dagflow`: run, validate and inspect YAML pipelines, list the built-in ops, manage the cache.
//
// Exit codes: 0 success; 1 a node failed while running; 2 an invalid pipeline, a usage error or
// an environment error (refused cache directory, unwritable --stats-json/--trace/--timeline/-o
// path, Graphviz missing for `graph --format svg`, unexpected internal error); 130 a run
// interrupted by SIGINT or SIGTERM. Results go to
// stdout; everything for people (progress, summaries, warnings, errors) goes to stderr.
// Under `mpirun -np N` (ranks.hpp), `run` runs across the ranks, which all exit with the same
// code, and rank 0 alone prints; the other commands are rank 0's alone.
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/pipeline/pipeline.hpp>
#include <dagflow/util/suggest.hpp>
#include <dagflow/version.hpp>

#include "commands.hpp"
#include "ranks.hpp"

namespace dagflow::cli {

namespace {

// The largest --threads: the Executor accepts more threads than cores, but not without bound.
constexpr std::size_t kMaxThreads = 1024;

void add_plugin_option(CLI::App& command, std::vector<std::string>& plugins) {
  command
      .add_option("--plugin", plugins,
                  "Load the ops of this plugin (a shared library made with DAGFLOW_PLUGIN, "
                  "relative to the working directory); repeatable")
      ->allow_extra_args(false)
      ->type_name("PATH");
}

void add_file_option(CLI::App& command, LoadArgs& args) {
  command.add_option("FILE", args.file, "The pipeline (YAML)")->required();
  add_plugin_option(command, args.plugins);
}

void add_set_option(CLI::App& command, LoadArgs& args) {
  // One NAME=VALUE per --set, so that `--set k=2 FILE` does not take FILE as a second value.
  command
      .add_option("--set", args.set,
                  "Override a param of the pipeline (NAME=VALUE, VALUE read as YAML); repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
}

void add_resource_option(CLI::App& command, LoadArgs& args) {
  command
      .add_option("--resource", args.resources,
                  "Capacity of a resource the nodes hold (NAME=N): replaces the pipeline's, or "
                  "declares one it does not; repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=N");
}

// How `dagflow run` runs tasks beyond -j: I/O threads, resources, keep-going.
void add_task_options(CLI::App& run, RunArgs& args) {
  run.add_flag("-k,--keep-going", args.keep_going,
               "After a node fails, keep running what does not depend on it (as make -k); "
               "every failure is printed and the exit code is 1");
  run.add_option("--io-threads", args.io_threads,
                 "Threads for I/O nodes (io: true; ops that read or write files or run commands) "
                 "and cache writes (default 0: dagflow's choice, 4 per core and at least 32)")
      ->check(CLI::Range(std::size_t{0}, kMaxThreads));
  add_resource_option(run, args.load);
}

void add_permission_flags(CLI::App& command, LoadArgs& args) {
  command.add_flag("--allow-shell", args.allow_shell,
                   "Allow ops that run external commands (e.g. shell)");
  command.add_flag("--allow-outside", args.allow_outside,
                   "Allow ops to write outside the pipeline's directory");
  command.add_flag("--allow-plugins", args.allow_plugins,
                   "Allow the pipeline's top-level 'plugins' to load (code that runs with your "
                   "rights; --plugin needs no flag)");
}

void add_run_outputs(CLI::App& run, RunArgs& args);

// `dagflow run` and its options.
CLI::App* add_run_command(CLI::App& app, RunArgs& args) {
  CLI::App* run = app.add_subcommand("run", "Run a pipeline and print its outputs");
  run->footer(
      "While it runs, a progress bar (tasks done/total, cache hits, items of the maps that "
      "finished and how far the running ones are, elapsed time, ETA) is shown on stderr when "
      "stderr is a terminal; a running map fills the bar as its items run. After the run, stderr "
      "gets a summary line and a "
      "table with a row per op: nodes, executed, cached, time in the op (summed over workers), "
      "and its share of the wall time. Results alone go to stdout.\n"
      "With -k, a failed node stops only what depends on it: every failure is printed, then the "
      "summary. The first Ctrl-C (SIGINT or SIGTERM) cancels the run: what finished is cached "
      "(the next run resumes from it), the trace, timeline, stats and run record are written, "
      "and it prints 'interrupted'; a second Ctrl-C exits at once.\n"
      "Exit codes: 0 success, 1 a node failed, 2 an invalid pipeline or a usage error, 130 "
      "interrupted.");
  add_file_option(*run, args.load);
  run->add_option("NODE", args.targets,
                  "Compute only these nodes and what they need (default: the outputs)");
  add_set_option(*run, args.load);
  run->add_option("--force", args.force,
                  "Run NODE again even if cached; what depends on it runs again only if its "
                  "result changes; repeatable")
      ->allow_extra_args(false)
      ->type_name("NODE");
  run->add_flag("-B,--force-all", args.force_all,
                "Run every needed node again (as make -B), still writing the cache");
  run->add_flag("-v,--verbose", args.verbose,
                "Print each node as it finishes, with why it ran (as --dry-run explains)");
  run->add_option("-j,--jobs,--threads", args.threads,
                  "Worker threads (default 0: all cores); -j and --jobs as in make")
      ->check(CLI::Range(std::size_t{0}, kMaxThreads));
  CLI::Option* cache_dir =
      run->add_option("--cache-dir", args.cache_dir,
                      "Cache directory, relative to the working directory (default: "
                      ".dagflow/cache beside the pipeline file, or $XDG_CACHE_HOME/dagflow "
                      "(~/.cache/dagflow) when that cannot be written)");
  CLI::Option* no_cache =
      run->add_flag("--no-cache", args.no_cache, "Use no disk cache: run everything");
  CLI::Option* durable_cache = run->add_flag(
      "--durable-cache", args.durable_cache,
      "Sync each cache entry and the run record to disk (fsync the file and its directory) "
      "before it counts as written, so entries survive a power loss; slower writes. Without it "
      "a killed run never leaves a damaged entry, and one a power loss damages is recomputed");
  cache_dir->excludes(no_cache);
  no_cache->excludes(cache_dir);
  durable_cache->excludes(no_cache);
  no_cache->excludes(durable_cache);
  add_permission_flags(*run, args.load);
  add_task_options(*run, args);
  add_run_outputs(*run, args);
  return run;
}

// What `dagflow run` prints and writes: --json, --dry-run, the files, progress, -q.
void add_run_outputs(CLI::App& run, RunArgs& args) {
  run.add_flag("--json", args.json,
               "Print the outputs as one JSON object {output id: value} and nothing else "
               "(with --dry-run: {\"nodes\": [{\"id\", \"op\", \"state\", \"reason\"}]})");
  CLI::Option* dry_run = run.add_flag(
      "-n,--dry-run", args.dry_run,
      "Print what a run would do now, one line per node: 'would run' (with why), 'cached', "
      "'not needed' or 'probe ran' (like make -n); runs only the probes (e.g. glob)");
  CLI::Option* stats_json =
      run.add_option("--stats-json", args.stats_json,
                     "Write what ran and what came from the cache to this JSON file");
  CLI::Option* trace = run.add_option(
      "--trace", args.trace,
      "Write a Chrome trace (trace-event JSON) of the run's tasks to this file, even when a "
      "node fails; open it in https://ui.perfetto.dev or chrome://tracing");
  CLI::Option* timeline = run.add_option(
      "--timeline", args.timeline,
      "Write an SVG timeline of the run's tasks (a lane per worker thread) to this file, even "
      "when a node fails");
  CLI::Option* progress =
      run.add_flag("--progress", args.progress,
                   "Show progress on stderr even when it is no terminal (then only a final line "
                   "'N/N tasks done, C cached, S s', with ', I items mapped' after a map)");
  CLI::Option* no_progress =
      run.add_flag("--no-progress", args.no_progress, "Show no progress bar");
  progress->excludes(no_progress);
  no_progress->excludes(progress);
  for (CLI::Option* writes : {stats_json, trace, timeline, progress}) {
    dry_run->excludes(writes);
    writes->excludes(dry_run);
  }
  run.add_flag("-q,--quiet", args.quiet,
               "Print no summary line and no table on stderr, and no progress bar unless "
               "--progress (errors and warnings still print)");
}

struct Commands {
  CLI::App* run = nullptr;
  CLI::App* validate = nullptr;
  CLI::App* graph = nullptr;
  CLI::App* ops = nullptr;
  CLI::App* cache_stats = nullptr;
  CLI::App* cache_clear = nullptr;
  CLI::App* cache_prune = nullptr;
  CLI::App* cache_list = nullptr;
};

struct Arguments {
  RunArgs run{};
  LoadArgs load{};  // validate
  GraphArgs graph{};
  OpsArgs ops{};
  CacheArgs cache{};
};

void add_cache_target(CLI::App& command, CacheArgs& args) {
  command.add_option("FILE", args.file,
                     "A pipeline: its entries (as its run record names them) in its cache, "
                     ".dagflow/cache beside the file unless --cache-dir");
  command.add_option("--cache-dir", args.cache_dir,
                     "The cache directory (relative to the working directory)");
  command.add_flag("--json", args.json, "Print the result as one JSON object");
  add_plugin_option(command, args.plugins);
}

Commands define_commands(CLI::App& app, Arguments& a) {
  app.set_version_flag("--version", "dagflow " DAGFLOW_VERSION_STRING);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    (void)failed;
    return "dagflow: error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  Commands c;

  c.run = add_run_command(app, a.run);

  c.validate = app.add_subcommand("validate", "Check a pipeline without running it");
  add_file_option(*c.validate, a.load);
  add_set_option(*c.validate, a.load);
  add_resource_option(*c.validate, a.load);
  add_permission_flags(*c.validate, a.load);

  c.graph = app.add_subcommand(
      "graph", "Print a pipeline's graph in Graphviz DOT or SVG, coloured by cache state");
  c.graph->footer(
      "When the pipeline's cache exists, nodes are filled by what a run would do now: orange "
      "would run, green cached, grey not needed (found like run --dry-run: the probes run).");
  add_file_option(*c.graph, a.graph.load);
  add_set_option(*c.graph, a.graph.load);
  add_resource_option(*c.graph, a.graph.load);
  c.graph
      ->add_option("--format", a.graph.format,
                   "dot (default) or svg (rendered by Graphviz's `dot`, which must be on "
                   "PATH)")
      ->check(CLI::IsMember({"dot", "svg"}));
  c.graph->add_option("-o,--output", a.graph.output,
                      "Write the graph to this file instead of stdout");
  CLI::Option* graph_cache_dir = c.graph->add_option(
      "--cache-dir", a.graph.cache_dir,
      "The cache whose state colours the nodes, relative to the working directory (default: "
      ".dagflow/cache beside the pipeline file)");
  CLI::Option* graph_no_cache =
      c.graph->add_flag("--no-cache", a.graph.no_cache, "A plain graph: look at no cache");
  graph_cache_dir->excludes(graph_no_cache);
  graph_no_cache->excludes(graph_cache_dir);
  add_permission_flags(*c.graph, a.graph.load);

  c.ops = app.add_subcommand("ops", "Describe the ops, built in and from --plugin (all, or one)");
  c.ops->add_option("NAME", a.ops.name, "Describe only this op");
  c.ops->add_flag("--json", a.ops.json, "Print the ops as one JSON object");
  add_plugin_option(*c.ops, a.ops.plugins);

  CLI::App* cache = app.add_subcommand(
      "cache", "Show, clear or prune a disk cache (a pipeline's, or --cache-dir's)");
  cache->require_subcommand(1);
  cache->footer(
      "Entries are content-addressed and shared: identical work of two pipelines is done and "
      "kept once. With a FILE, a command is about that pipeline's entries, as its run record "
      "(written by every run) names them; it works for a pipeline that no longer loads.");
  c.cache_stats = cache->add_subcommand(
      "stats", "Count the entries and bytes of the cache (and FILE's share of them)");
  add_cache_target(*c.cache_stats, a.cache);
  c.cache_list = cache->add_subcommand(
      "list", "List FILE's nodes as last recorded: cached or not, and their entries' bytes");
  add_cache_target(*c.cache_list, a.cache);
  c.cache_clear = cache->add_subcommand(
      "clear",
      "Remove FILE's entries that no other pipeline's run record names (entries shared with "
      "another pipeline stay), or with only --cache-dir every entry");
  add_cache_target(*c.cache_clear, a.cache);
  c.cache_prune = cache->add_subcommand(
      "prune", "Remove the least recently used entries until at most --max-bytes remain");
  add_cache_target(*c.cache_prune, a.cache);
  c.cache_prune
      ->add_option("--max-bytes", a.cache.max_bytes,
                   "The budget in bytes; suffixes K, M, G (powers of 1024) are accepted")
      ->required()
      ->check(CLI::Validator(
          [](const std::string& text) {
            // AsSizeValue would read "-5" as a huge budget and prune nothing.
            return text.find('-') == std::string::npos ? std::string{}
                                                       : "a budget cannot be negative: " + text;
          },
          "BYTES"))
      ->transform(CLI::AsSizeValue(false));
  return c;
}

int dispatch(const Commands& c, const Arguments& a, Ranks& ranks) {
  if (c.run->parsed()) return run_command(a.run, ranks);
  // Under mpirun, the other commands (which look, never compute) are rank 0's alone.
  if (!ranks.leads()) return kExitOk;
  if (c.validate->parsed()) return validate_command(a.load);
  if (c.graph->parsed()) return graph_command(a.graph);
  if (c.ops->parsed()) return ops_command(a.ops);
  if (c.cache_stats->parsed()) return cache_command(CacheAction::kStats, a.cache);
  if (c.cache_clear->parsed()) return cache_command(CacheAction::kClear, a.cache);
  if (c.cache_prune->parsed()) return cache_command(CacheAction::kPrune, a.cache);
  if (c.cache_list->parsed()) return cache_command(CacheAction::kList, a.cache);
  return kExitInvalid;  // require_subcommand makes this unreachable
}

// A command word that names no command ("dagflow rn"), with the commands it may be a typo of;
// nullopt when the words before the first option all name commands (CLI11 judges the rest).
std::optional<std::string> unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word.front() == '-') return std::nullopt;
    const std::vector<CLI::App*> commands = level->get_subcommands([](CLI::App*) { return true; });
    if (commands.empty()) return std::nullopt;  // a positional argument of a command
    std::vector<std::string> names;
    CLI::App* next = nullptr;
    for (CLI::App* command : commands) {
      names.push_back(command->get_name());
      if (command->get_name() == word) next = command;
    }
    if (next == nullptr) {
      return fmt::format("unknown command '{}'{}", word,
                         util::did_you_mean(util::nearest_names(word, names)));
    }
    level = next;
  }
  return std::nullopt;
}

// Prints the exception being handled on stderr and returns the exit code it means.
int report_failure() noexcept {
  const Failure failure = current_failure();
  std::cerr << failure.text;
  return failure.code;
}

int main_impl(int argc, char** argv, Ranks& ranks) {
  CLI::App app{"dagflow: run YAML pipelines of cached, parallel tasks", "dagflow"};
  Arguments arguments;
  const Commands commands = define_commands(app, arguments);
  // Every rank has the same command line, so the same verdict on it: rank 0 says it.
  std::ostringstream quiet;
  std::ostream& out = ranks.leads() ? std::cout : quiet;
  std::ostream& err = ranks.leads() ? std::cerr : quiet;
  if (const std::optional<std::string> unknown = unknown_command(app, argc, argv)) {
    err << "dagflow: error: " << *unknown << "\nRun with --help for more information.\n";
    return kExitInvalid;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real usage error exits 2.
    const int code = app.exit(e, out, err);
    std::cout.flush();
    return code == 0 ? kExitOk : kExitInvalid;
  }
  const int code = dispatch(commands, arguments, ranks);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "dagflow: error: cannot write to stdout\n";
    return kExitInvalid;
  }
  return code;
}

}  // namespace

}  // namespace dagflow::cli

int main(int argc, char** argv) {
  // First of all (under mpirun it starts MPI, which may take its own arguments out of argv), and
  // destroyed last, never by an exception: an exception leaving it would abort the whole job.
  std::optional<dagflow::cli::Ranks> ranks;
  try {
    ranks.emplace(argc, argv);
  } catch (...) {
    return dagflow::cli::report_failure();
  }
  int code = dagflow::cli::kExitOk;
  try {
    code = dagflow::cli::main_impl(argc, argv, *ranks);
  } catch (...) {
    std::cout.flush();
    code = dagflow::cli::report_failure();
  }
  return code;
}
