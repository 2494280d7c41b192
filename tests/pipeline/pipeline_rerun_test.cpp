#include <dagflow/pipeline/pipeline.hpp>

// Tests of re-running through the run record: files named at run time keyed by their content,
// reasons (op version, arguments), early cut-off counted as cache hits, --force, the record file
// itself and the per-pipeline cache commands' API.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/pipeline/records.hpp>

#include "pipeline/node_info.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::arg;
using dagflow::NodeOutcome;
using dagflow::OpRegistry;
using dagflow::Pipeline;
using dagflow::PipelineResult;
using dagflow::RunRequest;
using dagflow::Value;
using dagflow::test::info;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::write_file;

std::atomic<int> g_calls{0};

// The built-in ops, plus `names`: the lines of a list file, as plain strings (as a user's op
// that reads names from anywhere would give them).
OpRegistry ops_with_names(std::uint32_t twice_version = 1) {
  OpRegistry ops = OpRegistry::builtins();
  ops.add("names",
          [](const std::filesystem::path& list) {
            std::ifstream in(list);
            std::vector<std::string> out;
            for (std::string line; std::getline(in, line);) {
              if (!line.empty()) out.push_back(line);
            }
            return out;
          },
          "the lines of a list file", {arg("list")});
  ops.add(
         "twice",
         [](const std::string& s) {
           ++g_calls;
           return s + s;
         },
         "s twice")
      .set_version(twice_version);
  return ops;
}

// A pipeline of two nodes whose run leaves a record: total = 0 + 1 + 2.
constexpr const char* kSumOfRange = R"(name: r
nodes:
  xs: {op: range, args: {stop: 3}}
  total: {op: sum, inputs: [xs]}
outputs: [total]
)";

// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

// An outside test found stale results: names read from a list file reach read_text as strings,
// were keyed by the string, and an edited file gave its old content. Now they are keyed by the
// file's content, in a map and in a plain node.
TEST_CASE("Pipeline: files named at run time are keyed by their content", "[pipeline][rerun]") {
  TempDir dir;
  dir.write("a.txt", "alpha");
  dir.write("b.txt", "beta");
  dir.write("list.txt", "a.txt\nb.txt\n");
  OpRegistry ops = ops_with_names();
  ops.add(
      "first_name", [](const std::vector<std::string>& v) { return v.at(0); }, "the first");
  const fs::path file = dir.write("p.yaml", R"(name: named
nodes:
  files: {op: names, args: {list: list.txt}}
  texts: {op: read_text, map: files}
  first: {op: first_name, inputs: [files]}
  one: {op: read_text, inputs: [first]}
outputs: [texts, one]
)");
  const Pipeline p = Pipeline::load(file, ops);
  const fs::path cache = dir.path() / "cache";
  const auto first = p.run({.cache_dir = cache});
  CHECK(first.outputs.at("texts") == Value(Value::List{"alpha", "beta"}));
  CHECK(first.outputs.at("one") == Value("alpha"));

  const auto same = p.run({.cache_dir = cache});
  CHECK(same.outputs.at("one") == Value("alpha"));
  CHECK(info(same, "texts").items_executed == 0);            // every block by content
  CHECK(info(same, "one").outcome == NodeOutcome::kCached);  // its file unchanged: cut off

  dir.write("a.txt", "ALPHA, edited");
  const auto edited = p.run({.cache_dir = cache});
  CHECK(edited.outputs.at("texts") == Value(Value::List{"ALPHA, edited", "beta"}));
  CHECK(edited.outputs.at("one") == Value("ALPHA, edited"));
  CHECK(info(edited, "texts").items_executed == 1);
  CHECK(info(edited, "one").outcome == NodeOutcome::kExecuted);

  const auto plan = p.dry_run({.cache_dir = cache});
  CHECK(info(plan, "one").reason ==
        "reads files named at run time: runs to compare their contents with its last run");
}

// Reasons name what changed since the recorded run: an op version, an argument.
TEST_CASE("Pipeline: dry_run says why, from the run record", "[pipeline][rerun]") {
  TempDir dir;
  const fs::path file = dir.write("p.yaml", R"(name: why
params: {n: 3}
nodes:
  xs: {op: range, args: {stop: "${n}"}}
  total: {op: sum, inputs: [xs]}
outputs: [total]
)");
  const fs::path cache = dir.path() / "cache";
  const Pipeline p = Pipeline::load(file, OpRegistry::builtins());
  const auto fresh = p.dry_run({.cache_dir = cache});
  CHECK_THAT(info(fresh, "total").reason, Catch::StartsWith("no cache entry"));
  (void)p.run({.cache_dir = cache});
  CHECK(info(p.dry_run({.cache_dir = cache}), "total").reason.empty());  // cached

  const Pipeline four = Pipeline::load(file, OpRegistry::builtins(), {.set = {"n=4"}});
  const auto plan = four.dry_run({.cache_dir = cache});
  CHECK(info(plan, "xs").reason == "argument stop changed");
  CHECK(info(plan, "total").reason == "input xs changed");
  CHECK(info(plan, "total").outcome == NodeOutcome::kExecuted);

  // The same op, its version bumped (as after a fix that changes its results).
  OpRegistry v1 = ops_with_names(1);
  OpRegistry v2 = ops_with_names(2);
  const fs::path twice = dir.write("t.yaml", R"(name: t
nodes:
  files: {op: names, args: {list: list.txt}}
  doubled: {op: twice, map: files}
outputs: [doubled]
)");
  dir.write("list.txt", "x\ny\n");
  (void)Pipeline::load(twice, v1).run({.cache_dir = cache});
  const auto newer = Pipeline::load(twice, v2).dry_run({.cache_dir = cache});
  CHECK(info(newer, "doubled").reason == "op version changed");
}

