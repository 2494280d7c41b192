#include <dagflow/graph/serialization.hpp>

// Tests of to_bytes/from_bytes (the disk cache's format): round trips, which types are
// Serializable, malformed bytes refused, type fingerprints, and hashing through bytes.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

namespace {
struct Point {
  double x = 0;
  double y = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y);
  }
  friend bool operator==(const Point&, const Point&) = default;
};

struct NoSerialize {
  int v = 0;
};

template <class T>
T round_trip(const T& value) {
  return dagflow::from_bytes<T>(dagflow::to_bytes(value));
}
}  // namespace

// Standard types and user types with serialize() come back equal.
TEST_CASE("Serialization: standard and user values round-trip", "[graph][serialization]") {
  CHECK(round_trip(42) == 42);
  CHECK(round_trip(-0.5) == -0.5);
  CHECK(round_trip(std::string("hello\0world", 11)) == std::string("hello\0world", 11));
  const std::map<std::string, std::vector<double>> counts{{"a", {1, 2}}, {"b", {}}};
  CHECK(round_trip(counts) == counts);
  const std::vector<std::pair<std::string, long>> top{{"x", 3}, {"y", 1}};
  CHECK(round_trip(top) == top);
  CHECK(round_trip(std::optional<int>{}) == std::nullopt);
  CHECK(round_trip(std::optional<int>{7}) == 7);
  CHECK(round_trip(std::tuple<int, std::string>{1, "z"}) == std::tuple<int, std::string>{1, "z"});
  CHECK(round_trip(std::vector<Point>{{1, 2}, {3, 4}}) == std::vector<Point>{{1, 2}, {3, 4}});
  CHECK(round_trip(std::vector<int>{}).empty());
}

// The trait recurses into std containers instead of trusting cereal's (which would hard-fail).
TEST_CASE("Serialization: Serializable is true exactly for serialisable types",
          "[graph][serialization]") {
  STATIC_REQUIRE(dagflow::Serializable<int>);
  STATIC_REQUIRE(dagflow::Serializable<std::map<std::string, std::vector<Point>>>);
  STATIC_REQUIRE_FALSE(dagflow::Serializable<NoSerialize>);
  STATIC_REQUIRE_FALSE(dagflow::Serializable<std::vector<NoSerialize>>);
  STATIC_REQUIRE_FALSE(dagflow::Serializable<std::map<int, std::vector<NoSerialize>>>);
  STATIC_REQUIRE_FALSE(dagflow::Serializable<std::vector<std::unique_ptr<int>>>);
  STATIC_REQUIRE_FALSE(dagflow::Serializable<std::pair<int, NoSerialize>>);
}

// Short, garbled or overlong bytes are an error, never a crash or a half-filled value.
TEST_CASE("Serialization: malformed bytes are rejected", "[graph][serialization]") {
  const std::string bytes = dagflow::to_bytes(std::vector<std::string>{"alpha", "beta"});
  CHECK_THROWS_AS(dagflow::from_bytes<std::vector<std::string>>(bytes.substr(0, bytes.size() - 1)),
                  dagflow::Error);
  CHECK_THROWS_AS(dagflow::from_bytes<std::vector<std::string>>(bytes + "x"), dagflow::Error);
  CHECK_THROWS_AS(dagflow::from_bytes<int>(""), dagflow::Error);
}

// Fingerprints tell types apart and are stable for a type.
TEST_CASE("Serialization: type fingerprints tell types apart and are stable",
          "[graph][serialization]") {
  CHECK(dagflow::type_fingerprint<int>() == dagflow::type_fingerprint<int>());
  CHECK(dagflow::type_fingerprint<int>() != dagflow::type_fingerprint<long>());
  CHECK(dagflow::type_fingerprint<std::vector<int>>() !=
        dagflow::type_fingerprint<std::vector<unsigned>>());
}

// Types with cereal serialisation are Hashable through their bytes, alone and inside containers.
TEST_CASE("Serialization: serialisable user types are Hashable", "[graph][serialization]") {
  STATIC_REQUIRE(dagflow::Hashable<Point>);
  STATIC_REQUIRE(dagflow::Hashable<std::vector<Point>>);
  STATIC_REQUIRE_FALSE(dagflow::Hashable<NoSerialize>);
  CHECK(dagflow::hash_value(Point{1, 2}) == dagflow::hash_value(Point{1, 2}));
  CHECK(dagflow::hash_value(Point{1, 2}) != dagflow::hash_value(Point{2, 1}));
  CHECK(dagflow::hash_value(std::vector<Point>{{1, 2}}) !=
        dagflow::hash_value(std::vector<Point>{{1, 3}}));
}
