// The ValueConvert specialisations declared in <dagflow/nodes/value.hpp>, which includes this
// header at its end (include that one, not this). Stateless: every function is thread-safe.
//
// Conversions from a Value return a reference into it where the Value holds exactly the asked
// type (Value, std::string, std::string_view, PathValue, Value::List, Value::Map) and a new
// object otherwise. Containers convert element by element and name the element that failed:
// "expected list of int, got list with a string at [3]".
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace dagflow {

namespace detail {

/// Throws ValueError "expected <expected>, got <kind of got>".
[[noreturn]] void throw_wrong_kind(std::string_view expected, const Value& got);

/// Throws ValueError "value <got> out of range for <type>".
[[noreturn]] void throw_out_of_range(const Value& got, std::string_view type);

/// Throws ValueError "expected <expected>, got a list of <size> item(s)" for a std::pair.
[[noreturn]] void throw_wrong_pair_size(std::string_view expected, std::size_t size);

/// To be called while a ValueError from converting one element of a container is handled:
/// throws a ValueError about the whole container, `expected` being its type name and `location`
/// the element's place in it ("[3]", "[\"key\"]"). The location of an error in a nested
/// container is kept ("[3][0]"), and a wrong kind reads "expected list of int, got list with a
/// string at [3]"; other reasons read "expected list of int: at [3]: <reason>".
[[noreturn]] void rethrow_element_error(std::string_view expected, ValueKind container,
                                        std::string location);

/// "[3]"
[[nodiscard]] std::string list_location(std::size_t index);

/// "[\"key\"]" (the key quoted as a JSON string).
[[nodiscard]] std::string map_location(std::string_view key);

/// An integer type's name in messages: "int8", "uint16", "int32", "uint64"...
template <class I>
[[nodiscard]] std::string integer_type_name() {
  return (std::is_signed_v<I> ? std::string("int") : std::string("uint")) +
         std::to_string(sizeof(I) * 8);
}

// Whether `i` is a value of I (std::in_range, which rejects the character types).
template <class I>
[[nodiscard]] constexpr bool int_fits(std::int64_t i) noexcept {
  if constexpr (std::is_signed_v<I>) {
    return i >= static_cast<std::int64_t>(std::numeric_limits<I>::min()) &&
           i <= static_cast<std::int64_t>(std::numeric_limits<I>::max());
  } else {
    return i >= 0 && static_cast<std::uint64_t>(i) <= std::numeric_limits<I>::max();
  }
}

template <class T>
concept NonBoolInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Calls f(i, element) for each element of a list in either form, while f returns true: a boxed
// list's elements as they are, a typed array's made one at a time (scalars), never all boxed.
template <class F>
void for_each_element(const Value& list, F&& f) {
  const auto each = [&](const auto& numbers) {
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      if (!f(i, Value(numbers[i]))) return;
    }
  };
  if (const auto* ints = list.ints()) {
    each(*ints);
  } else if (const auto* doubles = list.doubles()) {
    each(*doubles);
  } else {
    const Value::List& items = list.as_list();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!f(i, items[i])) return;
    }
  }
}

// Converts every element of a list; the error names the element that failed. The type name is
// built only for an error.
template <class Out, class Element>
Out list_from(const Value& v, std::string (*type_name)()) {
  if (v.kind() != ValueKind::kList) throw_wrong_kind(type_name(), v);
  Out out;
  out.reserve(v.list_size());
  for_each_element(v, [&](std::size_t i, const Value& x) {
    try {
      out.push_back(ValueConvert<Element>::from(x));
    } catch (const ValueError&) {
      rethrow_element_error(type_name(), ValueKind::kList, list_location(i));
    }
    return true;
  });
  return out;
}

template <class Element>
bool list_accepts(const Value& v) {
  if (v.kind() != ValueKind::kList) return false;
  bool all = true;
  for_each_element(v, [&](std::size_t, const Value& x) {
    all = ValueConvert<Element>::accepts(x);
    return all;
  });
  return all;
}

// A std::vector of these becomes a typed array (Value::int_array, Value::double_array).
template <class T>
concept ArrayNumber = NonBoolInteger<T> || std::is_floating_point_v<T>;