// A node forced runs; what follows keeps its result when the forced node's came out the same.
TEST_CASE("Pipeline: force re-runs a node and cut-off spares what follows", "[pipeline][rerun]") {
  TempDir dir;
  dir.write("list.txt", "x\ny\n");
  const fs::path file = dir.write("p.yaml", R"(name: f
nodes:
  files: {op: names, args: {list: list.txt}}
  doubled: {op: twice, map: files}
  all: {op: concat_strings, inputs: [doubled]}
outputs: [all]
)");
  OpRegistry ops = ops_with_names();
  ops.add(
      "concat_strings",
      [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += x;
        return s;
      },
      "joined");
  const Pipeline p = Pipeline::load(file, ops);
  const fs::path cache = dir.path() / "cache";
  CHECK(p.run({.cache_dir = cache}).outputs.at("all") == Value("xxyy"));
  g_calls = 0;
  const auto forced = p.run({.cache_dir = cache}, RunRequest{.force = {"doubled"}});
  CHECK(g_calls == 2);  // every item again, blocks too
  CHECK(info(forced, "doubled").outcome == NodeOutcome::kExecuted);
  CHECK(info(forced, "all").outcome == NodeOutcome::kCached);  // cut off

  g_calls = 0;
  const auto all = p.run({.cache_dir = cache}, RunRequest{.force_all = true});
  CHECK(g_calls == 2);
  CHECK(info(all, "all").outcome == NodeOutcome::kExecuted);
  CHECK_THROWS_WITH(p.run({.cache_dir = cache}, RunRequest{.targets = {"al"}}),
                    Catch::Contains("target 'al' is not a node of this pipeline (did you mean "
                                    "'all'?)"));
}

// The record: one file per pipeline, replaced whole; a damaged one is a warning and a fresh
// start, never a failure.
TEST_CASE("Pipeline: the run record survives damage", "[pipeline][rerun]") {
  TempDir dir;
  const fs::path file = dir.write("p.yaml", kSumOfRange);
  const fs::path cache = dir.path() / "cache";
  const Pipeline p = Pipeline::load(file, OpRegistry::builtins());
  (void)p.run({.cache_dir = cache});
  const fs::path record = p.record_file(cache);
  REQUIRE(fs::is_regular_file(record));
  CHECK_THAT(read_file(record), Catch::Contains("\"total\"") && Catch::Contains("\"key\""));

  write_file(record, "{ not json");
  std::vector<std::string> warnings;
  const auto r =
      p.run({.cache_dir = cache, .log = [&](std::string_view w) { warnings.emplace_back(w); }});
  CHECK(r.outputs.at("total").as_int() == 3);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0],
             Catch::Contains("cannot be read") && Catch::Contains("every node is treated as new"));
  CHECK_THAT(read_file(record), Catch::Contains("\"total\""));  // written anew

  auto disk = dagflow::DiskCache::open(cache);
  REQUIRE(disk);
  const dagflow::PipelineCacheUse use = dagflow::pipeline_cache_use(*disk, file);
  CHECK(use.recorded);
  // The run after the damage needed only total (a hit): the record knows what that run saw.
  REQUIRE(use.nodes.size() == 1);
  CHECK(use.nodes[0].id == "total");
  CHECK(use.nodes[0].cached);
  CHECK(use.entries.entries == 1);
  const dagflow::CacheStats removed = dagflow::clear_pipeline_cache(*disk, file);
  CHECK(removed.entries == use.entries.entries);
  CHECK_FALSE(fs::exists(record));
}

// scripts/torture.sh (issue 18) checks that no temp file stays in a cache directory after a kill:
// a run killed while writing its record left one in records/, which nothing removed.
TEST_CASE("Pipeline: a run removes the record temp files of dead writers", "[pipeline][rerun]") {
  TempDir dir;
  const fs::path file = dir.write("p.yaml", kSumOfRange);
  const fs::path cache = dir.path() / "cache";
  const Pipeline p = Pipeline::load(file, OpRegistry::builtins());
  (void)p.run({.cache_dir = cache});
  const fs::path records = p.record_file(cache).parent_path();
  const fs::path of_dead = records / (".dagflow-tmp-" + std::to_string(dead_pid()) + "-0");
  const fs::path of_init = records / ".dagflow-tmp-1-0";  // pid 1 is always alive
  for (const fs::path& temp : {of_dead, of_init}) write_file(temp, "{ partial");

  CHECK(p.run({.cache_dir = cache}).outputs.at("total").as_int() == 3);
  CHECK_FALSE(fs::exists(of_dead));
  CHECK(fs::exists(of_init));
  CHECK(fs::is_regular_file(p.record_file(cache)));
}
