// `shell` rules through the `dagflow` command (#16): a command mapped over files runs once per
// file, is cached by its expanded argv, its inputs' contents and its declared outputs, re-runs
// only the command whose output went missing, gets each element as one literal argument, shows
// in dry runs, leaves no output behind when it fails, and has its placeholders checked before
// anything runs.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::Value;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::TempDir;

// Each command appends its element to runs.txt (no declared output: untracked), then copies it.
constexpr const char* kRules =
    "name: rules\n"
    "nodes:\n"
    "  files: {op: glob, args: {pattern: \"logs/*.log\"}}\n"
    "  copied:\n"
    "    op: shell\n"
    "    map: files\n"
    "    args:\n"
    "      argv: [sh, -c, 'echo \"$1\" >> runs.txt && cp \"$1\" \"$1.copy\"', sh, \"{item}\"]\n"
    "      outputs: [\"{item}.copy\"]\n"
    "  report:\n"
    "    op: shell\n"
    "    inputs: [copied]\n"
    "    args:\n"
    "      argv: [sh, -c, 'echo report >> runs.txt && cat \"$@\" > report.txt', sh, "
    "\"{inputs}\"]\n"
    "      outputs: [report.txt]\n";

// A directory with the rules above and six log files.
class RulesDir : public TempDir {
 public:
  RulesDir() {
    write("rules.yaml", kRules);
    for (const char* name : {"a", "b", "c", "d", "e", "f"}) {
      write(fs::path("logs") / (std::string(name) + ".log"), std::string("log ") + name + "\n");
    }
  }
  [[nodiscard]] std::vector<std::string> runs() const {
    if (!fs::exists(path() / "runs.txt")) return {};
    std::vector<std::string> lines;
    std::string text = read_file(path() / "runs.txt");
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t end = text.find('\n', at);
      lines.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    return lines;
  }
  [[nodiscard]] dagflow::test::ProcessResult run(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"run", "rules.yaml", "--allow-shell", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_dagflow(args, path());
  }
};

// Six commands the first time, none the second; a deleted output re-runs its command alone.
TEST_CASE(
    "dagflow run: a mapped shell rule runs each command once, and again only when its "
    "output is lost (#16)",
    "[cli][shell]") {
  RulesDir dir;
  REQUIRE(dir.run().exit_code == 0);
  std::vector<std::string> first = dir.runs();  // the copies run in parallel, in any order
  std::sort(first.begin(), first.end());
  CHECK(first == std::vector<std::string>{"logs/a.log", "logs/b.log", "logs/c.log", "logs/d.log",
                                          "logs/e.log", "logs/f.log", "report"});
  CHECK(read_file(dir.path() / "logs/c.log.copy") == "log c\n");
  CHECK(read_file(dir.path() / "report.txt") == "log a\nlog b\nlog c\nlog d\nlog e\nlog f\n");

  REQUIRE(dir.run().exit_code == 0);
  CHECK(dir.runs().size() == 7);  // nothing changed: no command ran

  fs::remove(dir.path() / "logs/c.log.copy");
  const std::string stats = (dir.path() / "stats.json").string();
  REQUIRE(dir.run({"--stats-json", stats}).exit_code == 0);
  REQUIRE(dir.runs().size() == 8);
  CHECK(dir.runs().back() == "logs/c.log");
  CHECK(read_file(dir.path() / "logs/c.log.copy") == "log c\n");
  const Value::Map counts = from_json(read_file(stats)).as_map();
  CHECK(counts.at("items_executed").as_int() == 1);
  CHECK(counts.at("items_cached").as_int() == 5);

  REQUIRE(dir.run().exit_code == 0);
  CHECK(dir.runs().size() == 8);

  // An input's content keys its command (and what reads the outputs).
  dir.write("logs/d.log", "log d, edited\n");
  REQUIRE(dir.run().exit_code == 0);
  const std::vector<std::string> runs = dir.runs();
  REQUIRE(runs.size() == 10);
  CHECK(std::vector<std::string>(runs.begin() + 8, runs.end()) ==
        std::vector<std::string>{"logs/d.log", "report"});
  CHECK_THAT(read_file(dir.path() / "report.txt"), Catch::Contains("log d, edited\n"));
}