// `items` as a typed array: moved when it is already the array's vector, else copied (an
// unsigned value above INT64_MAX is a ValueError, as for a single one).
template <ArrayNumber T, class A>
Value to_array(std::vector<T, A>&& items) {
  if constexpr (std::is_same_v<std::vector<T, A>, std::vector<std::int64_t>>) {
    return Value::int_array(std::move(items));
  } else if constexpr (std::is_same_v<std::vector<T, A>, std::vector<double>>) {
    return Value::double_array(std::move(items));
  } else if constexpr (std::is_floating_point_v<T>) {
    return Value::double_array(std::vector<double>(items.begin(), items.end()));
  } else {
    std::vector<std::int64_t> ints;
    ints.reserve(items.size());
    for (const T x : items) ints.push_back(Value(x).as_int());  // Value(x) checks the range
    return Value::int_array(std::move(ints));
  }
}

// A typed array's numbers as a std::vector<T> in one copy (no boxing); nullopt for another
// Value. Element errors read as list_from's.
template <ArrayNumber T, class A>
std::optional<std::vector<T, A>> from_array(const Value& v, std::string (*type_name)()) {
  const auto copy = [&](const auto& numbers) {
    std::vector<T, A> out;
    out.reserve(numbers.size());
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      using N = std::decay_t<decltype(numbers[i])>;
      if constexpr (std::is_same_v<N, T> || std::is_floating_point_v<T>) {
        out.push_back(static_cast<T>(numbers[i]));
      } else {
        try {
          out.push_back(ValueConvert<T>::from(Value(numbers[i])));
        } catch (const ValueError&) {
          rethrow_element_error(type_name(), ValueKind::kList, list_location(i));
        }
      }
    }
    return out;
  };
  if (const auto* ints = v.ints()) return copy(*ints);
  if (const auto* doubles = v.doubles(); doubles != nullptr && std::is_floating_point_v<T>) {
    return copy(*doubles);
  }
  return std::nullopt;
}

}  // namespace detail

// ---- Value itself and its alternatives -------------------------------------------------------

/// Any Value, as it is (a reference into the converted Value).
template <>
struct ValueConvert<Value> {
  static const Value& from(const Value& v) noexcept { return v; }
  static Value to(Value v) noexcept { return v; }
  static bool accepts(const Value&) noexcept { return true; }
  static std::string type_name() { return "any"; }
};

/// A list of any Values, as it is (a reference into the converted Value).
template <>
struct ValueConvert<Value::List> {
  static const Value::List& from(const Value& v) { return v.as_list(); }
  static Value to(Value::List list) noexcept { return Value(std::move(list)); }
  static bool accepts(const Value& v) noexcept { return v.kind() == ValueKind::kList; }
  static std::string type_name() { return "list"; }
};

/// A map of any Values, as it is (a reference into the converted Value).
template <>
struct ValueConvert<Value::Map> {
  static const Value::Map& from(const Value& v) { return v.as_map(); }
  static Value to(Value::Map map) noexcept { return Value(std::move(map)); }
  static bool accepts(const Value& v) noexcept { return v.kind() == ValueKind::kMap; }
  static std::string type_name() { return "map"; }
};

/// A path Value with both its forms (a reference into the converted Value).
template <>
struct ValueConvert<PathValue> {
  static const PathValue& from(const Value& v) { return v.as_path(); }
  static Value to(PathValue p) noexcept { return Value(std::move(p)); }
  static bool accepts(const Value& v) noexcept { return v.kind() == ValueKind::kPath; }
  static std::string type_name() { return "path"; }
};

// ---- Scalars -------------------------------------------------------------------------------

/// true or false; no other kind converts.
template <>
struct ValueConvert<bool> {
  static bool from(const Value& v) { return v.as_bool(); }
  static Value to(bool b) noexcept { return Value(b); }
  static bool accepts(const Value& v) noexcept { return v.kind() == ValueKind::kBool; }
  static std::string type_name() { return "bool"; }
};

/// Every integer type but bool. Only an int Value converts (a double does not, even 2.0), and
/// only when it fits in I ("value 300 out of range for uint8"). `to` throws ValueError for an
/// unsigned value above INT64_MAX.
template <class I>
requires detail::NonBoolInteger<I>
struct ValueConvert<I> {
  static I from(const Value& v) {
    if (v.kind() != ValueKind::kInt) detail::throw_wrong_kind(type_name(), v);
    const std::int64_t i = v.as_int();
    if (!detail::int_fits<I>(i)) detail::throw_out_of_range(v, detail::integer_type_name<I>());
    return static_cast<I>(i);
  }
  static Value to(I i) { return Value(i); }
  static bool accepts(const Value& v) noexcept {
    return v.kind() == ValueKind::kInt && detail::int_fits<I>(v.as_int());
  }
  static std::string type_name() { return "int"; }
};

