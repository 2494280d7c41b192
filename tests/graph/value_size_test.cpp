#include <dagflow/graph/value_size.hpp>

// Tests of ValueSize, the byte counts the memory cache budgets with: which types are Sizeable,
// and what the built-in specialisations count for scalars, strings and nested containers.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace {

struct Opaque {
  int x;
};

struct Blob {
  std::vector<char> bytes;
};

enum class Colour : std::uint8_t { kRed };

template <class T>
std::size_t size_of(const T& v) {
  return dagflow::ValueSize<T>::bytes(v);
}

}  // namespace

// A user type is sizeable once it specialises ValueSize.
template <>
struct dagflow::ValueSize<Blob> {
  static std::size_t bytes(const Blob& b) { return sizeof b + b.bytes.capacity(); }
};

// Exactly the documented types are Sizeable: scalars, strings, std containers of sizeable
// types, and user types with a specialisation; a container of an unsizeable type is not.
TEST_CASE("ValueSize: Sizeable is true exactly for the documented types", "[graph][memory]") {
  STATIC_REQUIRE(dagflow::Sizeable<int>);
  STATIC_REQUIRE(dagflow::Sizeable<double>);
  STATIC_REQUIRE(dagflow::Sizeable<Colour>);
  STATIC_REQUIRE(dagflow::Sizeable<std::string>);
  STATIC_REQUIRE(dagflow::Sizeable<std::vector<std::string>>);
  STATIC_REQUIRE(dagflow::Sizeable<std::array<long, 3>>);
  STATIC_REQUIRE(dagflow::Sizeable<std::optional<std::string>>);
  STATIC_REQUIRE(dagflow::Sizeable<std::pair<int, std::string>>);
  STATIC_REQUIRE(dagflow::Sizeable<std::tuple<int, double, std::string>>);
  STATIC_REQUIRE(dagflow::Sizeable<std::map<std::string, std::vector<int>>>);
  STATIC_REQUIRE(dagflow::Sizeable<std::unordered_map<int, std::string>>);
  STATIC_REQUIRE(dagflow::Sizeable<Blob>);
  STATIC_REQUIRE(dagflow::Sizeable<std::vector<Blob>>);
  STATIC_REQUIRE_FALSE(dagflow::Sizeable<Opaque>);
  STATIC_REQUIRE_FALSE(dagflow::Sizeable<std::vector<Opaque>>);
  STATIC_REQUIRE_FALSE(dagflow::Sizeable<std::pair<int, Opaque>>);
  STATIC_REQUIRE_FALSE(dagflow::Sizeable<std::map<std::string, Opaque>>);
  STATIC_REQUIRE_FALSE(dagflow::Sizeable<std::unique_ptr<int>>);
  STATIC_REQUIRE_FALSE(dagflow::Sizeable<int*>);
}

// Scalars count their own size; strings their object plus their heap capacity.
TEST_CASE("ValueSize: scalars count their size, strings their capacity too", "[graph][memory]") {
  CHECK(size_of(7) == sizeof(int));
  CHECK(size_of(2.5) == sizeof(double));
  CHECK(size_of(Colour::kRed) == 1);
  std::string s;
  s.reserve(1000);
  CHECK(size_of(s) == sizeof s + s.capacity());
  CHECK(s.capacity() >= 1000);
}

// Containers add up their elements; vectors of scalars also count their unused capacity.
TEST_CASE("ValueSize: containers add up their elements", "[graph][memory]") {
  std::vector<int> ints{1, 2, 3};
  ints.reserve(10);
  REQUIRE(ints.capacity() >= 10);
  CHECK(size_of(ints) == sizeof ints + ints.capacity() * sizeof(int));

  std::vector<std::string> words{std::string(100, 'a'), std::string(200, 'b')};
  CHECK(size_of(words) == sizeof words + (words.capacity() - 2) * sizeof(std::string) +
                              size_of(words[0]) + size_of(words[1]));

  CHECK(size_of(std::array<long, 3>{}) == 3 * sizeof(long));
  CHECK(size_of(std::pair<int, double>{1, 2.0}) == sizeof(int) + sizeof(double));
  CHECK(size_of(std::tuple<int, char, double>{}) == sizeof(int) + sizeof(char) + sizeof(double));
  CHECK(size_of(Blob{std::vector<char>(5000)}) == sizeof(Blob) + 5000);
  CHECK(size_of(std::vector<Blob>{Blob{std::vector<char>(10)}}) ==
        sizeof(std::vector<Blob>) + sizeof(Blob) + 10);
}

// An empty optional costs its own size; a full one also what its value holds on the heap.
TEST_CASE("ValueSize: optionals count their value only when present", "[graph][memory]") {
  const std::optional<std::string> none;
  CHECK(size_of(none) == sizeof none);
  const std::optional<std::string> some(std::string(500, 'x'));
  CHECK(size_of(some) == sizeof some + some->capacity());
}

// Maps count each key and value plus a fixed per-node overhead (and buckets, when hashed).
TEST_CASE("ValueSize: maps count keys, values and node overhead", "[graph][memory]") {
  const std::map<int, double> m{{1, 1.0}, {2, 2.0}};
  CHECK(size_of(m) ==
        sizeof m + 2 * (sizeof(int) + sizeof(double) + dagflow::detail::kNodeOverheadBytes));
  const std::unordered_map<int, int> u{{1, 1}, {2, 2}, {3, 3}};
  CHECK(size_of(u) == sizeof u + u.bucket_count() * sizeof(void*) +
                          3 * (2 * sizeof(int) + dagflow::detail::kNodeOverheadBytes));
  CHECK(size_of(std::map<std::string, int>{}) == sizeof(std::map<std::string, int>));
}
