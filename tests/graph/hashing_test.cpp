#include <dagflow/graph/hashing.hpp>

// Tests of Hasher and Hash: equal values hash equal, different ones differently, composites
// unambiguously, floating point normalised, streaming equal to one-shot, XXH3 reference
// values, and which types are Hashable.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace {

struct Point {
  int x = 0;
  int y = 0;
};

struct Opaque {
  int x = 0;
};

}  // namespace

template <>
struct dagflow::Hash<Point> {
  static void add(Hasher& h, const Point& p) { h.add(p.x).add(p.y); }
};

using dagflow::hash_value;

// Hashing is a pure function of the value: equal values, built separately, hash equal.
TEST_CASE("Hasher: equal values hash equal", "[graph][hashing]") {
  CHECK(hash_value(42) == hash_value(42));
  CHECK(hash_value(std::string("load")) == hash_value(std::string("load")));
  CHECK(hash_value(std::string("load")) == hash_value(std::string_view("load")));
  CHECK(hash_value(std::vector<double>{1.5, 2.5}) == hash_value(std::vector<double>{1.5, 2.5}));
  using Nested = std::map<std::string, std::vector<std::optional<int>>>;
  const Nested a{{"x", {1, std::nullopt}}, {"y", {}}};
  const Nested b{{"y", {}}, {"x", {1, std::nullopt}}};
  CHECK(hash_value(a) == hash_value(b));
}

