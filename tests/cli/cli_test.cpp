// `dagflow run`, run as a user would: outputs on stdout, stats in --stats-json, the disk cache
// beside the pipeline, --set, and stdout/stderr kept apart.
//
// tests/cli/data/texts holds six files whose words (lowercased runs of letters and digits) count
// apple 6, banana 5, cherry 4, date 2, grape 2, elder 1, fig 1, 42 1; other/ counts yak 3, zebra 3.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::to_json;
using dagflow::Value;
using dagflow::test::DataDir;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::TempDir;
using dagflow::test::write_file;

Value top(std::vector<std::pair<std::string, int>> entries) {
  Value::List list;
  for (auto& [word, count] : entries) list.emplace_back(Value::List{word, count});
  return list;
}

// The counters of a --stats-json file.
struct Counts {
  std::int64_t executed = -1;
  std::int64_t cache_hits = -1;
  std::int64_t items_executed = -1;
  std::int64_t items_cached = -1;
};

Counts read_stats(const fs::path& path) {
  const Value stats = from_json(read_file(path));
  const Value::Map& m = stats.as_map();
  return {m.at("executed").as_int(), m.at("cache_hits").as_int(), m.at("items_executed").as_int(),
          m.at("items_cached").as_int()};
}

// The `top` output of a `run --json`: stdout must be exactly one JSON object holding it.
Value json_top(const std::string& out) {
  const Value outputs = from_json(out);
  REQUIRE(outputs.as_map().size() == 1);
  return outputs.as_map().at("top");
}

}  // namespace

// The wordcount pipeline end to end: a second run recomputes only the probe, and editing one
// file reruns one map item and what depends on it, with the new top 3 printed as one JSON
// object.
TEST_CASE("dagflow run: wordcount reruns only what an edited file changes", "[cli][run][cache]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const std::string stats = data.file("stats.json");

  const auto first = run_dagflow({"run", pipeline, "--json", "--stats-json", stats});
  REQUIRE(first.exit_code == 0);
  CHECK(to_json(json_top(first.out)) == to_json(top({{"apple", 6}, {"banana", 5}, {"cherry", 4}})));
  const Counts c1 = read_stats(stats);
  CHECK(c1.executed == 4);
  CHECK(c1.items_executed == 6);

  const auto second = run_dagflow({"run", pipeline, "--json", "--stats-json", stats});
  REQUIRE(second.exit_code == 0);
  CHECK(second.out == first.out);
  const Counts c2 = read_stats(stats);
  CHECK(c2.executed == 1);    // only the glob, a probe, runs every time
  CHECK(c2.cache_hits == 1);  // `top` from the cache; what it was made of is not even looked at
  CHECK(c2.items_executed == 0);

  // f.txt loses its banana and gains five dates: date 7 leads, banana and cherry tie at 4 (ties
  // go by word). Its size changes too, so no shortcut on size alone can miss the edit.
  const fs::path edited = data.path() / "texts" / "f.txt";
  const std::string before = read_file(edited);
  write_file(edited, "date date date date date grape 42 grape, zebra\n");
  REQUIRE(fs::file_size(edited) != before.size());

  const auto third = run_dagflow({"run", pipeline, "--json", "--stats-json", stats});
  REQUIRE(third.exit_code == 0);
  CHECK(to_json(json_top(third.out)) == to_json(top({{"date", 7}, {"apple", 6}, {"banana", 4}})));
  const Counts c3 = read_stats(stats);
  CHECK(c3.executed == 4);
  CHECK(c3.items_executed == 1);
  CHECK(c3.items_cached == 5);
}

// The stats file names every node with its op and what happened to it.
TEST_CASE("dagflow run: --stats-json lists every node's outcome", "[cli][run]") {
  DataDir data;
  // Relative to the working directory.
  REQUIRE(
      run_dagflow({"run", "wordcount.yaml", "--stats-json", "s1.json"}, data.path()).exit_code ==
      0);
  REQUIRE(
      run_dagflow({"run", "wordcount.yaml", "--stats-json", "s2.json"}, data.path()).exit_code ==
      0);
  const Value first = from_json(read_file(data.path() / "s1.json"));
  const Value second = from_json(read_file(data.path() / "s2.json"));
  for (const char* key : {"executed", "cache_hits", "items_executed", "items_cached"}) {
    INFO(key);
    CHECK(first.as_map().at(key).kind() == dagflow::ValueKind::kInt);
  }
  CHECK(first.as_map().at("seconds").is_number());

  const Value::List& nodes = second.as_map().at("nodes").as_list();
  REQUIRE(nodes.size() == 4);
  std::vector<std::string> summary;
  for (const Value& node : nodes) {
    const Value::Map& n = node.as_map();
    CHECK(n.at("items_executed").kind() == dagflow::ValueKind::kInt);
    CHECK(n.at("items_cached").kind() == dagflow::ValueKind::kInt);
    CHECK(n.at("seconds").is_number());
    summary.push_back(n.at("id").as_string() + "/" + n.at("op").as_string() + "/" +
                      n.at("outcome").as_string());
  }
  std::sort(summary.begin(), summary.end());
  // On the second run the probe runs and the top comes from the cache; the nodes between are
  // either cached or not needed at all (the top's hit prunes them).
  CHECK(summary[1] == "files/glob/executed");
  CHECK(summary[2] == "top/top_k/cached");
  CHECK_THAT(summary[0], Catch::StartsWith("counts/word_count/") && !Catch::EndsWith("/executed"));
  CHECK_THAT(summary[3], Catch::StartsWith("total/merge_counts/") && !Catch::EndsWith("/executed"));
}

