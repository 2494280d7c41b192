// Type traits that see through standard containers. Not API.
#pragma once

#include <array>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dagflow::detail {

// std::is_copy_constructible_v<std::vector<std::unique_ptr<int>>> is true (vector's copy
// constructor is not constrained), and instantiating the copy is then a hard error. This trait
// recurses into the standard containers to give the real answer.
template <class T>
struct Copyable : std::is_copy_constructible<T> {};

template <class... Ts>
inline constexpr bool all_copyable = (Copyable<Ts>::value && ...);

template <class T, class A>
struct Copyable<std::vector<T, A>> : std::bool_constant<all_copyable<T>> {};
template <class T, class A>
struct Copyable<std::deque<T, A>> : std::bool_constant<all_copyable<T>> {};
template <class T, class A>
struct Copyable<std::list<T, A>> : std::bool_constant<all_copyable<T>> {};
template <class T, std::size_t N>
struct Copyable<std::array<T, N>> : std::bool_constant<all_copyable<T>> {};
template <class T>
struct Copyable<std::optional<T>> : std::bool_constant<all_copyable<T>> {};
template <class A, class B>
struct Copyable<std::pair<A, B>> : std::bool_constant<all_copyable<A, B>> {};
template <class... Ts>
struct Copyable<std::tuple<Ts...>> : std::bool_constant<all_copyable<Ts...>> {};
template <class K, class V, class C, class A>
struct Copyable<std::map<K, V, C, A>> : std::bool_constant<all_copyable<K, V>> {};
template <class K, class V, class H, class E, class A>
struct Copyable<std::unordered_map<K, V, H, E, A>> : std::bool_constant<all_copyable<K, V>> {};
template <class K, class C, class A>
struct Copyable<std::set<K, C, A>> : std::bool_constant<all_copyable<K>> {};
template <class K, class H, class E, class A>
struct Copyable<std::unordered_set<K, H, E, A>> : std::bool_constant<all_copyable<K>> {};

template <class T>
inline constexpr bool copyable_v = Copyable<std::remove_cvref_t<T>>::value;

}  // namespace dagflow::detail