// Values that differ in any element, or in order, give different hashes.
TEST_CASE("Hasher: different values hash differently", "[graph][hashing]") {
  CHECK(hash_value(1) != hash_value(2));
  CHECK(hash_value(std::uint8_t{1}) != hash_value(std::uint8_t{2}));
  CHECK(hash_value(true) != hash_value(false));
  CHECK(hash_value(std::string("load")) != hash_value(std::string("Load")));
  CHECK(hash_value(std::string()) != hash_value(std::string(1, '\0')));
  CHECK(hash_value(std::vector<int>{1, 2, 3}) != hash_value(std::vector<int>{1, 2, 4}));
  CHECK(hash_value(std::vector<int>{}) != hash_value(std::vector<int>{0}));
  CHECK(hash_value(std::map<int, int>{{1, 2}}) != hash_value(std::map<int, int>{{2, 1}}));
  CHECK(hash_value(std::map<std::string, int>{{"a", 1}}) !=
        hash_value(std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  CHECK(hash_value(std::vector<std::vector<int>>{{1, 2}, {3}}) !=
        hash_value(std::vector<std::vector<int>>{{1}, {2, 3}}));
  CHECK(hash_value(std::optional<int>{}) != hash_value(std::optional<int>{0}));
  CHECK(hash_value(std::pair{1, 2}) != hash_value(std::pair{2, 1}));
  CHECK(hash_value(std::tuple{1, std::string("a"), 2.0}) !=
        hash_value(std::tuple{2, std::string("a"), 1.0}));
  CHECK(hash_value(std::array<int, 2>{1, 2}) != hash_value(std::array<int, 2>{2, 1}));
}

// Lengths are part of the hash, so splitting the same characters differently changes it.
TEST_CASE("Hasher: length prefixes keep composites unambiguous", "[graph][hashing]") {
  using Strings = std::vector<std::string>;
  CHECK(hash_value(Strings{"ab", "c"}) != hash_value(Strings{"a", "bc"}));
  CHECK(hash_value(Strings{"abc"}) != hash_value(Strings{"abc", ""}));
  CHECK(hash_value(std::pair<std::string, std::string>{"ab", "c"}) !=
        hash_value(std::pair<std::string, std::string>{"a", "bc"}));
  using Lists = std::tuple<std::vector<int>, std::vector<int>>;
  CHECK(hash_value(Lists{{1, 2}, {3}}) != hash_value(Lists{{1}, {2, 3}}));
}

// Equal floating-point values hash equal even when their bits differ (-0.0, NaN payloads).
TEST_CASE("Hasher: floating point is normalised", "[graph][hashing]") {
  CHECK(hash_value(-0.0) == hash_value(0.0));
  CHECK(hash_value(-0.0F) == hash_value(0.0F));
  CHECK(hash_value(-0.0L) == hash_value(0.0L));
  CHECK(hash_value(std::nan("1")) == hash_value(std::nan("2")));
  CHECK(hash_value(-std::numeric_limits<double>::quiet_NaN()) == hash_value(std::nan("")));
  CHECK(hash_value(std::nanf("7")) == hash_value(std::numeric_limits<float>::quiet_NaN()));
  CHECK(hash_value(std::nanl("3")) == hash_value(-std::numeric_limits<long double>::quiet_NaN()));
  CHECK(hash_value(std::vector<double>{-0.0, std::nan("5")}) ==
        hash_value(std::vector<double>{0.0, std::nan("")}));

  CHECK(hash_value(1.0) != hash_value(-1.0));
  CHECK(hash_value(0.0) != hash_value(std::nan("")));
  CHECK(hash_value(1.5L) == hash_value(1.5L));
  CHECK(hash_value(1.5L) != hash_value(-1.5L));
  CHECK(hash_value(1.0L) != hash_value(1.0L + std::numeric_limits<long double>::epsilon()));
  CHECK(hash_value(std::numeric_limits<long double>::infinity()) !=
        hash_value(-std::numeric_limits<long double>::infinity()));
}

// Feeding bytes in pieces gives the one-shot digest, across xxHash's internal buffer sizes.
TEST_CASE("Hasher: streaming in pieces equals one-shot", "[graph][hashing]") {
  std::vector<unsigned char> bytes(1000);
  std::iota(bytes.begin(), bytes.end(), static_cast<unsigned char>(7));
  const std::size_t piece = GENERATE(1, 3, 64, 255, 256, 999);

  dagflow::Hasher h;
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    h.update(bytes.data() + at, std::min(piece, bytes.size() - at));
  }
  CHECK(h.digest() == dagflow::hash_bytes(bytes.data(), bytes.size()));
  CHECK(h.digest() == h.digest());  // digest() leaves the state as it was

  // A copy goes on from the same prefix, independently of the original.
  dagflow::Hasher fork = h;
  fork.update("x", 1);
  CHECK(fork.digest() != h.digest());
  h.update("x", 1);
  CHECK(fork.digest() == h.digest());
}

// The digests are XXH3 with seed 0: the published test vectors for "" and "abc".
TEST_CASE("Hasher: matches XXH3 reference values", "[graph][hashing]") {
  CHECK(dagflow::Hasher{}.digest().to_hex() == "99aa06d3014798d86001c324468d497f");
  CHECK(dagflow::hash_bytes(nullptr, 0) == dagflow::Hasher{}.digest());
  CHECK(dagflow::hash_bytes("abc", 3).to_hex() == "06b05ab6733a618578af5f94892f3950");
  CHECK(dagflow::hash64_bytes("", 0) == 0x2d06800538d394c2U);
  // Runs of integers are fed in one update; element by element gives the same stream.
  CHECK(hash_value(std::array<int, 3>{1, 2, 3}) == hash_value(std::tuple{1, 2, 3}));
}

// to_hex prints 32 lowercase hex digits, high half first, zero-padded.
TEST_CASE("Hash128: to_hex is high then low, zero-padded lowercase", "[graph][hashing]") {
  CHECK(dagflow::Hash128{}.to_hex() == std::string(32, '0'));
  const dagflow::Hash128 h{.low = 0xABCDEFU, .high = 0x1U};
  CHECK(h.to_hex() == "00000000000000010000000000abcdef");
  CHECK(h == dagflow::Hash128{.low = 0xABCDEFU, .high = 0x1U});
  CHECK(h != dagflow::Hash128{.low = 0xABCDEFU, .high = 0x2U});
}

// Hashable answers false, never a hard error, for types with no Hash, including nested ones.
TEST_CASE("Hasher: Hashable is true exactly for hashable types", "[graph][hashing]") {
  using dagflow::Hashable;
  STATIC_REQUIRE(Hashable<int>);
  STATIC_REQUIRE(Hashable<std::map<std::string, std::vector<double>>>);
  STATIC_REQUIRE(Hashable<std::tuple<bool, std::optional<std::array<Point, 2>>>>);
  STATIC_REQUIRE_FALSE(Hashable<std::vector<std::unique_ptr<int>>>);
  STATIC_REQUIRE_FALSE(Hashable<Opaque>);
  STATIC_REQUIRE_FALSE(Hashable<std::vector<Opaque>>);
  STATIC_REQUIRE_FALSE(Hashable<std::map<std::string, Opaque>>);
  STATIC_REQUIRE_FALSE(Hashable<std::pair<int, Opaque>>);
  STATIC_REQUIRE_FALSE(Hashable<const char*>);  // a pointer's address is no content
}

// A user specialisation works alone and composes inside the built-in containers.
TEST_CASE("Hasher: user specialisations compose inside containers", "[graph][hashing]") {
  CHECK(hash_value(Point{1, 2}) == hash_value(std::pair{1, 2}));
  CHECK(hash_value(Point{1, 2}) != hash_value(Point{2, 1}));
  const std::vector<Point> a{{1, 2}, {3, 4}};
  CHECK(hash_value(a) == hash_value(std::vector<Point>{{1, 2}, {3, 4}}));
  CHECK(hash_value(a) != hash_value(std::vector<Point>{{1, 2}, {3, 5}}));
  dagflow::Hasher h;
  h.add(std::string("points")).add(a);
  CHECK(h.digest() != hash_value(a));
}
