#include <dagflow/graph/keys.hpp>

// Tests of task_keys, the content keys of the disk cache: equal graphs give equal keys, any
// change of a literal, an op version or argument order changes exactly the keys downstream of
// it, and tasks without a stable identity get none.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {
int key_inc(int x) { return x + 1; }
int key_add(int a, int b) { return a + b; }
int key_scale(int x, int factor) { return x * factor; }

// load(start) -> scale(., factor) -> add(., other); returns all keys by node id.
std::vector<std::optional<dagflow::Hash128>> pipeline_keys(int start, int factor,
                                                           std::uint32_t scale_version = 0) {
  dagflow::Graph g;
  auto load = g.delayed(dagflow::op("key load", key_inc), start);
  auto scaled =
      g.delayed(dagflow::op("key scale", key_scale).with_version(scale_version), load, factor);
  auto other = g.delayed(dagflow::op("key load", key_inc), 100);
  (void)g.delayed(dagflow::op("key add", key_add), scaled, other);
  return dagflow::task_keys(g);
}
}  // namespace

// The same tasks give the same keys in another Graph (keys are content, not identity).
TEST_CASE("task_keys: equal graphs have equal keys", "[graph][keys]") {
  const auto a = pipeline_keys(1, 2);
  const auto b = pipeline_keys(1, 2);
  REQUIRE(a.size() == 4);
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].has_value());
    CHECK(a[i] == b[i]);
  }
  CHECK(a[0] != a[2]);  // same op, different literal
}

// A changed literal changes that task's key and every key downstream, nothing else.
TEST_CASE("task_keys: a changed literal invalidates its downstream", "[graph][keys]") {
  const auto base = pipeline_keys(1, 2);
  const auto changed = pipeline_keys(5, 2);
  CHECK(changed[0] != base[0]);
  CHECK(changed[1] != base[1]);
  CHECK(changed[2] == base[2]);  // `other` does not depend on it
  CHECK(changed[3] != base[3]);
  const auto other_factor = pipeline_keys(1, 3);
  CHECK(other_factor[0] == base[0]);  // upstream of the change: same
  CHECK(other_factor[1] != base[1]);
  CHECK(other_factor[3] != base[3]);
}

// Bumping an op's version invalidates its tasks and everything downstream of them.
TEST_CASE("task_keys: a version bump invalidates downstream", "[graph][keys]") {
  const auto base = pipeline_keys(1, 2);
  const auto bumped = pipeline_keys(1, 2, 1);
  CHECK(bumped[0] == base[0]);
  CHECK(bumped[1] != base[1]);
  CHECK(bumped[2] == base[2]);
  CHECK(bumped[3] != base[3]);
}

// Argument order is part of the key.
TEST_CASE("task_keys: argument order matters", "[graph][keys]") {
  dagflow::Graph g;
  auto a = g.delayed(dagflow::op("key load", key_inc), 1);
  auto b = g.delayed(dagflow::op("key load", key_inc), 2);
  auto ab = g.delayed(dagflow::op("key add", key_add), a, b);
  auto ba = g.delayed(dagflow::op("key add", key_add), b, a);
  const auto keys = dagflow::task_keys(g);
  CHECK(keys[ab.id()] != keys[ba.id()]);
}

// No stable identity, no key: anonymous callables, unhashable literals, impure tasks, and
// everything downstream of them.
TEST_CASE("task_keys: tasks without a stable identity have none", "[graph][keys]") {
  struct Opaque {
    int v;
  };
  dagflow::Graph g;
  auto named = g.delayed(dagflow::op("key load", key_inc), 1);
  auto anonymous = g.delayed(key_inc, 1);
  auto after_anonymous = g.delayed(dagflow::op("key add", key_add), named, anonymous);
  auto opaque =
      g.delayed(dagflow::op("key opaque", [](const Opaque& o) { return o.v; }), Opaque{1});
  auto impure = g.delayed(dagflow::op("key load", key_inc), 7);
  auto after_impure = g.delayed(dagflow::op("key add", key_add), named, impure);
  g.set_impure(impure);
  const auto keys = dagflow::task_keys(g);
  CHECK(keys[named.id()].has_value());
  CHECK_FALSE(keys[anonymous.id()].has_value());
  CHECK_FALSE(keys[after_anonymous.id()].has_value());
  CHECK_FALSE(keys[opaque.id()].has_value());
  CHECK_FALSE(keys[impure.id()].has_value());
  CHECK_FALSE(keys[after_impure.id()].has_value());
}

// Literal values of std types hash by content: a copied vector gives the same key.
TEST_CASE("task_keys: container literals hash by content", "[graph][keys]") {
  auto key_of = [](std::vector<std::string> words) {
    dagflow::Graph g;
    auto t = g.delayed(
        dagflow::op("key count", [](const std::vector<std::string>& w) { return w.size(); }),
        std::move(words));
    return dagflow::task_keys(g)[t.id()];
  };
  CHECK(key_of({"a", "b"}) == key_of({"a", "b"}));
  CHECK(key_of({"a", "b"}) != key_of({"ab"}));
}
