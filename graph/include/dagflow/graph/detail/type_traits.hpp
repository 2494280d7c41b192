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

// ForAllElements<Leaf, T>: Leaf<X>::value for every element type X that T holds, looking through
// the standard containers, pairs, tuples and optionals (Leaf<T> itself for anything else).
// Standard containers answer "yes" to most traits whatever their elements are (vector's copy
// constructor is not constrained, cereal's vector save matches any element type), and using the
// answer is then a hard error; asking about the elements gives the real answer.
template <template <class> class Leaf, class T>
struct ForAllElements : Leaf<T> {};

template <template <class> class Leaf, class... Ts>
inline constexpr bool for_all_elements_v = (ForAllElements<Leaf, Ts>::value && ...);

template <template <class> class Leaf, class T, class A>
struct ForAllElements<Leaf, std::vector<T, A>> : std::bool_constant<for_all_elements_v<Leaf, T>> {};
template <template <class> class Leaf, class T, class A>
struct ForAllElements<Leaf, std::deque<T, A>> : std::bool_constant<for_all_elements_v<Leaf, T>> {};
template <template <class> class Leaf, class T, class A>
struct ForAllElements<Leaf, std::list<T, A>> : std::bool_constant<for_all_elements_v<Leaf, T>> {};
template <template <class> class Leaf, class T, std::size_t N>
struct ForAllElements<Leaf, std::array<T, N>> : std::bool_constant<for_all_elements_v<Leaf, T>> {};
template <template <class> class Leaf, class T>
struct ForAllElements<Leaf, std::optional<T>> : std::bool_constant<for_all_elements_v<Leaf, T>> {};
template <template <class> class Leaf, class A, class B>
struct ForAllElements<Leaf, std::pair<A, B>> : std::bool_constant<for_all_elements_v<Leaf, A, B>> {
};
template <template <class> class Leaf, class... Ts>
struct ForAllElements<Leaf, std::tuple<Ts...>>
    : std::bool_constant<for_all_elements_v<Leaf, Ts...>> {};
template <template <class> class Leaf, class K, class V, class C, class A>
struct ForAllElements<Leaf, std::map<K, V, C, A>>
    : std::bool_constant<for_all_elements_v<Leaf, K, V>> {};
template <template <class> class Leaf, class K, class V, class H, class E, class A>
struct ForAllElements<Leaf, std::unordered_map<K, V, H, E, A>>
    : std::bool_constant<for_all_elements_v<Leaf, K, V>> {};
template <template <class> class Leaf, class K, class C, class A>
struct ForAllElements<Leaf, std::set<K, C, A>> : std::bool_constant<for_all_elements_v<Leaf, K>> {};
template <template <class> class Leaf, class K, class H, class E, class A>
struct ForAllElements<Leaf, std::unordered_set<K, H, E, A>>
    : std::bool_constant<for_all_elements_v<Leaf, K>> {};

/// Really copy-constructible (std::is_copy_constructible says yes for vector<unique_ptr<int>>).
template <class T>
inline constexpr bool copyable_v =
    ForAllElements<std::is_copy_constructible, std::remove_cvref_t<T>>::value;

}  // namespace dagflow::detail
