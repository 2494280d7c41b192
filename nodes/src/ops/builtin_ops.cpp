// OpRegistry::builtins and the argument types the built-in ops share (builtin_ops.hpp).
#include "builtin_ops.hpp"

#include <string>
#include <vector>

#include <dagflow/graph/errors.hpp>

namespace dagflow {

namespace fs = std::filesystem;

OpRegistry OpRegistry::builtins() {
  // Built once: copying a registry only shares its functions.
  static const OpRegistry kBuiltins = [] {
    OpRegistry ops;
    add_text_ops(ops);
    add_number_ops(ops);
    add_file_ops(ops);
    add_csv_ops(ops);
    add_table_ops(ops);
    add_image_ops(ops);
    add_shell_ops(ops);
    return ops;
  }();
  return kBuiltins;
}

detail::FileArg ValueConvert<detail::FileArg>::from(const Value& v) {
  if (v.kind() == ValueKind::kPath) {
    const PathValue& p = v.as_path();
    return {p.resolved, p.shown.empty() ? p.resolved.string() : p.shown};
  }
  if (v.kind() == ValueKind::kString) return {fs::path(v.as_string()), v.as_string()};
  detail::throw_wrong_kind(type_name(), v);
}

detail::TextOrFile ValueConvert<detail::TextOrFile>::from(const Value& v) {
  if (!accepts(v)) detail::throw_wrong_kind(type_name(), v);
  return {v};
}

detail::Number ValueConvert<detail::Number>::from(const Value& v) {
  if (!v.is_number()) detail::throw_wrong_kind(type_name(), v);
  return {v};
}

detail::Numbers ValueConvert<detail::Numbers>::from(const Value& v) {
  if (v.kind() != ValueKind::kList) detail::throw_wrong_kind(type_name(), v);
  if (v.is_array()) return {&v};  // numbers by construction
  const Value::List& list = v.as_list();
  for (std::size_t i = 0; i < list.size(); ++i) {
    try {
      if (!list[i].is_number()) detail::throw_wrong_kind("number", list[i]);
    } catch (const ValueError&) {
      detail::rethrow_element_error(type_name(), ValueKind::kList, detail::list_location(i));
    }
  }
  return {&v};
}

}  // namespace dagflow