// Files with the same bytes are different elements: each gets its own command and output.
TEST_CASE("dagflow run: a shell rule keys its elements by name and content (#16)", "[cli][shell]") {
  RulesDir dir;
  for (const char* name : {"a", "b", "c", "d", "e", "f"}) {
    dir.write(fs::path("logs") / (std::string(name) + ".log"), "same\n");
  }
  REQUIRE(dir.run().exit_code == 0);
  CHECK(dir.runs().size() == 7);
  dir.write("logs/g.log", "same\n");
  REQUIRE(dir.run().exit_code == 0);
  REQUIRE(dir.runs().size() == 9);
  CHECK(dir.runs()[7] == "logs/g.log");
  CHECK(read_file(dir.path() / "logs/g.log.copy") == "same\n");
  std::string seven;
  for (int k = 0; k < 7; ++k) seven += "same\n";
  CHECK(read_file(dir.path() / "report.txt") == seven);
}

// A rule mapped over another rule's outputs: one command per element there too, and a new file
// runs its two commands only.
TEST_CASE("dagflow run: shell rules map over each other's outputs (#16)", "[cli][shell]") {
  TempDir dir;
  for (const char* name : {"a", "b", "c"}) {
    dir.write(fs::path("logs") / (std::string(name) + ".log"), "same\n");
  }
  dir.write(
      "p.yaml",
      "name: p\n"
      "nodes:\n"
      "  files: {op: glob, args: {pattern: \"logs/*.log\"}}\n"
      "  copied:\n"
      "    op: shell\n"
      "    map: files\n"
      "    args: {argv: [cp, \"{item}\", \"{item}.c\"], outputs: [\"{item}.c\"]}\n"
      "  again:\n"
      "    op: shell\n"
      "    map: copied\n"
      "    args:\n"
      "      argv: [sh, -c, 'echo \"$1\" >> runs.txt && cp \"$1\" \"$1.d\"', sh, \"{item}\"]\n"
      "      outputs: [\"{item}.d\"]\n");
  const std::string stats = (dir.path() / "stats.json").string();
  const auto run = [&] {
    return run_dagflow({"run", "p.yaml", "--allow-shell", "-q", "--stats-json", stats}, dir.path());
  };
  REQUIRE(run().exit_code == 0);
  CHECK(from_json(read_file(stats)).as_map().at("items_executed").as_int() == 6);
  REQUIRE(run().exit_code == 0);
  CHECK(from_json(read_file(stats)).as_map().at("items_executed").as_int() == 0);
  dir.write("logs/d.log", "same\n");
  REQUIRE(run().exit_code == 0);
  CHECK(from_json(read_file(stats)).as_map().at("items_executed").as_int() == 2);
  CHECK(read_file(dir.path() / "logs/d.log.c.d") == "same\n");
  CHECK(read_file(dir.path() / "runs.txt").size() == 4 * std::string("logs/a.log.c\n").size());
}

// A dry run says which commands would run and why, and runs none.
TEST_CASE("dagflow run --dry-run: shell rules say why they would run (#16)", "[cli][shell]") {
  RulesDir dir;
  const auto fresh = dir.run({"--dry-run"});
  REQUIRE(fresh.exit_code == 0);
  CHECK_THAT(fresh.out, Catch::Contains("would run   copied (map shell): no cache entry") &&
                            Catch::Contains("would run   report (shell): no cache entry"));
  CHECK(dir.runs().empty());

  REQUIRE(dir.run().exit_code == 0);
  const auto same = dir.run({"--dry-run"});
  REQUIRE(same.exit_code == 0);
  CHECK_THAT(same.out, Catch::Contains("cached      copied (map shell)") &&
                           Catch::Contains("cached      report (shell)"));

  fs::remove(dir.path() / "logs/b.log.copy");
  const auto lost = dir.run({"--dry-run"});
  REQUIRE(lost.exit_code == 0);
  CHECK_THAT(lost.out,
             Catch::Contains("would run   copied (map shell): output logs/b.log.copy missing"));
  CHECK(dir.runs().size() == 7);
  CHECK_FALSE(fs::exists(dir.path() / "logs/b.log.copy"));
  REQUIRE(dir.run().exit_code == 0);
  CHECK(dir.runs().size() == 8);
}

