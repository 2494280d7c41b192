// Exit codes and messages of `dagflow`: 0 success (and --help/--version), 1 a node failed,
// 2 an invalid pipeline, a usage error or an environment error. Nothing crashes.
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>
#include <dagflow/version.hpp>

#include "support/files.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::Value;
using dagflow::test::DataDir;
using dagflow::test::run_dagflow;
using dagflow::test::write_file;

// The first line of stderr starts with "<file>:LINE:COL: " as a compiler's error does.
bool starts_with_position(const std::string& err, const std::string& file) {
  const std::string first_line = err.substr(0, err.find('\n'));
  return std::regex_search(
      first_line,
      std::regex("^" + std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                 R"(:[0-9]+:[0-9]+: )"));
}

// Runs `dagflow` with each argument list in `data`: each must exit 2 with a message on stderr
// and nothing on stdout, and none may leave a cache or an output file behind (refused before
// anything ran).
void check_usage_errors(const DataDir& data, const std::vector<std::vector<std::string>>& cases) {
  for (const auto& args : cases) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    INFO("dagflow " << shown);
    const auto r = run_dagflow(args, data.path());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
  }
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));
  CHECK_FALSE(fs::exists(data.path() / "x"));
  for (const char* file : {"s.json", "t.json", "t.svg"}) {
    CHECK_FALSE(fs::exists(data.path() / file));
  }
}

}  // namespace

// Invalid pipelines exit 2 with FILE:LINE:COL first, before anything runs.
TEST_CASE("dagflow: invalid pipelines exit 2 with their position", "[cli][errors]") {
  DataDir data;
  struct Case {
    const char* file;
    const char* mentions;
  };
  const Case c =
      GENERATE(Case{"errors/syntax.yaml", ""}, Case{"errors/unknown_op.yaml", "word_count"},
               Case{"errors/cycle.yaml", "cycle"});
  INFO(c.file);
  for (const char* command : {"run", "validate", "graph"}) {
    INFO(command);
    const auto r = run_dagflow({command, c.file}, data.path());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(starts_with_position(r.err, c.file));
    CHECK_THAT(r.err, Catch::Contains(c.mentions));
  }
  CHECK_FALSE(fs::exists(data.path() / "errors" / ".dagflow"));
}

// A misspelt op gets the loader's "did you mean".
TEST_CASE("dagflow: unknown op suggests the near name", "[cli][errors]") {
  DataDir data;
  const auto r = run_dagflow({"validate", data.file("errors/unknown_op.yaml")});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("did you mean") && Catch::Contains("word_count"));
}

// Every mistake of a file is listed at once, each line FILE:LINE:COL as a compiler's (#12).
TEST_CASE("dagflow validate: independent mistakes are all reported at once, with positions",
          "[cli][errors]") {
  DataDir data;
  const auto r = run_dagflow({"validate", "errors/three_mistakes.yaml"}, data.path());
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "errors/three_mistakes.yaml:6:52: argument 'allow_empty' of op 'glob' expects bool, got "
        "string 'sometimes'\n"
        "errors/three_mistakes.yaml:8:9: unknown op 'word_cnt' (did you mean 'word_count'?)\n"
        "errors/three_mistakes.yaml:13:18: unknown node 'top' in 'outputs'\n");
}

// Ops are checked against each other before anything runs: top_k fed the paths a glob lists
// fails at its `inputs:` entry, and neither the glob (a probe) nor a writer beside it runs (#12).
TEST_CASE("dagflow: an op fed a type it cannot take exits 2 before anything runs",
          "[cli][errors]") {
  DataDir data;
  for (const char* command : {"validate", "run"}) {
    INFO(command);
    const auto r = run_dagflow({command, "errors/top_k_paths.yaml"}, data.path());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "errors/top_k_paths.yaml:13:14: node 'top' input 1 ('files') is a list of path, but op "
          "'top_k' takes a map of int\n");
  }
  CHECK_FALSE(fs::exists(data.path() / "errors" / "out"));
  CHECK_FALSE(fs::exists(data.path() / "errors" / ".dagflow"));
}

// Usage and environment errors exit 2 and print nothing on stdout, in four groups (each run
// is a process of its own, which a sanitizer build makes costly).

