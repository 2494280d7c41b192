// `dagflow run --dry-run` (what a run would do now, like make -n) and `dagflow graph` with
// --format svg, --output and nodes coloured by cache state.
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
using dagflow::test::dagflow_program;
using dagflow::test::DataDir;
using dagflow::test::dot_program;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::run_process;
using dagflow::test::TempDir;
using dagflow::test::write_file;

// The fill colour Pipeline::to_dot gives cached nodes.
constexpr const char* kCachedColour = "#B2F2BB";

// The DOT line that declares node `id`.
std::string dot_node_line(const std::string& dot, const std::string& id) {
  const std::size_t at = dot.find("\n  \"" + id + "\" [");
  if (at == std::string::npos) return {};
  return dot.substr(at + 1, dot.find('\n', at + 1) - at - 1);
}

bool has_dot() { return !dot_program().empty(); }

}  // namespace

// A fresh pipeline would run everything; after a run only the top is needed, from the cache;
// after an edit the map runs again. Only probes run: no cache is written.
TEST_CASE("dagflow run --dry-run: says what a run would do", "[cli][dry-run]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");

  const auto fresh = run_dagflow({"run", pipeline, "--dry-run"});
  REQUIRE(fresh.exit_code == 0);
  CHECK(fresh.out ==
        "probe ran   files (glob)\n"
        "would run   counts (map word_count): no cache entry\n"
        "would run   total (merge_counts): no cache entry\n"
        "would run   top (top_k): no cache entry\n");
  CHECK(fresh.err ==
        "wordcount: dry run, 4 nodes: 3 would run, 0 cached, 0 not needed, 1 probe ran\n");
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));  // nothing written, not even a cache dir

  REQUIRE(run_dagflow({"run", pipeline}).exit_code == 0);
  const auto after_run = run_dagflow({"run", pipeline, "-n"});
  REQUIRE(after_run.exit_code == 0);
  CHECK(after_run.out ==
        "probe ran   files (glob)\n"
        "not needed  counts (map word_count)\n"
        "not needed  total (merge_counts)\n"
        "cached      top (top_k)\n");

  write_file(data.path() / "texts" / "f.txt", "date date date date date grape 42 grape\n");
  const auto edited = run_dagflow({"run", pipeline, "--dry-run"});
  REQUIRE(edited.exit_code == 0);
  CHECK_THAT(edited.out,
             Catch::Contains("would run   counts (map word_count): 1 of 6 items changed: ") &&
                 Catch::Contains("would run   top (top_k): input total changed\n"));

  // The dry runs computed nothing: a real run now still computes the edited file's counts.
  const std::string stats = data.file("stats.json");
  REQUIRE(run_dagflow({"run", pipeline, "--stats-json", stats}).exit_code == 0);
  const Value::Map counts = from_json(read_file(stats)).as_map();
  CHECK(counts.at("items_executed").as_int() == 1);
}

// A map with `reduce` says both ops; the run prints what the unfused wordcount prints, and its
// summary counts no items (the node is one task, cached whole).
TEST_CASE("dagflow run --dry-run: a map with reduce names its reduce op", "[cli][dry-run]") {
  DataDir data;
  const fs::path fused = data.write("fused.yaml",
                                    "name: fused\n"
                                    "nodes:\n"
                                    "  files: {op: glob, args: {pattern: \"texts/*.txt\"}}\n"
                                    "  total: {op: word_count, map: files, reduce: merge_counts}\n"
                                    "  top: {op: top_k, inputs: [total], args: {k: 3}}\n");
  const auto plan = run_dagflow({"run", fused.string(), "--dry-run"});
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out ==
        "probe ran   files (glob)\n"
        "would run   total (map word_count, reduce: merge_counts): no cache entry\n"
        "would run   top (top_k): no cache entry\n");
  const auto run = run_dagflow({"run", fused.string()});
  REQUIRE(run.exit_code == 0);
  CHECK(run.out == run_dagflow({"run", data.file("wordcount.yaml")}).out);
  CHECK_THAT(
      run.err,
      Catch::StartsWith("fused: 3 nodes, 3 executed, 0 cached (items: 6 executed, 0 cached) in "));
}

// With --json, stdout is one object {"nodes": [{"id", "op", "state", "reason"}]}.
TEST_CASE("dagflow run --dry-run --json: prints each node's state as one JSON object",
          "[cli][dry-run]") {
  DataDir data;
  REQUIRE(run_dagflow({"run", "wordcount.yaml"}, data.path()).exit_code == 0);
  const auto r = run_dagflow({"run", "wordcount.yaml", "--dry-run", "--json"}, data.path());
  REQUIRE(r.exit_code == 0);
  const Value plan = from_json(r.out);
  REQUIRE(plan.as_map().size() == 1);
  std::vector<std::string> nodes;
  for (const Value& node : plan.as_map().at("nodes").as_list()) {
    const Value::Map& n = node.as_map();
    CHECK(n.size() == 4);
    CHECK(n.at("reason").is_null());  // nothing would run
    nodes.push_back(n.at("id").as_string() + " " + n.at("op").as_string() + " " +
                    n.at("state").as_string());
  }
  CHECK(nodes == std::vector<std::string>{"files glob probe", "counts word_count not_needed",
                                          "total merge_counts not_needed", "top top_k cached"});
}

