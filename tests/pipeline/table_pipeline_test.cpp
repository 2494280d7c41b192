#include <dagflow/pipeline/pipeline.hpp>

// Tests of the table ops in pipelines: the loader reports a derive expression's syntax error at
// its exact column (inside quoted and plain scalars), a bad filter comparison or join kind at its
// argument, and a write_json with several inputs writes one object keyed by their node ids (the
// ids part of its cache key).
#include <filesystem>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::OpRegistry;
using dagflow::Pipeline;
using dagflow::PipelineError;
using dagflow::Value;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;

// The first lines of every pipeline here: rows from CSV files, as `all` (lines 1-5).
constexpr std::string_view kHead =
    "name: t\n"                                          // 1
    "nodes:\n"                                           // 2
    "  files: {op: glob, args: {pattern: \"*.csv\"}}\n"  // 3
    "  rows: {op: read_csv, map: files}\n"               // 4
    "  all: {op: concat, inputs: [rows]}\n";             // 5

// what() of the PipelineError loading kHead + `nodes` throws, or "(no error)".
std::string load_error(std::string_view nodes, const dagflow::LoadOptions& options = {}) {
  const std::string text = std::string(kHead) + std::string(nodes);
  return thrown_message<PipelineError>(
      [&] { (void)dagflow::parse_pipeline_spec(text, "p.yaml", OpRegistry::builtins(), options); });
}

}  // namespace

// The column points at the offending character inside the expression, past a quote.
TEST_CASE("Pipeline loader: a derive syntax error is at its column inside the expression",
          "[pipeline][loader][table]") {
  // Line 8: 35 is the column where the value starts (its quote, when quoted).
  SECTION("double-quoted") {
    CHECK(load_error("  rev:\n"
                     "    op: derive\n"
                     "    args: {column: revenue, expr: \"units * (price + )\"}\n"
                     "    inputs: [all]\n") ==
          "p.yaml:8:53: node 'rev' (op 'derive'): syntax error in the expression: expected a "
          "number, a column name or '(', got ')'");
  }
  SECTION("single-quoted") {
    CHECK(load_error("  rev:\n"
                     "    op: derive\n"
                     "    args: {column: revenue, expr: 'units * $price'}\n"
                     "    inputs: [all]\n") ==
          "p.yaml:8:44: node 'rev' (op 'derive'): syntax error in the expression: expected a "
          "number, a column name or '(', got '$'");
  }
  SECTION("plain") {
    CHECK(load_error("  rev:\n"
                     "    op: derive\n"
                     "    args: {column: revenue, expr: units * price price}\n"
                     "    inputs: [all]\n") ==
          "p.yaml:8:49: node 'rev' (op 'derive'): syntax error in the expression: expected an "
          "operator (+ - * /) or the end of the expression, got 'price'");
  }
  SECTION("plain, at the end of the expression") {
    CHECK(load_error("  rev:\n"
                     "    op: derive\n"
                     "    inputs: [all]\n"
                     "    args:\n"
                     "      column: revenue\n"
                     "      expr: units *\n") ==
          "p.yaml:11:20: node 'rev' (op 'derive'): syntax error in the expression: expected a "
          "number, a column name or '(', got the end of the expression");
  }
  SECTION("an escape: at the value") {
    CHECK(load_error("  rev:\n"
                     "    op: derive\n"
                     "    args: {column: revenue, expr: \"units\\t* price price\"}\n"
                     "    inputs: [all]\n") ==
          "p.yaml:8:35: node 'rev' (op 'derive'): syntax error in the expression: expected an "
          "operator (+ - * /) or the end of the expression, got 'price'");
  }
  SECTION("a param substituted: at the value") {
    const std::string text =
        "name: t\n"
        "params: {e: units}\n"
        "nodes:\n"
        "  rows: {op: read_csv, map: files}\n"
        "  files: {op: glob, args: {pattern: \"*.csv\"}}\n"
        "  all: {op: concat, inputs: [rows]}\n"
        "  rev: {op: derive, inputs: [all], args: {column: r, expr: \"${e}\"}}\n";
    const auto error = [&](const char* set) {
      return thrown_message<PipelineError>([&] {
        (void)dagflow::parse_pipeline_spec(text, "p.yaml", OpRegistry::builtins(), {.set = {set}});
      });
    };
    CHECK(error("e=units * price") == "(no error)");
    CHECK(error("e=units * * price") ==
          "p.yaml:7:60: node 'rev' (op 'derive'): syntax error in the expression: expected a "
          "number, a column name or '(', got '*'");
  }
  SECTION("a good expression loads") {
    CHECK(load_error("  rev:\n"
                     "    op: derive\n"
                     "    args: {column: revenue, expr: \"-(units * price) / 2\"}\n"
                     "    inputs: [all]\n") == "(no error)");
  }
}