// Without --json: one "id: value" line per output on stdout, the summary on stderr.
TEST_CASE("dagflow run: prints outputs on stdout and a summary on stderr", "[cli][run]") {
  DataDir data;
  const auto r = run_dagflow({"run", data.file("wordcount.yaml")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "top: " + to_json(top({{"apple", 6}, {"banana", 5}, {"cherry", 4}})) + "\n");
  CHECK_THAT(r.err, Catch::StartsWith("wordcount: 4 nodes, 4 executed, 0 cached (items: 6 "
                                      "executed, 0 cached) in "));
  // The summary line, then the table of ops (tests/cli/cli_observe_test.cpp).
  const std::string summary = r.err.substr(0, r.err.find('\n'));
  CHECK_THAT(summary, Catch::EndsWith(" s"));
  CHECK_THAT(r.err, Catch::Contains("\nop "));
  // A second run: the top comes from the cache, so two nodes are not needed (never "skipped").
  const auto again = run_dagflow({"run", data.file("wordcount.yaml")});
  REQUIRE(again.exit_code == 0);
  CHECK_THAT(again.err,
             Catch::StartsWith("wordcount: 4 nodes, 1 executed, 1 cached, 2 not needed"));
}

// --set overrides params: k changes the output, dir resolves against the pipeline's directory
// whatever the working directory is.
TEST_CASE("dagflow run: --set overrides params", "[cli][run]") {
  DataDir data;
  SECTION("k") {
    const auto r = run_dagflow({"run", data.file("wordcount.yaml"), "--json", "--set", "k=2"});
    REQUIRE(r.exit_code == 0);
    CHECK(to_json(json_top(r.out)) == to_json(top({{"apple", 6}, {"banana", 5}})));
  }
  SECTION("dir, from another working directory") {
    TempDir elsewhere;
    write_file(elsewhere.path() / "decoy.txt", "decoy decoy decoy\n");
    fs::create_directory(elsewhere.path() / "other");
    write_file(elsewhere.path() / "other" / "decoy.txt", "decoy decoy decoy\n");
    const std::vector<std::string> pipelines = {
        data.file("wordcount.yaml"),
        fs::relative(data.path() / "wordcount.yaml", elsewhere.path()).string()};
    for (const std::string& pipeline : pipelines) {
      INFO(pipeline);
      const auto r = run_dagflow({"run", "--set", "dir=other", pipeline, "--json", "--no-cache"},
                                 elsewhere.path());
      REQUIRE(r.exit_code == 0);
      CHECK(to_json(json_top(r.out)) == to_json(top({{"yak", 3}, {"zebra", 3}})));
    }
  }
  SECTION("several, repeated") {
    const auto r = run_dagflow(
        {"run", data.file("wordcount.yaml"), "--json", "--set", "k=1", "--set", "dir=other"});
    REQUIRE(r.exit_code == 0);
    CHECK(to_json(json_top(r.out)) == to_json(top({{"yak", 3}})));
  }
}

// --no-cache never reads nor writes a cache, and `cache stats` creates none.
TEST_CASE("dagflow run: --no-cache runs everything every time and writes no cache",
          "[cli][run][cache]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const std::string stats = data.file("stats.json");
  for (int run = 0; run < 2; ++run) {
    REQUIRE(run_dagflow({"run", pipeline, "--no-cache", "--stats-json", stats}).exit_code == 0);
    const Counts c = read_stats(stats);
    CHECK(c.executed == 4);
    CHECK(c.items_executed == 6);
  }
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));
  const auto shown = run_dagflow({"cache", "stats", pipeline});
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::Contains(": 0 entries"));
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));  // looking creates nothing
}

