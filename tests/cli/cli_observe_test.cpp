// Watching `dagflow run`: the progress bar on stderr (on a terminal, forced, or off), the Chrome
// trace (--trace) and SVG timeline (--timeline), and the per-op table after the run (--quiet).
//
// tests/cli/data/wordcount.yaml has 4 nodes: the probe `files` (glob) and counts (a map of
// word_count), total (merge_counts) and top (top_k). Without a cache a run has 4 tasks, one per
// node (the probe's result reaches `counts` as a literal, not as a task); with everything cached,
// 2 (the glob, and the hit of `top`).
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::Value;
using dagflow::test::count_of;
using dagflow::test::DataDir;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::run_dagflow_on_terminal;
using dagflow::test::script_program;
using dagflow::test::write_file;

// The final line of the progress display: "4/4 tasks done, 0 cached, 6 items mapped, 0.0 s" (the
// glob, counts (a map of the 6 texts), total, top).
const std::regex kFinalLine(
    R"((^|[\r\n])4/4 tasks done, 0 cached, 6 items mapped, [0-9]+\.[0-9] s)");
// A drawn bar: "[#####...............] 1/4 tasks, 0 cached, 0.0 s", with the items mapped once
// counts finished, and "map 40%" while it runs.
const std::regex kBar(
    R"(\r\[[#.]{20}\] +[0-9]+/4 tasks, [0-9]+ cached(, 6 items mapped)?(, map [0-9]+%)?, )"
    R"([0-9]+\.[0-9] s)");

bool contains(const std::string& text, const std::regex& pattern) {
  return std::regex_search(text, pattern);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// The events of a Chrome trace file, which must be {"traceEvents": [...]}.
Value::List trace_events(const fs::path& file) {
  const Value trace = from_json(read_file(file));
  return trace.as_map().at("traceEvents").as_list();
}

// The tasks of a Chrome trace file (run or found in a cache, parts of maps aside) as
// "<name> <op> <cache>", sorted.
std::vector<std::string> traced_tasks(const fs::path& file) {
  std::vector<std::string> tasks;
  for (const Value& event : trace_events(file)) {
    const Value::Map& e = event.as_map();
    const std::string phase = e.at("ph").as_string();
    if ((phase != "X" && phase != "i") || e.at("cat").as_string() == "chunks") continue;
    tasks.push_back(e.at("name").as_string() + " " + e.at("cat").as_string() + " " +
                    e.at("args").as_map().at("cache").as_string());
  }
  std::sort(tasks.begin(), tasks.end());
  return tasks;
}

}  // namespace

// On a terminal the bar is drawn in place with '\r' and ends in a final line; --no-progress
// and --quiet keep it away.
TEST_CASE("dagflow run: draws a progress bar when stderr is a terminal", "[cli][progress]") {
  if (script_program().empty()) {
    WARN("util-linux `script` not found: progress on a terminal not checked");
    return;
  }
  DataDir data;
  SECTION("shown") {
    const auto r = run_dagflow_on_terminal({"run", "wordcount.yaml", "--no-cache"}, data.path());
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, kBar));
    CHECK(contains(r.out, kFinalLine));
    // The final line ends the bar's line: the outputs and the summary start on lines of their own.
    CHECK_THAT(r.out, Catch::Contains("\r\ntop: [[\"apple\",6]"));
    CHECK_THAT(r.out, Catch::Contains("\r\nwordcount: 4 nodes, 4 executed"));
  }
  SECTION("--no-progress") {
    const auto r = run_dagflow_on_terminal({"run", "wordcount.yaml", "--no-cache", "--no-progress"},
                                           data.path());
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, !Catch::Contains("tasks") && Catch::Contains("top: "));
    CHECK_THAT(r.out, Catch::StartsWith("top: "));  // not even an empty bar drawn first
  }
  SECTION("--quiet") {
    const auto r =
        run_dagflow_on_terminal({"run", "wordcount.yaml", "--no-cache", "-q"}, data.path());
    REQUIRE(r.exit_code == 0);
    CHECK(lines_of(r.out) ==
          std::vector<std::string>{R"(top: [["apple",6],["banana",5],["cherry",4]])"});
  }
  SECTION("--quiet --progress") {
    const auto r = run_dagflow_on_terminal(
        {"run", "wordcount.yaml", "--no-cache", "--quiet", "--progress"}, data.path());
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, kFinalLine));
    CHECK_THAT(r.out, !Catch::Contains("wordcount: 4 nodes"));
  }
}

