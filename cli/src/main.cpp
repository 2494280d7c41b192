// `dagflow`: run, validate and inspect YAML pipelines, list the built-in ops, manage the cache.
//
// Exit codes: 0 success; 1 a node failed while running; 2 an invalid pipeline, a usage error or
// an environment error (refused cache directory, unwritable --stats-json path, unexpected
// internal error). Results go to stdout; everything for people goes to stderr.
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/pipeline.hpp>
#include <dagflow/version.hpp>

#include "commands.hpp"

namespace dagflow {

namespace {

// The largest --threads: the Executor accepts more threads than cores, but not without bound.
constexpr std::size_t kMaxThreads = 1024;

void add_file_option(CLI::App& command, LoadArgs& args) {
  command.add_option("FILE", args.file, "The pipeline (YAML)")->required();
}

void add_set_option(CLI::App& command, LoadArgs& args) {
  // One NAME=VALUE per --set, so that `--set k=2 FILE` does not take FILE as a second value.
  command
      .add_option("--set", args.set,
                  "Override a param of the pipeline (NAME=VALUE, VALUE read as YAML); repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
}

void add_permission_flags(CLI::App& command, LoadArgs& args) {
  command.add_flag("--allow-shell", args.allow_shell,
                   "Allow ops that run external commands (e.g. shell)");
  command.add_flag("--allow-outside", args.allow_outside,
                   "Allow ops to write outside the pipeline's directory");
}

struct Commands {
  CLI::App* run = nullptr;
  CLI::App* validate = nullptr;
  CLI::App* graph = nullptr;
  CLI::App* ops = nullptr;
  CLI::App* cache_stats = nullptr;
  CLI::App* cache_clear = nullptr;
  CLI::App* cache_prune = nullptr;
};

struct Arguments {
  RunArgs run{};
  LoadArgs load{};  // validate and graph
  std::string op_name{};
  CacheArgs cache{};
};

void add_cache_target(CLI::App& command, CacheArgs& args) {
  command.add_option("FILE", args.file, "A pipeline: its cache is .dagflow/cache beside the file");
  command.add_option("--cache-dir", args.cache_dir,
                     "The cache directory (relative to the working directory; wins over FILE)");
}

Commands define_commands(CLI::App& app, Arguments& a) {
  app.set_version_flag("--version", "dagflow " DAGFLOW_VERSION_STRING);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    (void)failed;
    return "dagflow: error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  Commands c;

  c.run = app.add_subcommand("run", "Run a pipeline and print its outputs");
  add_file_option(*c.run, a.run.load);
  add_set_option(*c.run, a.run.load);
  c.run->add_option("--threads", a.run.threads, "Worker threads (default 0: all cores)")
      ->check(CLI::Range(std::size_t{0}, kMaxThreads));
  CLI::Option* cache_dir =
      c.run->add_option("--cache-dir", a.run.cache_dir,
                        "Cache directory, relative to the working directory (default: "
                        ".dagflow/cache beside the pipeline file)");
  CLI::Option* no_cache =
      c.run->add_flag("--no-cache", a.run.no_cache, "Use no disk cache: run everything");
  cache_dir->excludes(no_cache);
  no_cache->excludes(cache_dir);
  c.run->add_flag("--json", a.run.json,
                  "Print the outputs as one JSON object {output id: value} and nothing else");
  c.run->add_option("--stats-json", a.run.stats_json,
                    "Write what ran and what came from the cache to this JSON file");
  add_permission_flags(*c.run, a.run.load);

  c.validate = app.add_subcommand("validate", "Check a pipeline without running it");
  add_file_option(*c.validate, a.load);
  add_set_option(*c.validate, a.load);
  add_permission_flags(*c.validate, a.load);

  c.graph = app.add_subcommand("graph", "Print a pipeline's graph in Graphviz DOT");
  add_file_option(*c.graph, a.load);
  add_set_option(*c.graph, a.load);
  add_permission_flags(*c.graph, a.load);

  c.ops = app.add_subcommand("ops", "Describe the built-in ops (all, or one)");
  c.ops->add_option("NAME", a.op_name, "Describe only this op");

  CLI::App* cache = app.add_subcommand(
      "cache", "Show, clear or prune a disk cache (a pipeline's, or --cache-dir's)");
  cache->require_subcommand(1);
  c.cache_stats = cache->add_subcommand("stats", "Count the entries and bytes of the cache");
  add_cache_target(*c.cache_stats, a.cache);
  c.cache_clear = cache->add_subcommand("clear", "Remove every entry of the cache");
  add_cache_target(*c.cache_clear, a.cache);
  c.cache_prune = cache->add_subcommand(
      "prune", "Remove the least recently used entries until at most --max-bytes remain");
  add_cache_target(*c.cache_prune, a.cache);
  c.cache_prune
      ->add_option("--max-bytes", a.cache.max_bytes,
                   "The budget in bytes; suffixes K, M, G (powers of 1024) are accepted")
      ->required()
      ->transform(CLI::AsSizeValue(false));
  return c;
}

int dispatch(const Commands& c, const Arguments& a) {
  if (c.run->parsed()) return run_command(a.run);
  if (c.validate->parsed()) return validate_command(a.load);
  if (c.graph->parsed()) return graph_command(a.load);
  if (c.ops->parsed()) return ops_command(a.op_name);
  if (c.cache_stats->parsed()) return cache_command(CacheAction::kStats, a.cache);
  if (c.cache_clear->parsed()) return cache_command(CacheAction::kClear, a.cache);
  if (c.cache_prune->parsed()) return cache_command(CacheAction::kPrune, a.cache);
  return kExitInvalid;  // require_subcommand makes this unreachable
}

// Reports the exception being handled on stderr and returns the exit code it means. A pipeline
// error starts with FILE:LINE:COL, as a compiler's does, so editors can jump to it.
int report_failure() noexcept {
  try {
    throw;
  } catch (const PipelineError& e) {
    std::cerr << e.what() << '\n';
    return kExitInvalid;
  } catch (const NodeError& e) {
    std::cerr << "dagflow: error: " << e.what() << '\n';
    return kExitTaskFailed;
  } catch (const TaskError& e) {
    std::cerr << "dagflow: error: " << e.what() << '\n';
    return kExitTaskFailed;
  } catch (const CommandError& e) {
    std::cerr << "dagflow: error: " << e.what() << '\n';
    return kExitInvalid;
  } catch (const std::invalid_argument& e) {  // e.g. a cache directory the Executor refuses
    std::cerr << "dagflow: error: " << e.what() << '\n';
    return kExitInvalid;
  } catch (const std::filesystem::filesystem_error& e) {  // e.g. cannot create the cache dir
    std::cerr << "dagflow: error: " << e.what() << '\n';
    return kExitInvalid;
  } catch (const Error& e) {
    std::cerr << "dagflow: error: " << e.what() << '\n';
    return kExitInvalid;
  } catch (const std::bad_alloc&) {
    std::cerr << "dagflow: error: out of memory\n";
    return kExitInvalid;
  } catch (const std::exception& e) {
    std::cerr << "dagflow: internal error: " << e.what() << '\n';
    return kExitInvalid;
  } catch (...) {
    std::cerr << "dagflow: internal error: unknown exception\n";
    return kExitInvalid;
  }
}

int main_impl(int argc, char** argv) {
  CLI::App app{"dagflow: run YAML pipelines of cached, parallel tasks", "dagflow"};
  Arguments arguments;
  const Commands commands = define_commands(app, arguments);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real usage error exits 2.
    const int code = app.exit(e, std::cout, std::cerr);
    std::cout.flush();
    return code == 0 ? kExitOk : kExitInvalid;
  }
  const int code = dispatch(commands, arguments);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "dagflow: error: cannot write to stdout\n";
    return kExitInvalid;
  }
  return code;
}

}  // namespace

}  // namespace dagflow

int main(int argc, char** argv) {
  try {
    return dagflow::main_impl(argc, argv);
  } catch (...) {
    std::cout.flush();
    return dagflow::report_failure();
  }
}
