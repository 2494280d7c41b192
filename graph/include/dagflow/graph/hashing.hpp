// Content hashing for cache keys: a streaming XXH3-128 Hasher and the Hash<T> trait, built in for
// arithmetic types, enums, std::string(_view), and std vectors, arrays, maps, pairs, tuples and
// optionals of hashable types (specialise Hash<T> for your own). Numbers hash as their object
// bytes: share hashes only between machines of one byte order.
// Thread-safety: a Hasher is not thread-safe; the free functions are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace dagflow {

/// A 128-bit hash value.
struct Hash128 {
  std::uint64_t low = 0;   ///< Low 64 bits.
  std::uint64_t high = 0;  ///< High 64 bits.

  /// Equal when both halves are equal.
  friend bool operator==(const Hash128&, const Hash128&) = default;

  /// Returns 32 lowercase hex digits, `high` then `low`. Allocates the string.
  [[nodiscard]] std::string to_hex() const;
};

class Hasher;

/// Primary template: not hashable. Specialise with `static void add(Hasher&, const T&)`, which
/// feeds the value's content to the hasher; composite values must stay unambiguous (for example
/// prefix variable-length parts with their length).
template <class T, class Enable = void>
struct Hash;

/// True when Hash<T> is usable.
template <class T>
concept Hashable = requires(Hasher& h, const T& v) {
  Hash<T>::add(h, v);
};

/// Streaming XXH3-128 with seed 0. Feeding bytes in pieces gives the same digest as feeding them
/// at once. The state lives inline (no allocation); copying a Hasher copies the state, and so
/// does moving one (which is why it declares no move operations).
///
///   dagflow::Hasher h;
///   h.add(std::string("load")).add(std::vector<int>{1, 2, 3});
///   const dagflow::Hash128 key = h.digest();
class Hasher {  // NOLINT(cppcoreguidelines-special-member-functions)
 public:
  /// A fresh state, as if no bytes were fed.
  Hasher() noexcept;
  /// Copies the state, so both hashers go on from the same prefix.
  Hasher(const Hasher& other) noexcept;
  /// Replaces this state with a copy of `other`'s.
  Hasher& operator=(const Hasher& other) noexcept;
  ~Hasher() = default;

  /// Feeds `size` bytes at `data` (which may be null when `size` is 0). O(size).
  void update(const void* data, std::size_t size) noexcept;

  /// Returns the hash of everything fed so far; the state is unchanged, so feeding may go on.
  [[nodiscard]] Hash128 digest() const noexcept;

  /// Feeds `value` through Hash<T>; returns *this for chaining.
  template <class T>
  requires Hashable<T> Hasher& add(const T& value) {
    Hash<T>::add(*this, value);
    return *this;
  }

 private:
  // Room for an XXH3_state_t (xxHash 0.8), kept inline so that <xxhash.h> stays out of this
  // header and construction does not allocate. hashing.cpp checks size and alignment.
  static constexpr std::size_t kStateBytes = 576;
  static constexpr std::size_t kStateAlign = 64;
  alignas(kStateAlign) unsigned char state_[kStateBytes];
};

/// One-shot XXH3-128 of `size` bytes at `data`; same result as a Hasher fed those bytes.
[[nodiscard]] Hash128 hash_bytes(const void* data, std::size_t size) noexcept;

/// One-shot XXH3-64 of `size` bytes at `data`, for checksums.
[[nodiscard]] std::uint64_t hash64_bytes(const void* data, std::size_t size) noexcept;

/// Hash of one value: Hasher{}.add(value).digest().
template <class T>
requires Hashable<T>
[[nodiscard]] Hash128 hash_value(const T& value) {
  Hasher h;
  h.add(value);
  return h.digest();
}

// ---- implementation: the built-in Hash specialisations -----------------------------------------