/// An int or a double Value (an int is converted).
template <>
struct ValueConvert<double> {
  static double from(const Value& v) {
    if (!v.is_number()) detail::throw_wrong_kind(type_name(), v);
    return v.as_double();
  }
  static Value to(double d) noexcept { return Value(d); }
  static bool accepts(const Value& v) noexcept { return v.is_number(); }
  static std::string type_name() { return "number"; }
};

/// An int or a double Value that fits in a float (NaN and infinities do; 1e300 does not).
template <>
struct ValueConvert<float> {
  static float from(const Value& v) {
    if (!v.is_number()) detail::throw_wrong_kind(type_name(), v);
    const double d = v.as_double();
    if (!fits(d)) detail::throw_out_of_range(v, "float");
    return static_cast<float>(d);
  }
  static Value to(float f) noexcept { return Value(static_cast<double>(f)); }
  static bool accepts(const Value& v) noexcept { return v.is_number() && fits(v.as_double()); }
  static std::string type_name() { return "number"; }

 private:
  static bool fits(double d) noexcept {
    return !std::isfinite(d) ||
           std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max());
  }
};

/// A string Value only (a reference into the converted Value).
template <>
struct ValueConvert<std::string> {
  static const std::string& from(const Value& v) {
    if (v.kind() != ValueKind::kString) detail::throw_wrong_kind(type_name(), v);
    return v.as_string();
  }
  static Value to(std::string s) noexcept { return Value(std::move(s)); }
  static bool accepts(const Value& v) noexcept { return v.kind() == ValueKind::kString; }
  static std::string type_name() { return "string"; }
};

/// A string Value only (a view of the converted Value's characters).
template <>
struct ValueConvert<std::string_view> {
  static std::string_view from(const Value& v) { return ValueConvert<std::string>::from(v); }
  static Value to(std::string_view s) { return Value(s); }
  static bool accepts(const Value& v) noexcept { return v.kind() == ValueKind::kString; }
  static std::string type_name() { return "string"; }
};

/// String literals and C strings convert to a string Value (one way only).
template <>
struct ValueConvert<const char*> {
  static Value to(const char* s) { return Value(s); }
};
template <std::size_t N>
struct ValueConvert<char[N]> {
  static Value to(const char* s) { return Value(s); }
};

/// A path Value (its `resolved` form) or a string Value (taken as a path). `to` makes a path
/// Value shown as the path itself.
template <>
struct ValueConvert<std::filesystem::path> {
  static std::filesystem::path from(const Value& v) {
    if (v.kind() == ValueKind::kPath) return v.as_path().resolved;
    if (v.kind() == ValueKind::kString) return std::filesystem::path(v.as_string());
    detail::throw_wrong_kind(type_name(), v);
  }
  static Value to(std::filesystem::path p) { return Value::path(std::move(p)); }
  static bool accepts(const Value& v) noexcept {
    return v.kind() == ValueKind::kPath || v.kind() == ValueKind::kString;
  }
  static std::string type_name() { return "path"; }
};

// ---- Containers ------------------------------------------------------------------------------

/// A list Value whose every element converts to T ("list of int").
/// A std::vector of integers (not bool) or of floating point converts to a typed array (see
/// Value::int_array) and back from one in one copy, never a Value per element.
template <class T, class A>
requires ValueConvertible<T>
struct ValueConvert<std::vector<T, A>> {
  static std::vector<T, A> from(const Value& v) {
    if constexpr (detail::ArrayNumber<T>) {
      if (auto numbers = detail::from_array<T, A>(v, &type_name)) return std::move(*numbers);
    }
    return detail::list_from<std::vector<T, A>, T>(v, &type_name);
  }
  static Value to(const std::vector<T, A>& items) {
    if constexpr (detail::ArrayNumber<T>) return detail::to_array(std::vector<T, A>(items));
    Value::List list;
    list.reserve(items.size());
    for (const auto& x : items) list.push_back(ValueConvert<T>::to(x));
    return Value(std::move(list));
  }
  static Value to(std::vector<T, A>&& items) {
    if constexpr (detail::ArrayNumber<T>) return detail::to_array(std::move(items));
    Value::List list;
    list.reserve(items.size());
    // auto&&: std::vector<bool> hands out proxies, not references.
    for (auto&& x : items) list.push_back(ValueConvert<T>::to(std::move(x)));
    return Value(std::move(list));
  }
  static bool accepts(const Value& v) { return detail::list_accepts<T>(v); }
  static std::string type_name() { return "list of " + ValueConvert<T>::type_name(); }
};