// Commands and their files: missing, unknown, doubled, or not there.
TEST_CASE("dagflow: a missing or unknown command or file exits 2", "[cli][errors]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  fs::create_directory(data.path() / "adir.yaml");
  check_usage_errors(data, {
                               {},                                    // no command
                               {"frobnicate"},                        // unknown command
                               {"run"},                               // no FILE
                               {"run", pipeline, "extra.yaml"},       // two files
                               {"run", data.file("missing.yaml")},    // no such file
                               {"validate", data.file("adir.yaml")},  // a directory
                               {"ops", "word_count", "top_k"},        // one name at most
                           });
}

// Options of `run` that are unknown, malformed, out of range or exclusive.
TEST_CASE("dagflow run: unknown, malformed and conflicting options exit 2", "[cli][errors]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  check_usage_errors(data, {
                               {"run", pipeline, "--frobnicate"},                    // unknown
                               {"run", pipeline, "--set", "nosuch=1"},               // no param
                               {"run", pipeline, "--set", "novalue"},                // no =
                               {"run", pipeline, "--cache-dir", "x", "--no-cache"},  // exclusive
                               {"run", pipeline, "--no-cache", "--cache-dir", "x"},  // either order
                               {"run", pipeline, "--threads", "-1"},                 // negative
                               {"run", pipeline, "--threads", "many"},               // not a number
                               {"run", pipeline, "--threads", "100000"},             // absurd
                               {"run", pipeline, "--progress", "--no-progress"},     // exclusive
                           });
}

// Output files of `run` that cannot be written, or that a dry run would not write.
TEST_CASE("dagflow run: unwritable outputs, and outputs with --dry-run, exit 2", "[cli][errors]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  check_usage_errors(data,
                     {
                         {"run", pipeline, "--stats-json", data.file("no/such/dir/stats.json")},
                         {"run", pipeline, "--stats-json", data.path().string()},  // a dir
                         {"run", pipeline, "--trace", data.file("no/such/dir/trace.json")},
                         {"run", pipeline, "--timeline", data.path().string()},  // a dir
                         {"run", pipeline, "--dry-run", "--stats-json", "s.json"},
                         {"run", pipeline, "--dry-run", "--trace", "t.json"},
                         {"run", pipeline, "--timeline", "t.svg", "-n"},
                     });
}

// `graph` and `cache` with bad formats, outputs, actions or arguments.
TEST_CASE("dagflow graph and cache: usage errors exit 2", "[cli][errors]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  check_usage_errors(data, {
                               {"graph", pipeline, "--format", "png"},
                               {"graph", pipeline, "-o", data.file("no/such/dir/graph.dot")},
                               {"graph", pipeline, "--no-cache", "--cache-dir", "x"},
                               {"cache"},           // no cache action
                               {"cache", "stats"},  // neither FILE nor --cache-dir
                               {"cache", "stats", data.file("missing.yaml")},
                               {"cache", "prune", pipeline},  // no --max-bytes
                               {"cache", "prune", pipeline, "--max-bytes", "lots"},
                               {"cache", "prune", pipeline, "--max-bytes", "-5"},
                           });
}

