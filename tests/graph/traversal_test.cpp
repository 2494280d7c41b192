#include <dagflow/graph/traversal.hpp>

// Tests of topological_order (culling, deep chains) and to_dot (labels, edges, escaping, and
// output Graphviz accepts).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {
int inc(int x) { return x + 1; }
int add(int a, int b) { return a + b; }
}  // namespace

// Culling keeps exactly what the targets need, dependencies first.
TEST_CASE("topological_order: culls to the targets' upstream", "[graph][traversal]") {
  dagflow::Graph g;
  auto a = g.delayed(inc, 1);
  auto unrelated = g.delayed(inc, 2);
  auto b = g.delayed(inc, a);
  auto c = g.delayed(add, a, b);
  auto later = g.delayed(inc, c);

  const dagflow::NodeId targets[] = {c.id()};
  CHECK(dagflow::topological_order(g, targets) ==
        std::vector<dagflow::NodeId>{a.id(), b.id(), c.id()});
  const dagflow::NodeId two[] = {unrelated.id(), b.id()};
  CHECK(dagflow::topological_order(g, two) ==
        std::vector<dagflow::NodeId>{a.id(), unrelated.id(), b.id()});
  CHECK(dagflow::topological_order(g).size() == 5);
  const dagflow::NodeId missing[] = {later.id() + 1};
  CHECK_THROWS_AS(dagflow::topological_order(g, missing), std::invalid_argument);
}

// The traversal is iterative: a chain of a million tasks does not overflow the stack.
TEST_CASE("topological_order: a 1,000,000-task chain does not overflow the stack",
          "[graph][traversal]") {
  dagflow::Graph g;
  auto last = g.delayed(inc, 0);
  for (int i = 1; i < 1'000'000; ++i) last = g.delayed(inc, last);
  const dagflow::NodeId targets[] = {last.id()};
  const auto order = dagflow::topological_order(g, targets);
  REQUIRE(order.size() == 1'000'000);
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.back() == last.id());
}

// DOT output names every task by label and every dependency as an edge, escaping quotes.
TEST_CASE("to_dot: names every task by label and every dependency as an edge", "[graph][dot]") {
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("load", inc), 1);
  auto b = g.delayed(add, a, a);
  g.set_label(b, "say \"hi\"");
  const std::string dot = dagflow::to_dot(g);
  CHECK(dot.rfind("digraph dagflow {", 0) == 0);
  CHECK(dot.find("n0 [label=\"load\"]") != std::string::npos);
  CHECK(dot.find("n1 [label=\"say \\\"hi\\\"\"]") != std::string::npos);
  // A dependency used twice is two edges.
  CHECK(dagflow::test::count_of(dot, "n0 -> n1") == 2);
  CHECK(dot.back() == '\n');
}

// The DOT text is accepted by Graphviz itself (the test command installs graphviz), labels
// with quotes, backslashes and newlines included.
TEST_CASE("to_dot: the output renders with Graphviz dot", "[graph][dot]") {
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("load \"data\"", inc), 1);
  auto b = g.delayed(inc, a);
  auto c = g.delayed(add, a, b);
  g.set_label(c, "back\\slash\nnew line");
  const dagflow::test::TempDir dir;
  const std::filesystem::path dot_file = dir.write("graph.dot", dagflow::to_dot(g));
  const std::filesystem::path svg_file = dir.path() / "graph.svg";
  if (dagflow::test::dot_program().empty()) FAIL("Graphviz dot is not installed");
  const dagflow::test::ProcessResult dot = dagflow::test::run_process(
      {dagflow::test::dot_program(), "-Tsvg", "-o", svg_file.string(), dot_file.string()});
  CHECK(dot.exit_code == 0);
  const std::string text = dagflow::test::read_file(svg_file);
  CHECK(text.find("<svg") != std::string::npos);
  CHECK(text.find("new line") != std::string::npos);
}