// Without a terminal nothing is drawn, unless --progress asks for it: then only the final line,
// without '\r' animation.
TEST_CASE("dagflow run: without a terminal, progress is off unless asked for", "[cli][progress]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  SECTION("silent by default") {
    const auto r = run_dagflow({"run", pipeline, "--no-cache"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, !Catch::Contains("tasks") && !Catch::Contains("\r"));
    CHECK_THAT(r.err, Catch::StartsWith("wordcount: 4 nodes"));
  }
  SECTION("--progress: the final line only") {
    const auto r = run_dagflow({"run", pipeline, "--progress"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, !Catch::Contains("\r") && !Catch::Contains("["));
    const std::vector<std::string> lines = lines_of(r.err);
    REQUIRE_FALSE(lines.empty());
    CHECK(std::regex_match(
        lines[0], std::regex(R"(4/4 tasks done, 0 cached, 6 items mapped, [0-9]+\.[0-9] s)")));
    CHECK_THAT(lines.at(1), Catch::StartsWith("wordcount: 4 nodes"));

    // Everything cached: the glob runs (a probe) and `top` is a hit.
    const auto again = run_dagflow({"run", pipeline, "--progress"});
    REQUIRE(again.exit_code == 0);
    CHECK_THAT(again.err, Catch::StartsWith("2/2 tasks done, 1 cached, "));
  }
  SECTION("--progress on a failed run") {
    const auto r = run_dagflow({"run", data.file("overflow.yaml"), "--progress", "--no-cache"});
    CHECK(r.exit_code == 1);
    const std::vector<std::string> lines = lines_of(r.err);
    REQUIRE(lines.size() >= 2);
    CHECK_THAT(lines[0], Catch::Contains(" tasks done, ") && Catch::EndsWith(" s (failed)"));
    CHECK_THAT(lines[1], Catch::StartsWith("dagflow: error: "));
  }
}

// --progress never touches stdout: with --json it is still exactly one JSON object.
TEST_CASE("dagflow run: --json --progress keeps stdout one JSON object", "[cli][progress]") {
  DataDir data;
  const auto r = run_dagflow({"run", data.file("wordcount.yaml"), "--json", "--progress"});
  REQUIRE(r.exit_code == 0);
  const Value outputs = from_json(r.out);
  REQUIRE(outputs.as_map().size() == 1);
  CHECK(outputs.as_map().count("top") == 1);
  CHECK_THAT(r.out, !Catch::Contains("tasks"));
  CHECK(contains(r.err, kFinalLine));
}

// The trace holds a complete event per task that ran, named after its node, and the map's parts
// (cat "chunks"); the timeline has a tooltip per recorded task and part. Both paths are relative to
// the working directory.
TEST_CASE("dagflow run: --trace and --timeline write the Chrome trace and the SVG timeline",
          "[cli][trace]") {
  DataDir data;
  const auto r =
      run_dagflow({"run", "wordcount.yaml", "--trace", "trace.json", "--timeline", "timeline.svg"},
                  data.path());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("top: "));

  const Value::List events = trace_events(data.path() / "trace.json");
  std::vector<std::string> ran;
  std::size_t recorded = 0;  // complete and instant events: one per task
  std::size_t parts = 0;
  for (const Value& event : events) {
    const Value::Map& e = event.as_map();
    const std::string phase = e.at("ph").as_string();
    if (phase == "i") ++recorded;
    if (phase != "X") continue;
    if (e.at("cat").as_string() == "chunks") {  // part of the map's items, on one worker
      ++parts;
      CHECK(e.at("name").as_string() == "counts (part)");
      continue;
    }
    ++recorded;
    ran.push_back(e.at("name").as_string());
    CHECK(e.at("cat").kind() == dagflow::ValueKind::kString);
    CHECK(e.at("ts").is_number());
    CHECK(e.at("dur").is_number());
    CHECK(e.at("dur").as_double() >= 0);
    CHECK(e.at("tid").kind() == dagflow::ValueKind::kInt);
    CHECK(e.at("args").as_map().at("cache").as_string() == "miss");
  }
  CHECK(ran.size() >= 3);
  CHECK(parts >= 1);
  for (const char* node : {"counts", "total", "top"}) {
    INFO(node);
    CHECK(std::count(ran.begin(), ran.end(), node) == 1);
  }

  const std::string svg = read_file(data.path() / "timeline.svg");
  CHECK_THAT(svg, Catch::StartsWith("<svg") && Catch::EndsWith("</svg>\n"));
  CHECK(count_of(svg, "<title>") == recorded + parts);  // a tooltip per task and per part

  // Run again: the glob runs (a probe), `top` is a cache hit, an instant event; nothing else.
  REQUIRE(run_dagflow({"run", "wordcount.yaml", "--trace", "trace.json"}, data.path()).exit_code ==
          0);
  std::vector<std::string> hits;
  std::size_t complete = 0;
  for (const Value& event : trace_events(data.path() / "trace.json")) {
    const Value::Map& e = event.as_map();
    if (e.at("ph").as_string() == "X") ++complete;
    if (e.at("ph").as_string() == "i") {
      hits.push_back(e.at("name").as_string() + " " +
                     e.at("args").as_map().at("cache").as_string());
    }
  }
  CHECK(complete == 1);
  CHECK(hits == std::vector<std::string>{"top disk hit"});
}