// Each error message names what is wrong (the param, the file, the option, the path).
TEST_CASE("dagflow: messages name the problem", "[cli][errors]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  SECTION("unknown param") {
    const auto r = run_dagflow({"run", pipeline, "--set", "nosuch=1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("nosuch"));
  }
  SECTION("missing file") {
    const auto r = run_dagflow({"run", data.file("missing.yaml")});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("missing.yaml"));
  }
  SECTION("exclusive options") {
    const auto r = run_dagflow({"run", pipeline, "--cache-dir", "x", "--no-cache"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: ") && Catch::Contains("--no-cache"));
  }
  SECTION("refused cache directory") {
    // The Executor refuses a cache anyone could write to (it could be fed poisoned entries).
    const fs::path open_dir = data.path() / "open";
    fs::create_directory(open_dir);
    fs::permissions(open_dir, fs::perms::all);
    for (const char* command : {"run", "cache"}) {
      INFO(command);
      const auto r = std::string(command) == "run"
                         ? run_dagflow({"run", pipeline, "--cache-dir", open_dir.string()})
                         : run_dagflow({"cache", "clear", "--cache-dir", open_dir.string()});
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: ") && Catch::Contains("open"));
    }
  }
  SECTION("unwritable stats file") {
    const auto r = run_dagflow({"run", pipeline, "--stats-json", data.file("no/stats.json")});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: ") && Catch::Contains("no/stats.json"));
  }
  SECTION("unwritable trace, timeline and graph files") {
    const std::vector<std::vector<std::string>> cases = {
        {"run", pipeline, "--trace", "no/trace.json"},
        {"run", pipeline, "--timeline", "no/timeline.svg"},
        {"graph", pipeline, "-o", "no/graph.dot"}};
    for (const auto& args : cases) {
      INFO(args.back());
      const auto r = run_dagflow(args, data.path());
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: cannot write ") &&
                            Catch::Contains("'" + args.back() + "'"));
    }
  }
}

// --help and --version are not errors.
TEST_CASE("dagflow: --help and --version exit 0", "[cli][usage]") {
  SECTION("dagflow --help") {
    const auto r = run_dagflow({"--help"});
    CHECK(r.exit_code == 0);
    for (const char* command : {"run", "validate", "graph", "ops", "cache"}) {
      CHECK_THAT(r.out, Catch::Contains(command));
    }
  }
  SECTION("dagflow run --help") {
    const auto r = run_dagflow({"run", "--help"});
    CHECK(r.exit_code == 0);
    for (const char* option :
         {"--set", "--threads", "--cache-dir", "--no-cache", "--json", "--stats-json",
          "--allow-shell", "--allow-outside", "--dry-run", "--trace", "--timeline", "--progress",
          "--no-progress", "--quiet", "progress bar", "table"}) {
      CHECK_THAT(r.out, Catch::Contains(option));
    }
  }
  SECTION("dagflow graph --help") {
    const auto r = run_dagflow({"graph", "--help"});
    CHECK(r.exit_code == 0);
    for (const char* option : {"--format", "svg", "--output", "--cache-dir", "--no-cache"}) {
      CHECK_THAT(r.out, Catch::Contains(option));
    }
  }
  SECTION("dagflow cache prune --help") {
    const auto r = run_dagflow({"cache", "prune", "--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("--max-bytes"));
  }
  SECTION("dagflow --version") {
    const auto r = run_dagflow({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == std::string("dagflow ") + DAGFLOW_VERSION_STRING + "\n");
  }
}

// A node that fails exits 1 and names the node and its op; with --json stdout stays empty.
TEST_CASE("dagflow run: a failing node exits 1", "[cli][errors]") {
  DataDir data;
  const std::string stats = data.file("stats.json");
  const std::string pipeline = data.file("overflow.yaml");
  const auto r = run_dagflow({"run", pipeline, "--json", "--stats-json", stats});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: " + pipeline + ":") &&
                        Catch::Contains("'total'") && Catch::Contains("sum"));
  CHECK_FALSE(fs::exists(stats));  // no stats of a failed run
}

// A failure inside one element of a map names the node and the item.
TEST_CASE("dagflow run: a map item that fails exits 1", "[cli][errors]") {
  DataDir data;
  // 3037000500 squared is the first square past the largest int64.
  const auto r = run_dagflow({"run", data.file("square_overflow.yaml"), "--json"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: ") && Catch::Contains("'squares'") &&
                        Catch::Contains("square") && Catch::Contains("item 2"));
}

// Ops that run commands need --allow-shell, checked before anything runs.
TEST_CASE("dagflow: shell ops need --allow-shell", "[cli][errors][security]") {
  DataDir data;
  const std::string pipeline = data.file("shell.yaml");
  for (const char* command : {"validate", "run"}) {
    INFO(command);
    const auto refused = run_dagflow({command, pipeline});
    CHECK(refused.exit_code == 2);
    CHECK(refused.out.empty());
    CHECK_THAT(refused.err,
               Catch::EndsWith("running commands is not allowed (pass --allow-shell)\n"));
  }
  CHECK(run_dagflow({"validate", pipeline, "--allow-shell"}).exit_code == 0);
  const auto r = run_dagflow({"run", pipeline, "--allow-shell", "--json", "--no-cache"});
  REQUIRE(r.exit_code == 0);
  const dagflow::Value outputs = dagflow::from_json(r.out);
  const dagflow::Value::Map& hello = outputs.as_map().at("hello").as_map();
  CHECK(hello.at("exit_code").as_int() == 0);
  CHECK(hello.at("stdout").as_string() == "hello\n");
}

// Only the command names its flag: the library's refusal gets "(pass --allow-outside)" appended.
TEST_CASE("dagflow: writing outside the pipeline's directory needs --allow-outside", "[cli]") {
  DataDir data;
  const fs::path file = data.path() / "outside.yaml";
  write_file(file,
             "name: x\nnodes:\n  g: {op: glob, args: {pattern: '*.txt'}}\n"
             "  w: {op: write_json, inputs: [g], args: {path: ../outside.json}}\n");
  const auto refused = run_dagflow({"validate", file.string()});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::EndsWith("writing outside the pipeline's directory is not "
                                          "allowed (pass --allow-outside)\n"));
  CHECK(run_dagflow({"validate", file.string(), "--allow-outside"}).exit_code == 0);
}

// Garbage in a pipeline file is an error, never a crash.
TEST_CASE("dagflow: odd pipeline files exit 2", "[cli][errors]") {
  DataDir data;
  const fs::path file = data.path() / "odd.yaml";
  const std::string text = GENERATE(as<std::string>{}, "", "---\n", "[1, 2]\n", "name: x\n",
                                    "name: x\nnodes: 3\n", std::string("\0\xff\xfe", 3),
                                    "name: x\nnodes:\n  a: {op: glob, args: {pattern: [1]}}\n");
  write_file(file, text);
  const auto r = run_dagflow({"run", file.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith(file.string() + ":"));
}

// A misspelt command names the ones it may be a typo of.
TEST_CASE("dagflow: an unknown command suggests the near one", "[cli][errors]") {
  const auto run = run_dagflow({"rn", "x.yaml"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::StartsWith("dagflow: error: unknown command 'rn' (did you mean "
                                        "'run'?)"));
  const auto stats = run_dagflow({"cache", "stat"});
  CHECK(stats.exit_code == 2);
  CHECK_THAT(stats.err, Catch::Contains("unknown command 'stat' (did you mean 'stats'?)"));
}

// A typo in a data folder must not flow on as an empty list: the glob fails, naming the node,
// the pattern and where it searched; a dry run shows that and still exits 0.
TEST_CASE("dagflow run: a glob that matches no file fails the run", "[cli][errors]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const std::string stats = data.file("stats.json");
  const auto r = run_dagflow({"run", pipeline, "--set", "dir=textz", "--stats-json", stats});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("node 'files' (op glob) failed") &&
                        Catch::Contains("glob 'textz/*.txt' matched no file") &&
                        Catch::Contains(data.path().string()) &&
                        Catch::Contains("allow_empty: true"));
  CHECK_FALSE(fs::exists(stats));

  const auto dry = run_dagflow({"run", pipeline, "--set", "dir=textz", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::StartsWith("failed      files (glob): ") &&
                          Catch::Contains("matched no file") &&
                          Catch::Contains("would run   top (top_k): no cache entry"));
  CHECK_THAT(dry.err, Catch::Contains("1 probe failed (a run would stop there, exit 1)"));
  const auto json = run_dagflow({"run", pipeline, "--set", "dir=textz", "--dry-run", "--json"});
  CHECK(json.exit_code == 0);
  const Value::Map first = from_json(json.out).as_map().at("nodes").as_list().at(0).as_map();
  CHECK(first.at("state").as_string() == "probe_failed");
  CHECK_THAT(first.at("error").as_string(), Catch::Contains("matched no file"));
}

// -j and --jobs are --threads, as in make.
TEST_CASE("dagflow run: -j and --jobs set the threads", "[cli]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const auto one = run_dagflow({"run", pipeline, "-j", "1", "--json", "--no-cache"});
  const auto two = run_dagflow({"run", pipeline, "--jobs", "2", "--json", "--no-cache"});
  REQUIRE(one.exit_code == 0);
  REQUIRE(two.exit_code == 0);
  CHECK(one.out == two.out);
  CHECK(run_dagflow({"run", pipeline, "-j", "-1"}).exit_code == 2);
}