// The default cache is .dagflow/cache beside the pipeline; `cache stats` and `cache clear` use
// it: clearing a pipeline removes the entries its run record names, so the next run computes
// everything again; with only --cache-dir, clear empties the whole directory.
TEST_CASE("dagflow run: caches beside the pipeline by default, where cache stats and clear find it",
          "[cli][run][cache]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const fs::path default_cache = data.path() / ".dagflow" / "cache";
  const std::string stats = data.file("stats.json");
  REQUIRE(run_dagflow({"run", pipeline}).exit_code == 0);
  CHECK(fs::is_directory(default_cache));

  const auto shown = run_dagflow({"cache", "stats", pipeline});
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::StartsWith(default_cache.string() + ": "));
  CHECK_THAT(shown.out, !Catch::Contains(": 0 entries"));

  const auto cleared = run_dagflow({"cache", "clear", pipeline});
  REQUIRE(cleared.exit_code == 0);
  CHECK_THAT(cleared.out, Catch::Contains("removed") && !Catch::Contains("removed 0 entries"));
  const auto after = run_dagflow({"cache", "stats", pipeline});
  REQUIRE(after.exit_code == 0);
  CHECK_THAT(after.out, Catch::Contains("wordcount.yaml: no run recorded in this cache"));
  const auto rerun = run_dagflow({"run", pipeline, "--stats-json", stats});
  REQUIRE(rerun.exit_code == 0);
  CHECK(from_json(read_file(stats)).as_map().at("cache_hits").as_int() == 0);

  const auto all = run_dagflow({"cache", "clear", "--cache-dir", default_cache.string()});
  REQUIRE(all.exit_code == 0);
  CHECK_THAT(all.out, Catch::Contains("0 entries, 0 bytes remain"));

  // Cleared: the next run computes everything again.
  REQUIRE(run_dagflow({"run", pipeline, "--stats-json", stats}).exit_code == 0);
  CHECK(read_stats(stats).executed == 4);
}

// --cache-dir resolves against the working directory (not the pipeline), and `cache stats` and
// `cache prune` take it too.
TEST_CASE("dagflow run: --cache-dir is relative to the working directory", "[cli][run][cache]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const std::string stats = data.file("stats.json");
  TempDir work;
  REQUIRE(run_dagflow({"run", pipeline, "--cache-dir", "mine"}, work.path()).exit_code == 0);
  CHECK(fs::is_directory(work.path() / "mine"));
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));
  REQUIRE(run_dagflow({"run", pipeline, "--cache-dir", "mine", "--stats-json", stats}, work.path())
              .exit_code == 0);
  CHECK(read_stats(stats).executed == 1);

  const auto shown = run_dagflow({"cache", "stats", "--cache-dir", "mine"}, work.path());
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.out, !Catch::Contains(": 0 entries"));
  const auto pruned =
      run_dagflow({"cache", "prune", "--cache-dir", "mine", "--max-bytes", "0K"}, work.path());
  REQUIRE(pruned.exit_code == 0);
  CHECK_THAT(pruned.out, Catch::Contains("0 entries, 0 bytes remain"));
}

// Pruning to a budget larger than the cache removes nothing, so the next run is all hits.
TEST_CASE("dagflow cache prune: keeps what fits the budget", "[cli][cache]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const std::string stats = data.file("stats.json");
  REQUIRE(run_dagflow({"run", pipeline}).exit_code == 0);
  const auto pruned = run_dagflow({"cache", "prune", pipeline, "--max-bytes", "1G"});
  REQUIRE(pruned.exit_code == 0);
  CHECK_THAT(pruned.out, Catch::Contains("removed 0 entries"));
  REQUIRE(run_dagflow({"run", pipeline, "--stats-json", stats}).exit_code == 0);
  CHECK(read_stats(stats).executed == 1);
}

// With --json, stdout is the JSON object even when the run has warnings to give (here: damaged
// cache entries, which are recomputed).
TEST_CASE("dagflow run: --json keeps warnings off stdout", "[cli][run]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  REQUIRE(run_dagflow({"run", pipeline}).exit_code == 0);
  int damaged = 0;
  for (const auto& entry : fs::recursive_directory_iterator(data.path() / ".dagflow" / "cache")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".entry") continue;
    std::string bytes = read_file(entry.path());
    REQUIRE_FALSE(bytes.empty());
    bytes.back() = static_cast<char>(bytes.back() ^ 0x5a);
    write_file(entry.path(), bytes);
    ++damaged;
  }
  REQUIRE(damaged > 0);

  const auto r = run_dagflow({"run", pipeline, "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("warning"));
  CHECK(to_json(json_top(r.out)) == to_json(top({{"apple", 6}, {"banana", 5}, {"cherry", 4}})));
  CHECK(r.out.back() == '\n');
}

// --threads takes 0 (all cores) or a worker count.
TEST_CASE("dagflow run: --threads gives the same result at any thread count", "[cli][run]") {
  DataDir data;
  const std::string threads = GENERATE("0", "1", "3");
  const auto r = run_dagflow({"run", data.file("wordcount.yaml"), "--threads", threads, "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(to_json(json_top(r.out)) == to_json(top({{"apple", 6}, {"banana", 5}, {"cherry", 4}})));
}