/// A map Value whose every value converts to T ("map of int").
template <class T, class C, class A>
requires ValueConvertible<T>
struct ValueConvert<std::map<std::string, T, C, A>> {
  using Target = std::map<std::string, T, C, A>;

  static Target from(const Value& v) {
    if (v.kind() != ValueKind::kMap) detail::throw_wrong_kind(type_name(), v);
    Target out;
    for (const auto& [key, x] : v.as_map()) {
      try {
        out.emplace_hint(out.end(), key, ValueConvert<T>::from(x));
      } catch (const ValueError&) {
        detail::rethrow_element_error(type_name(), ValueKind::kMap, detail::map_location(key));
      }
    }
    return out;
  }
  static Value to(const Target& items) {
    Value::Map map;
    for (const auto& [key, x] : items) map.emplace(key, ValueConvert<T>::to(x));
    return Value(std::move(map));
  }
  static Value to(Target&& items) {
    Value::Map map;
    while (!items.empty()) {
      auto node = items.extract(items.begin());
      map.emplace(std::move(node.key()), ValueConvert<T>::to(std::move(node.mapped())));
    }
    return Value(std::move(map));
  }
  static bool accepts(const Value& v) {
    if (v.kind() != ValueKind::kMap) return false;
    for (const auto& entry : v.as_map()) {
      if (!ValueConvert<T>::accepts(entry.second)) return false;
    }
    return true;
  }
  static std::string type_name() { return "map of " + ValueConvert<T>::type_name(); }
};

/// A list Value of exactly two elements ("pair of int and string").
template <class A, class B>
requires ValueConvertible<A> && ValueConvertible<B>
struct ValueConvert<std::pair<A, B>> {
  static std::pair<A, B> from(const Value& v) {
    if (v.kind() != ValueKind::kList) detail::throw_wrong_kind(type_name(), v);
    const Value::List& list = v.as_list();
    if (list.size() != 2) detail::throw_wrong_pair_size(type_name(), list.size());
    return {element<A>(list, 0), element<B>(list, 1)};
  }
  static Value to(const std::pair<A, B>& p) {
    return Value(Value::List{ValueConvert<A>::to(p.first), ValueConvert<B>::to(p.second)});
  }
  static Value to(std::pair<A, B>&& p) {
    return Value(Value::List{ValueConvert<A>::to(std::move(p.first)),
                             ValueConvert<B>::to(std::move(p.second))});
  }
  static bool accepts(const Value& v) {
    return v.kind() == ValueKind::kList && v.as_list().size() == 2 &&
           ValueConvert<A>::accepts(v.as_list()[0]) && ValueConvert<B>::accepts(v.as_list()[1]);
  }
  static std::string type_name() {
    return "pair of " + ValueConvert<A>::type_name() + " and " + ValueConvert<B>::type_name();
  }

 private:
  template <class E>
  static E element(const Value::List& list, std::size_t i) {
    try {
      return E(ValueConvert<E>::from(list[i]));
    } catch (const ValueError&) {
      detail::rethrow_element_error(type_name(), ValueKind::kList, detail::list_location(i));
    }
  }
};

/// null (no value) or a Value that converts to T ("int or null").
template <class T>
requires ValueConvertible<T>
struct ValueConvert<std::optional<T>> {
  /// T's own error when `v` is neither null nor a T.
  static std::optional<T> from(const Value& v) {
    if (v.is_null()) return std::nullopt;
    return std::optional<T>(ValueConvert<T>::from(v));
  }
  static Value to(const std::optional<T>& o) { return o ? ValueConvert<T>::to(*o) : Value(); }
  static Value to(std::optional<T>&& o) { return o ? ValueConvert<T>::to(std::move(*o)) : Value(); }
  static bool accepts(const Value& v) { return v.is_null() || ValueConvert<T>::accepts(v); }
  static std::string type_name() { return ValueConvert<T>::type_name() + " or null"; }
};

}  // namespace dagflow
