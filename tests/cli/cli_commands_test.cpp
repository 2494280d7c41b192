// `dagflow validate`, `graph` and `ops`: what they print on stdout.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::test::DataDir;
using dagflow::test::dot_program;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::run_process;
using dagflow::test::write_file;

// The first words of an op's doc: what must survive the wrapping of `dagflow ops` intact.
std::string doc_start(const std::string& doc) {
  const std::string start = doc.substr(0, 40);
  return start.size() < 40 ? start : start.substr(0, start.rfind(' '));
}

}  // namespace

// validate loads and checks without running: one "ok" line, no cache made.
TEST_CASE("dagflow validate: prints the nodes and outputs", "[cli][validate]") {
  DataDir data;
  const auto r = run_dagflow({"validate", "wordcount.yaml"}, data.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "wordcount.yaml: ok (4 nodes, outputs: top)\n");
  CHECK(r.err.empty());
  CHECK_FALSE(fs::exists(data.path() / ".dagflow"));  // nothing ran, no cache made
}

// The DOT text is what Graphviz reads: `dot -Tsvg` accepts it.
TEST_CASE("dagflow graph: prints DOT that Graphviz renders", "[cli][graph]") {
  DataDir data;
  const auto r = run_dagflow({"graph", data.file("wordcount.yaml"), "--set", "k=5"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("digraph"));
  for (const char* id : {"files", "counts", "total", "top"}) CHECK_THAT(r.out, Catch::Contains(id));

  const std::string dot = dot_program();
  if (dot.empty()) {
    WARN("Graphviz `dot` not found: rendering not checked");
    return;
  }
  const fs::path dot_file = data.path() / "wordcount.dot";
  const fs::path svg_file = data.path() / "wordcount.svg";
  write_file(dot_file, r.out);
  const auto rendered = run_process({dot, "-Tsvg", dot_file.string(), "-o", svg_file.string()});
  INFO(rendered.err);
  CHECK(rendered.exit_code == 0);
  CHECK_THAT(read_file(svg_file), Catch::Contains("<svg"));
}

// Every built-in op is listed, sorted, with its doc; one op can be asked for by name.
TEST_CASE("dagflow ops: describes the built-in ops", "[cli][ops]") {
  const dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
  SECTION("all") {
    const auto r = run_dagflow({"ops"});
    REQUIRE(r.exit_code == 0);
    std::size_t previous = 0;
    for (const auto& [name, op] : ops.ops()) {
      INFO(name);
      const std::size_t at = r.out.find("\n" + name + "\n");
      const bool found = r.out.rfind(name + "\n", 0) == 0 || at != std::string::npos;
      CHECK(found);
      const std::size_t position = r.out.rfind(name + "\n", 0) == 0 ? 0 : at;
      CHECK(position >= previous);  // sorted by name
      previous = position;
      CHECK_THAT(r.out, Catch::Contains(doc_start(op.doc())));
    }
    for (const char* name : {"glob", "word_count", "top_k", "merge_counts", "read_text"}) {
      CHECK(ops.find(name) != nullptr);
    }
  }
  SECTION("one") {
    const auto r = run_dagflow({"ops", "top_k"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("top_k\n") && Catch::Contains("k: int"));
    // What it takes and what it gives: the types a pipeline is checked with (#12).
    CHECK_THAT(r.out, Catch::Contains("  inputs: map of int\n") &&
                          Catch::Contains("  result: list of pair of string and int\n"));
    CHECK_THAT(r.out, Catch::Contains(doc_start(ops.find("top_k")->doc())));
    CHECK_THAT(r.out, !Catch::Contains("\nglob\n"));
  }
  SECTION("flags") {
    const auto r = run_dagflow({"ops", "glob"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("probe"));
    const auto shell = run_dagflow({"ops", "shell"});
    REQUIRE(shell.exit_code == 0);
    CHECK_THAT(shell.out, Catch::Contains("--allow-shell"));
    // Ops that wait are I/O tasks unless a node says otherwise.
    CHECK_THAT(shell.out, Catch::Contains("io (runs on the I/O threads"));
    const auto top_k = run_dagflow({"ops", "top_k"});
    REQUIRE(top_k.exit_code == 0);
    CHECK_THAT(top_k.out, !Catch::Contains("I/O"));
  }
  SECTION("json") {
    const auto r = run_dagflow({"ops", "--json"});
    REQUIRE(r.exit_code == 0);
    const dagflow::Value all = dagflow::from_json(r.out);
    CHECK(all.as_map().size() == ops.ops().size());
    const dagflow::Value::Map& write = all.as_map().at("write_json").as_map();
    CHECK(write.at("writes_files").as_bool());
    CHECK(write.at("result").as_string() == "path");
    CHECK(write.at("args").as_list().at(0).as_map().at("output_path").as_bool());
    CHECK(write.at("io").as_bool());
    CHECK_FALSE(all.as_map().at("top_k").as_map().at("io").as_bool());
    const auto one = run_dagflow({"ops", "top_k", "--json"});
    REQUIRE(one.exit_code == 0);
    CHECK(dagflow::from_json(one.out).as_map().at("top_k").as_map().at("inputs") ==
          dagflow::Value(dagflow::Value::List{"map of int"}));
  }
  SECTION("unknown") {
    const auto r = run_dagflow({"ops", "word_cnt"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("did you mean") && Catch::Contains("'word_count'"));
  }
}