// An element holding shell syntax reaches the command as one argument, unchanged.
TEST_CASE("dagflow run: a shell rule's element arrives literally in argv (#16)",
          "[cli][shell][security]") {
  TempDir dir;
  dir.write("canary", "still here\n");
  dir.write("logs/x; rm -rf canary.log", "data\n");
  dir.write("p.yaml",
            "name: p\n"
            "nodes:\n"
            "  files: {op: glob, args: {pattern: \"logs/*.log\"}}\n"
            "  echo: {op: shell, map: files, args: {argv: [printf, '%s\\n', \"{item}\", "
            "\"[{item}]\"]}}\n"
            "  copy:\n"
            "    op: shell\n"
            "    map: files\n"
            "    args: {argv: [cp, \"{item}\", \"{item}.copy\"], outputs: [\"{item}.copy\"]}\n");
  const auto r = run_dagflow({"run", "p.yaml", "--allow-shell", "--json", "-q"}, dir.path());
  REQUIRE(r.exit_code == 0);
  const Value outputs = from_json(r.out);
  const Value::List& echo = outputs.as_map().at("echo").as_list();
  REQUIRE(echo.size() == 1);
  CHECK(echo[0].as_map().at("stdout").as_string() ==
        "logs/x; rm -rf canary.log\n[logs/x; rm -rf canary.log]\n");
  CHECK(read_file(dir.path() / "logs/x; rm -rf canary.log.copy") == "data\n");
  CHECK(read_file(dir.path() / "canary") == "still here\n");
}

// check: true with a failing command fails the node and removes what it partly wrote.
TEST_CASE("dagflow run: a failed shell rule leaves none of its outputs behind (#16)",
          "[cli][shell][errors]") {
  TempDir dir;
  dir.write("in.txt", "x\n");
  dir.write("p.yaml",
            "name: p\n"
            "nodes:\n"
            "  files: {op: glob, args: {pattern: \"in.txt\"}}\n"
            "  bad:\n"
            "    op: shell\n"
            "    inputs: [files]\n"
            "    args:\n"
            "      argv: [sh, -c, 'echo partial > out/a.txt; echo partial > out/b.txt; exit 3']\n"
            "      outputs: [out/a.txt, out/b.txt, \"{input}.c\"]\n"
            "      check: true\n");
  const auto r = run_dagflow({"run", "p.yaml", "--allow-shell", "-q"}, dir.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("node 'bad' (op shell) failed") &&
                        Catch::Contains("exited with code 3"));
  CHECK_FALSE(fs::exists(dir.path() / "out/a.txt"));
  CHECK_FALSE(fs::exists(dir.path() / "out/b.txt"));
  CHECK_FALSE(fs::exists(dir.path() / "in.txt.c"));
  CHECK(fs::exists(dir.path() / "in.txt"));
}

// A command that succeeds without making a declared output fails its node.
TEST_CASE("dagflow run: a shell rule must make its declared outputs (#16)", "[cli][shell]") {
  TempDir dir;
  dir.write("p.yaml",
            "name: p\n"
            "nodes:\n"
            "  lazy: {op: shell, args: {argv: ['true'], outputs: [never.txt]}}\n");
  const auto r = run_dagflow({"run", "p.yaml", "--allow-shell", "-q"}, dir.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("command 'true' did not make its output 'never.txt'"));
}

// Placeholders with nothing to stand for, and outputs outside the directory, are refused before
// anything runs.
TEST_CASE("dagflow validate: shell placeholders need inputs (#16)", "[cli][shell][errors]") {
  TempDir dir;
  dir.write("p.yaml",
            "name: p\n"
            "nodes:\n"
            "  x:\n"
            "    op: shell\n"
            "    args: {argv: [cat, \"{inputs}\"], outputs: []}\n"
            "  y:\n"
            "    op: shell\n"
            "    inputs: [x]\n"
            "    args: {argv: [cat, \"{item}\"]}\n");
  for (const char* command : {"validate", "run"}) {
    INFO(command);
    const auto r = run_dagflow({command, "p.yaml", "--allow-shell"}, dir.path());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("p.yaml:5:18: node 'x' (op 'shell'): argv uses {inputs} but "
                                      "the node has no inputs (give it 'inputs' or 'map')") &&
                          Catch::Contains("p.yaml:9:18: node 'y' (op 'shell'): argv uses {item}, a "
                                          "map node's element, but the node has no 'map'"));
  }

  dir.write("q.yaml",
            "name: q\n"
            "nodes:\n"
            "  out: {op: shell, args: {argv: ['true'], outputs: [../escaped.txt]}}\n");
  for (const char* command : {"validate", "run"}) {
    INFO(command);
    const auto outside = run_dagflow({command, "q.yaml", "--allow-shell"}, dir.path());
    CHECK(outside.exit_code == 2);
    CHECK_THAT(outside.err, Catch::StartsWith("q.yaml:3:52: node 'out' (op 'shell'): output path "
                                              "'../escaped.txt' is outside") &&
                                Catch::EndsWith("writing outside the pipeline's directory is not "
                                                "allowed (pass --allow-outside)\n"));
  }
  CHECK(run_dagflow({"validate", "q.yaml", "--allow-shell", "--allow-outside"}, dir.path())
            .exit_code == 0);
}

}  // namespace
