// ValueSize<T>: how many bytes a value holds, for the memory cache's budget. Built in for
// arithmetic types, enums, std::string, and std vectors, arrays, maps, unordered maps, pairs,
// tuples and optionals of sizeable types; specialise it for your own.
// Thread-safety: the traits are stateless; bytes() only reads the value.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dagflow {

/// Primary template: not sizeable. Specialise with `static std::size_t bytes(const T&)`, the
/// bytes the value holds (its own size included):
///
///   template <> struct dagflow::ValueSize<Image> {
///     static std::size_t bytes(const Image& im) { return sizeof im + im.pixels.capacity(); }
///   };
///
/// A type with no ValueSize is never retained by the memory cache (it is still computed, passed
/// on and freed as usual).
template <class T, class Enable = void>
struct ValueSize;

/// True when ValueSize<T> is usable.
template <class T>
concept Sizeable = requires(const T& v) {
  { ValueSize<T>::bytes(v) } -> std::convertible_to<std::size_t>;
};

// ---- implementation: the built-in ValueSize specialisations ------------------------------------

namespace detail {
// A tree or hash node costs about this much beyond its key and value.
inline constexpr std::size_t kNodeOverheadBytes = 32;
}  // namespace detail

template <class T>
struct ValueSize<T, std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>>> {
  static std::size_t bytes(const T&) { return sizeof(T); }
};

template <>
struct ValueSize<std::string> {
  static std::size_t bytes(const std::string& s) { return sizeof(std::string) + s.capacity(); }
};

template <class T>
requires Sizeable<T>
struct ValueSize<std::vector<T>> {
  static std::size_t bytes(const std::vector<T>& v) {
    std::size_t total = sizeof v + (v.capacity() - v.size()) * sizeof(T);
    if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
      total += v.size() * sizeof(T);
    } else {
      for (const T& x : v) total += ValueSize<T>::bytes(x);
    }
    return total;
  }
};

template <class T, std::size_t N>
requires Sizeable<T>
struct ValueSize<std::array<T, N>> {
  static std::size_t bytes(const std::array<T, N>& a) {
    std::size_t total = 0;
    for (const T& x : a) total += ValueSize<T>::bytes(x);
    return total;
  }
};

template <class T>
requires Sizeable<T>
struct ValueSize<std::optional<T>> {
  static std::size_t bytes(const std::optional<T>& o) {
    return sizeof o + (o ? ValueSize<T>::bytes(*o) - sizeof(T) : 0);
  }
};

template <class A, class B>
requires Sizeable<A> && Sizeable<B>
struct ValueSize<std::pair<A, B>> {
  static std::size_t bytes(const std::pair<A, B>& p) {
    return ValueSize<A>::bytes(p.first) + ValueSize<B>::bytes(p.second);
  }
};

template <class... Ts>
requires(Sizeable<Ts>&&...) struct ValueSize<std::tuple<Ts...>> {
  static std::size_t bytes(const std::tuple<Ts...>& t) {
    return std::apply(
        [](const Ts&... x) { return (std::size_t{0} + ... + ValueSize<Ts>::bytes(x)); }, t);
  }
};

template <class K, class V>
requires Sizeable<K> && Sizeable<V>
struct ValueSize<std::map<K, V>> {
  static std::size_t bytes(const std::map<K, V>& m) {
    std::size_t total = sizeof m;
    for (const auto& [k, v] : m) {
      total += ValueSize<K>::bytes(k) + ValueSize<V>::bytes(v) + detail::kNodeOverheadBytes;
    }
    return total;
  }
};

template <class K, class V>
requires Sizeable<K> && Sizeable<V>
struct ValueSize<std::unordered_map<K, V>> {
  static std::size_t bytes(const std::unordered_map<K, V>& m) {
    std::size_t total = sizeof m + m.bucket_count() * sizeof(void*);
    for (const auto& [k, v] : m) {
      total += ValueSize<K>::bytes(k) + ValueSize<V>::bytes(v) + detail::kNodeOverheadBytes;
    }
    return total;
  }
};

}  // namespace dagflow