// Nothing but probes runs: a pipeline whose node would fail succeeds under --dry-run.
TEST_CASE("dagflow run --dry-run: runs no node", "[cli][dry-run]") {
  DataDir data;
  const std::string pipeline = data.file("overflow.yaml");
  REQUIRE(run_dagflow({"run", pipeline}).exit_code == 1);
  const auto r = run_dagflow({"run", pipeline, "--dry-run"});
  CHECK(r.exit_code == 0);
  // The failed run cached what it computed before `total` failed.
  CHECK(r.out ==
        "cached      numbers (range)\n"
        "would run   total (sum): no cache entry (never ran)\n");
  SECTION("--quiet") {
    const auto quiet = run_dagflow({"run", pipeline, "--dry-run", "--quiet"});
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out == r.out);
    CHECK(quiet.err.empty());
  }
}

// svg goes through Graphviz; -o writes a file instead of stdout.
TEST_CASE("dagflow graph: --output writes the file, --format svg renders through Graphviz",
          "[cli][graph]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  SECTION("dot to a file") {
    const auto r = run_dagflow({"graph", "wordcount.yaml", "-o", "graph.dot"}, data.path());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(read_file(data.path() / "graph.dot") == run_dagflow({"graph", pipeline}).out);
  }
  SECTION("svg") {
    if (!has_dot()) {
      WARN("Graphviz `dot` not found: --format svg not checked");
      return;
    }
    const auto r = run_dagflow({"graph", pipeline, "--format", "svg"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("<svg") && Catch::Contains("</svg>"));
    CHECK_THAT(r.out, Catch::Contains("counts"));

    const auto to_file = run_dagflow(
        {"graph", "wordcount.yaml", "--format", "svg", "--output", "g.svg"}, data.path());
    REQUIRE(to_file.exit_code == 0);
    CHECK(to_file.out.empty());
    CHECK_THAT(read_file(data.path() / "g.svg"), Catch::Contains("<svg"));
  }
  SECTION("svg without Graphviz") {
    TempDir empty_path;  // PATH holds only this empty directory
    const auto r =
        run_process({"/usr/bin/env", "PATH=" + empty_path.path().string(), dagflow_program(),
                     "graph", "wordcount.yaml", "--format", "svg", "-o", "g.svg"},
                    data.path());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "dagflow: error: graphviz 'dot' not found: install graphviz or use --format dot\n");
    CHECK_FALSE(fs::exists(data.path() / "g.svg"));
  }
}

// Once a cache exists, nodes are filled by cache state (found by a dry run); --no-cache, or no
// cache yet, gives the plain graph. Looking never creates a cache.
TEST_CASE("dagflow graph: colours nodes by cache state", "[cli][graph]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  const auto before = run_dagflow({"graph", pipeline});
  REQUIRE(before.exit_code == 0);
  CHECK_THAT(before.out, !Catch::Contains("fillcolor"));
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));

  REQUIRE(run_dagflow({"run", pipeline}).exit_code == 0);
  const auto after = run_dagflow({"graph", pipeline});
  REQUIRE(after.exit_code == 0);
  CHECK_THAT(dot_node_line(after.out, "top"), Catch::Contains(kCachedColour));
  CHECK_THAT(dot_node_line(after.out, "counts"), !Catch::Contains(kCachedColour));

  const auto plain = run_dagflow({"graph", pipeline, "--no-cache"});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out == before.out);

  // Another cache dir, relative to the working directory: nothing there yet.
  TempDir work;
  const auto elsewhere = run_dagflow({"graph", pipeline, "--cache-dir", "mine"}, work.path());
  REQUIRE(elsewhere.exit_code == 0);
  CHECK(elsewhere.out == before.out);
  CHECK_FALSE(fs::exists(work.path() / "mine"));

  if (!has_dot()) {
    WARN("Graphviz `dot` not found: rendering not checked");
    return;
  }
  // The coloured DOT renders too.
  const fs::path dot_file = data.path() / "coloured.dot";
  write_file(dot_file, after.out);
  const auto rendered = run_process({dot_program(), "-Tsvg", dot_file.string()});
  CHECK(rendered.exit_code == 0);
  CHECK_THAT(rendered.out, Catch::Contains("<svg"));
}