namespace detail {

// Lengths are fed as 64-bit so that the hash does not depend on the width of size_t.
inline void add_length(Hasher& h, std::size_t n) {
  const auto n64 = static_cast<std::uint64_t>(n);
  h.update(&n64, sizeof n64);
}

// Types whose object bytes are exactly their value, so a run of them can be fed in one update.
// Not bool (std::vector<bool> has no data()) and not floating point (see Hash below).
template <class T>
inline constexpr bool kBytewise =
    (std::is_integral_v<T> && !std::is_same_v<T, bool>) || std::is_enum_v<T>;

// long double keeps 80 value bits in 16 bytes on x86-64; the padding is garbage, so it is fed by
// value instead (sign, exponent, mantissa).
void add_long_double(Hasher& h, long double v) noexcept;

}  // namespace detail

/// Integers, enums and floating point. Floating point is normalised first so that equal values
/// hash equal: -0.0 as 0.0, and every NaN as one quiet NaN.
template <class T>
struct Hash<T, std::enable_if_t<(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) ||
                                std::is_enum_v<T>>> {
  static void add(Hasher& h, const T& value) {
    if constexpr (std::is_same_v<T, long double>) {
      detail::add_long_double(h, value);
    } else if constexpr (std::is_floating_point_v<T>) {
      T v = value;
      if (v == T{0}) v = T{0};
      if (v != v) v = std::numeric_limits<T>::quiet_NaN();  // NaN: unequal to itself
      h.update(&v, sizeof v);
    } else {
      h.update(&value, sizeof value);
    }
  }
};

/// One byte, 0 or 1.
template <>
struct Hash<bool> {
  static void add(Hasher& h, const bool& value) {
    const unsigned char byte = value ? 1 : 0;
    h.update(&byte, 1);
  }
};

/// Length, then the characters.
template <>
struct Hash<std::string_view> {
  static void add(Hasher& h, const std::string_view& s) {
    detail::add_length(h, s.size());
    h.update(s.data(), s.size());
  }
};

/// Same as the equal std::string_view.
template <>
struct Hash<std::string> {
  static void add(Hasher& h, const std::string& s) { Hash<std::string_view>::add(h, s); }
};

/// Length, then the elements (integers and enums in one update).
template <class T>
requires Hashable<T>
struct Hash<std::vector<T>> {
  static void add(Hasher& h, const std::vector<T>& v) {
    detail::add_length(h, v.size());
    if constexpr (detail::kBytewise<T>) {
      h.update(v.data(), v.size() * sizeof(T));
    } else {
      for (const T& x : v) h.add(x);
    }
  }
};

/// The N elements; the length is part of the type, so no prefix.
template <class T, std::size_t N>
requires Hashable<T>
struct Hash<std::array<T, N>> {
  static void add(Hasher& h, const std::array<T, N>& a) {
    if constexpr (detail::kBytewise<T>) {
      h.update(a.data(), N * sizeof(T));
    } else {
      for (const T& x : a) h.add(x);
    }
  }
};

/// Size, then each key and value in key order.
template <class K, class V>
requires Hashable<K> && Hashable<V>
struct Hash<std::map<K, V>> {
  static void add(Hasher& h, const std::map<K, V>& m) {
    detail::add_length(h, m.size());
    for (const auto& [k, v] : m) h.add(k).add(v);
  }
};

/// First, then second.
template <class A, class B>
requires Hashable<A> && Hashable<B>
struct Hash<std::pair<A, B>> {
  static void add(Hasher& h, const std::pair<A, B>& p) { h.add(p.first).add(p.second); }
};

/// The elements in order.
template <class... Ts>
requires(Hashable<Ts>&&...) struct Hash<std::tuple<Ts...>> {
  static void add(Hasher& h, const std::tuple<Ts...>& t) {
    std::apply([&h](const Ts&... x) { (h.add(x), ...); }, t);
  }
};

/// A presence byte (0 or 1), then the value if present.
template <class T>
requires Hashable<T>
struct Hash<std::optional<T>> {
  static void add(Hasher& h, const std::optional<T>& o) {
    h.add(o.has_value());
    if (o) h.add(*o);
  }
};

}  // namespace dagflow