// A failed run still leaves its trace (the failed task included), then exits 1.
TEST_CASE("dagflow run: --trace is written when a node fails", "[cli][trace][errors]") {
  DataDir data;
  const auto r = run_dagflow({"run", "overflow.yaml", "--no-cache", "--trace", "t.json",
                              "--timeline", "t.svg", "--stats-json", "s.json"},
                             data.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: ") && Catch::Contains("'total'"));
  std::vector<std::string> failed;
  for (const Value& event : trace_events(data.path() / "t.json")) {
    const Value::Map& e = event.as_map();
    if (e.at("ph").as_string() == "X" &&
        e.at("args").as_map().at("cache").as_string() == "failed") {
      failed.push_back(e.at("name").as_string());
    }
  }
  CHECK(failed == std::vector<std::string>{"total"});
  CHECK_THAT(read_file(data.path() / "t.svg"), Catch::StartsWith("<svg"));
  CHECK_FALSE(fs::exists(data.path() / "s.json"));  // stats are of successful runs only
}

// After the summary line, a table with a row per op: nodes, executed, cached, time, share.
TEST_CASE("dagflow run: prints a table of the time per op, unless --quiet", "[cli][run]") {
  DataDir data;
  const std::string pipeline = data.file("wordcount.yaml");
  SECTION("first run") {
    const auto r = run_dagflow({"run", pipeline});
    REQUIRE(r.exit_code == 0);
    const std::vector<std::string> lines = lines_of(r.err);
    REQUIRE(lines.size() == 6);
    CHECK_THAT(lines[0],
               Catch::StartsWith("wordcount: 4 nodes, 4 executed") && Catch::EndsWith(" s"));
    CHECK(std::regex_match(lines[1], std::regex(R"(op +nodes +executed +cached +time +share)")));
    const char* ops[] = {"glob", "word_count", "merge_counts", "top_k"};
    for (std::size_t i = 0; i < 4; ++i) {
      INFO(ops[i]);
      CHECK(std::regex_match(
          lines[2 + i],
          std::regex(std::string(ops[i]) + R"( +1 +1 +0 +[0-9]+\.[0-9]{3} s +[0-9]+%)")));
      // Aligned: every row as long as the header.
      CHECK(lines[2 + i].size() == lines[1].size());
    }
  }
  SECTION("second run: cached and not needed") {
    REQUIRE(run_dagflow({"run", pipeline}).exit_code == 0);
    const auto r = run_dagflow({"run", pipeline});
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.err, std::regex(R"(\nglob +1 +1 +0 )")));
    CHECK(contains(r.err, std::regex(R"(\nword_count +1 +0 +0 )")));
    CHECK(contains(r.err, std::regex(R"(\ntop_k +1 +0 +1 )")));
  }
  SECTION("--quiet") {
    for (const char* quiet : {"--quiet", "-q"}) {
      const auto r = run_dagflow({"run", pipeline, quiet, "--json"});
      REQUIRE(r.exit_code == 0);
      CHECK(r.err.empty());
      CHECK(from_json(r.out).as_map().count("top") == 1);
    }
    // Errors still print.
    const auto failed = run_dagflow({"run", data.file("overflow.yaml"), "--quiet"});
    CHECK(failed.exit_code == 1);
    CHECK_THAT(failed.err, Catch::StartsWith("dagflow: error: "));
  }
}

