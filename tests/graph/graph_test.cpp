#include <dagflow/graph/graph.hpp>

// Tests of building a Graph with Graph::delayed and dagflow::op: dependency edges, callables,
// labels, op names and versions, and misuse refused with std::invalid_argument.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {
int square(int x) { return x * x; }
int add(int a, int b) { return a + b; }
struct Scale {
  int factor;
  int operator()(int x) const { return factor * x; }
};
}  // namespace

// Every kind of argument becomes the right dependency edges, in argument order.
TEST_CASE("Graph: delayed records dependencies in argument order", "[graph][build]") {
  dagflow::Graph g;
  auto a = g.delayed(square, 3);
  auto b = g.delayed(square, 4);
  auto c = g.delayed(add, b, a);
  std::vector<dagflow::Delayed<int>> parts{a, b, a};
  auto s = g.delayed([](const std::vector<int>& v) { return v.size(); }, parts);
  auto none = g.delayed([] { return 7; });

  CHECK(g.size() == 5);
  CHECK(a.id() == 0);
  CHECK(none.id() == 4);
  CHECK(g.dependencies(a.id()).empty());
  const auto deps = g.dependencies(c.id());
  CHECK(std::vector<dagflow::NodeId>(deps.begin(), deps.end()) ==
        std::vector<dagflow::NodeId>{b.id(), a.id()});
  const auto list = g.dependencies(s.id());
  CHECK(std::vector<dagflow::NodeId>(list.begin(), list.end()) ==
        std::vector<dagflow::NodeId>{a.id(), b.id(), a.id()});
}

// Function pointers, lambdas (capturing too), functors and ops are all accepted.
TEST_CASE("Graph: accepts every kind of callable", "[graph][build]") {
  dagflow::Graph g;
  const int offset = 5;
  auto p = g.delayed(&square, 2);
  auto l = g.delayed([offset](int x) { return x + offset; }, p);
  auto f = g.delayed(Scale{3}, l);
  auto generic = g.delayed([](const auto& x) { return x * 2; }, f);
  auto o = g.delayed(dagflow::op("scale", Scale{2}), generic);
  auto move_only = g.delayed([](int x) { return std::make_unique<int>(x); }, o);
  CHECK(g.size() == 6);
  CHECK(move_only.is_valid());
}

// Labels: generated ones carry the node id, ops are labelled by name, users may override.
TEST_CASE("Graph: labels come from the user, the op name, or the node id", "[graph][labels]") {
  dagflow::Graph g;
  std::string name = "square";
  auto named = g.delayed(dagflow::op(name, square), 2);
  name = "changed";  // op copied its name
  auto anonymous = g.delayed(square, 3);
  auto relabelled = g.delayed(square, 4);
  g.set_label(relabelled, "load input");

  CHECK(g.label(named.id()) == "square");
  CHECK(g.op_name(named.id()) == "square");
  CHECK(g.label(anonymous.id()) == "task#1");
  CHECK(g.op_name(anonymous.id()).empty());
  CHECK(g.label(relabelled.id()) == "load input");
  CHECK_THROWS_AS(g.label(99), std::invalid_argument);
}

// An op without a name has no stable identity: refused.
TEST_CASE("Graph: an op with an empty name is rejected", "[graph][errors]") {
  CHECK_THROWS_AS(dagflow::op("", square), std::invalid_argument);
}

// Misuse found while building throws std::invalid_argument and leaves the graph unchanged.
TEST_CASE("Graph: foreign, dead and empty handles are rejected", "[graph][errors]") {
  dagflow::Graph g;
  dagflow::Graph other;
  auto mine = g.delayed(square, 2);
  auto theirs = other.delayed(square, 3);

  SECTION("a Delayed of another Graph") {
    CHECK_THROWS_WITH(g.delayed(add, mine, theirs), Catch::Contains("another Graph"));
    std::vector<dagflow::Delayed<int>> mixed{mine, theirs};
    CHECK_THROWS_AS(g.delayed([](std::vector<int> v) { return v.size(); }, mixed),
                    std::invalid_argument);
    CHECK_THROWS_AS(g.set_label(theirs, "x"), std::invalid_argument);
  }
  SECTION("a Delayed whose Graph is gone") {
    dagflow::Delayed<int> orphan;
    {
      dagflow::Graph gone;
      orphan = gone.delayed(square, 1);
    }
    CHECK_THROWS_AS(g.delayed(square, orphan), std::invalid_argument);
    CHECK_THROWS_WITH(dagflow::detail::graph_of(orphan), Catch::Contains("destroyed"));
  }
  SECTION("an empty Delayed") {
    dagflow::Delayed<int> empty;
    CHECK_FALSE(empty.is_valid());
    CHECK_THROWS_AS(g.delayed(square, empty), std::invalid_argument);
  }
  CHECK(g.size() == 1);
  CHECK(g.dependencies(0).empty());
}

// A moved Graph keeps its tasks, and handles made before the move still work with it.
TEST_CASE("Graph: moving keeps tasks and handles valid", "[graph][build]") {
  dagflow::Graph g;
  auto a = g.delayed(square, 2);
  dagflow::Graph moved = std::move(g);
  auto b = moved.delayed(add, a, 1);
  CHECK(moved.size() == 2);
  CHECK(moved.dependencies(b.id())[0] == a.id());
}

// Literals are copied at build time: later changes to the caller's variable do not leak in.
TEST_CASE("Graph: literal arguments are captured by value", "[graph][build]") {
  dagflow::Graph g;
  std::string text = "before";
  auto t = g.delayed([](const std::string& s) { return s.size(); }, text);
  text = "after, and longer";
  CHECK(t.is_valid());
  CHECK(text == "after, and longer");  // the task holds its own copy (checked by the engine tests)
}

namespace {
int twice(int x) { return 2 * x; }
int thrice(int x) { return 3 * x; }
}  // namespace

// An op's version is recorded per task (0 unless declared).
TEST_CASE("Graph: records each task's op version, 0 unless declared", "[graph][ops]") {
  dagflow::Graph g;
  auto v0 = g.delayed(dagflow::op("versioned twice", twice), 1);
  auto v3 = g.delayed(dagflow::op("versioned twice", twice).with_version(3), 1);
  auto anonymous = g.delayed(twice, 1);
  CHECK(g.op_version(v0.id()) == 0);
  CHECK(g.op_version(v3.id()) == 3);
  CHECK(g.op_version(anonymous.id()) == 0);
  CHECK(g.op_name(v3.id()) == "versioned twice");
}

// One name and version stand for one callable in a process; the same callable may reuse it.
TEST_CASE("Graph: one op name and version stand for one callable", "[graph][ops][errors]") {
  dagflow::Graph g;
  auto first = g.delayed(dagflow::op("identity check", twice), 1);
  auto again = g.delayed(dagflow::op("identity check", twice), 2);  // same function: fine
  CHECK(g.size() == 2);
  CHECK_THROWS_WITH(g.delayed(dagflow::op("identity check", thrice), 1),
                    Catch::Contains("'identity check' version 0 already stands for"));
  auto lambda = [](int x) { return x; };
  CHECK_THROWS_AS(g.delayed(dagflow::op("identity check", lambda), 1), std::invalid_argument);
  // Another version, or another name, is another op.
  auto bumped = g.delayed(dagflow::op("identity check", thrice).with_version(1), 1);
  auto other = g.delayed(dagflow::op("identity check 2", lambda), 1);
  CHECK(g.size() == 4);
  (void)first, (void)again, (void)bumped, (void)other;
}