// A comparison or join kind that does not exist is found when the pipeline loads.
TEST_CASE("Pipeline loader: a bad filter op or join kind is an error at its argument",
          "[pipeline][loader][table]") {
  CHECK(
      load_error("  east: {op: filter, inputs: [all], args: {column: r, op: \"=\", value: e}}\n") ==
      "p.yaml:6:59: node 'east' (op 'filter'): unknown comparison '=' (one of == != < <= > "
      ">=)");
  CHECK(load_error("  j: {op: join, inputs: [all, all], args: {on: [k], how: outer}}\n") ==
        "p.yaml:6:58: node 'j' (op 'join'): unknown join 'outer' (inner or left)");
  CHECK(load_error("  j: {op: join, inputs: [all], args: {on: [k]}}\n") ==
        "p.yaml:6:17: op 'join' takes 2 inputs, node 'j' gives 1");
}

// Several inputs reach write_json as one map keyed by node id; one input as it is.
TEST_CASE("Pipeline: write_json with several inputs writes an object keyed by node id",
          "[pipeline][run][table]") {
  const TempDir dir;
  const auto write = [&](const char* ids) {
    const std::string a = ids[0] == 'a' ? "a" : "xs";
    return dir.write("p.yaml",
                     "name: j\n"
                     "nodes:\n"
                     "  " +
                         a +
                         ": {op: range, args: {stop: 3}}\n"
                         "  b: {op: sum, inputs: [" +
                         a +
                         "]}\n"
                         "  both: {op: write_json, inputs: [" +
                         a +
                         ", b], args: {path: both.json}}\n"
                         "  one: {op: write_json, inputs: [b], args: {path: one.json}}\n"
                         "outputs: [both, one]\n");
  };
  const fs::path cache = dir.path() / "cache";
  (void)Pipeline::load(write("a"), OpRegistry::builtins()).run({.cache_dir = cache});
  CHECK(read_file(dir.path() / "both.json") == "{\n  \"a\": [0, 1, 2],\n  \"b\": 3\n}\n");
  CHECK(read_file(dir.path() / "one.json") == "3\n");
  // The same values under other ids are another result: never the cached one.
  (void)Pipeline::load(write("x"), OpRegistry::builtins()).run({.cache_dir = cache});
  CHECK(read_file(dir.path() / "both.json") == "{\n  \"b\": 3,\n  \"xs\": [0, 1, 2]\n}\n");
}

// Keyed inputs need distinct ids, and a map node's element has none.
TEST_CASE("Pipeline loader: write_json refuses a repeated input and a map with inputs",
          "[pipeline][loader][table]") {
  CHECK(load_error("  w: {op: write_json, inputs: [all, all], args: {path: o.json}}\n") ==
        "p.yaml:6:37: node 'w' names input 'all' twice: op 'write_json' takes several inputs "
        "as one map keyed by node id");
  CHECK(load_error("  w: {op: write_json, map: files, inputs: [all], args: {path: o.json}}\n") ==
        "p.yaml:6:35: op 'write_json' takes 1 input, node 'w' gives 2 (the mapped element "
        "counts as the first)");
  CHECK(load_error("  w: {op: write_json, inputs: [files, all], args: {path: o.json}}\n") ==
        "(no error)");
}
