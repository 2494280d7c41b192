// Static checks of the type names ops declare (ValueConvert<T>::type_name(): "int", "path",
// "string or path", "list of path", "map of int", "pair of string and int", "int or null"...),
// for the loader to refuse a node fed what its op cannot take before anything runs.
// Conservative: a check fails only when no value of one type can be a value of the other, and a
// name these functions do not know (a custom ValueConvert's) is read as "any".
// Stateless: every function is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dagflow {

/// Whether some value of type `given` may be taken where type `expected` is. False only when
/// certainly not ("list of path" where "map of int" is taken). "any" goes everywhere, an "int"
/// is a "number" and a "number" may be an int, a "string" is taken as a "path"; lists and maps
/// compare their elements (an empty list of path would convert to a list of int, but a node that
/// relies on that is a mistake too).
[[nodiscard]] bool may_accept(std::string_view expected, std::string_view given);

/// The type of the elements of a value of type `list`: "list of int" -> "int"; "list", "any"
/// and unknown names -> "any". Nullopt when a value of `list` is certainly no list
/// ("map of int").
[[nodiscard]] std::optional<std::string> element_type(std::string_view list);

/// "list of <element>", the type of a list of `element` (as ValueConvert<std::vector<T>> names
/// it).
[[nodiscard]] std::string list_type(std::string_view element);

}  // namespace dagflow