// Issue: the internal `dagflow.literal` task no longer appears as a task in traces, counts or
// legends. The glob's list reaches `counts` as a literal: the trace and the timeline hold one
// task per node, the progress line counts 4, and the output is as before. An edited text file
// still reruns what reads the list (the map, for that file's item), an unchanged one does not.
TEST_CASE("dagflow run: a probe's result is no task in the trace, the timeline or the counts",
          "[cli][trace][progress]") {
  DataDir data;
  const std::vector<std::string> ran = {"counts map(word_count) miss", "files glob miss",
                                        "top top_k miss", "total merge_counts miss"};
  const auto first = run_dagflow(
      {"run", "wordcount.yaml", "--progress", "--trace", "t.json", "--timeline", "t.svg"},
      data.path());
  REQUIRE(first.exit_code == 0);
  CHECK(first.out == "top: [[\"apple\",6],[\"banana\",5],[\"cherry\",4]]\n");
  CHECK(traced_tasks(data.path() / "t.json") == ran);
  CHECK(contains(first.err, kFinalLine));  // 4/4 tasks
  CHECK_THAT(read_file(data.path() / "t.svg"), Catch::Contains(">glob</text>") &&
                                                   Catch::Contains(">merge_counts</text>") &&
                                                   !Catch::Contains("dagflow.literal"));

  // Unchanged files: the glob runs, `top` is a hit.
  const auto same =
      run_dagflow({"run", "wordcount.yaml", "--progress", "--trace", "t.json"}, data.path());
  REQUIRE(same.exit_code == 0);
  CHECK(same.out == first.out);
  CHECK(traced_tasks(data.path() / "t.json") ==
        std::vector<std::string>{"files glob miss", "top top_k disk hit"});
  CHECK_THAT(same.err, Catch::StartsWith("2/2 tasks done, 1 cached, "));

  // An edited file: every reader of the list runs again (the map for that one item).
  write_file(data.path() / "texts" / "f.txt", "date date date date date date date\n");
  const auto edited =
      run_dagflow({"run", "wordcount.yaml", "--progress", "--trace", "t.json"}, data.path());
  REQUIRE(edited.exit_code == 0);
  CHECK(edited.out == "top: [[\"date\",9],[\"apple\",6],[\"banana\",4]]\n");
  CHECK(traced_tasks(data.path() / "t.json") == ran);
  CHECK(contains(edited.err, std::regex(R"(4/4 tasks done, 0 cached, 6 items mapped )"
                                        R"(\(5 cached\), [0-9]+\.[0-9] s)")));
}
