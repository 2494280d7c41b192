#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/traversal.hpp>

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
TEST_CASE("topological_order: a 1,000,000-task chain", "[graph][traversal]") {
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
TEST_CASE("to_dot: labels and edges", "[graph][dot]") {
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("load", inc), 1);
  auto b = g.delayed(add, a, a);
  g.set_label(b, "say \"hi\"");
  const std::string dot = dagflow::to_dot(g);
  CHECK(dot.rfind("digraph dagflow {", 0) == 0);
  CHECK(dot.find("n0 [label=\"load\"]") != std::string::npos);
  CHECK(dot.find("n1 [label=\"say \\\"hi\\\"\"]") != std::string::npos);
  // A dependency used twice is two edges.
  std::size_t edges = 0;
  for (std::size_t at = dot.find("n0 -> n1"); at != std::string::npos;
       at = dot.find("n0 -> n1", at + 1)) {
    ++edges;
  }
  CHECK(edges == 2);
  CHECK(dot.back() == '\n');
}

// The DOT text is accepted by Graphviz itself (the test command installs graphviz).
TEST_CASE("to_dot: output renders with Graphviz dot", "[graph][dot]") {
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("load \"data\"", inc), 1);
  auto b = g.delayed(inc, a);
  auto c = g.delayed(add, a, b);
  g.set_label(c, "back\\slash\nnew line");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("dagflow-dot-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path dot_file = dir / "graph.dot";
  const std::filesystem::path svg_file = dir / "graph.svg";
  {
    std::ofstream out(dot_file);
    out << dagflow::to_dot(g);
  }
  const int status =
      std::system(("dot -Tsvg -o '" + svg_file.string() + "' '" + dot_file.string() + "'").c_str());
  CHECK(status == 0);
  std::ifstream svg(svg_file);
  const std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  CHECK(text.find("<svg") != std::string::npos);
  CHECK(text.find("new line") != std::string::npos);
  std::filesystem::remove_all(dir);
}
