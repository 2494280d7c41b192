// The built-in ops, split by theme (one add_*_ops per ops_*.cpp), and the argument types they
// share: paths that keep their two forms, text or file, numbers of either kind (whole-file reads
// and writes are in file_io.hpp). Everything here is stateless or per-call, so ops may run on any
// number of threads at once.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "file_io.hpp"

namespace dagflow {

// Each registers its ops in `ops` (see OpRegistry::builtins).
void add_text_ops(OpRegistry& ops);
void add_number_ops(OpRegistry& ops);
void add_file_ops(OpRegistry& ops);
void add_csv_ops(OpRegistry& ops);
void add_table_ops(OpRegistry& ops);
void add_image_ops(OpRegistry& ops);
void add_shell_ops(OpRegistry& ops);

namespace detail {

/// A file an op reads or writes, as the op was given it: a path Value (from glob, or an output
/// argument the loader resolved) or a string (relative to the pipeline's directory). `path` is
/// what to open once resolved with OpContext::input_path / output_path; `shown` names it in
/// messages and results.
struct FileArg {
  std::filesystem::path path;
  std::string shown;
};

/// An op's text input: either the text itself (a string) or a file to read (a path).
struct TextOrFile {
  Value value;
};

/// A number (int or double) that keeps its kind, as an input or a result.
struct Number {
  Value value;
};

/// A list of numbers in either form (a typed array or a boxed list), read in place: what sum and
/// mean take. Valid while the Value it was converted from is.
struct Numbers {
  const Value* list;
};

/// read_file (file_io.hpp) of `file`, resolved against the pipeline's directory.
[[nodiscard]] inline std::string read_file(const OpContext& ctx, const FileArg& file) {
  return read_file(ctx.input_path(file.path), file.shown);
}

/// write_file_atomically (file_io.hpp) of `file`: the path written, as a PathValue so that the
/// writers' result type is "path".
inline PathValue write_file_atomically(const OpContext& ctx, const FileArg& file,
                                       std::string_view bytes) {
  return write_file_atomically(ctx, file.path, file.shown, bytes).as_path();
}

}  // namespace detail

template <>
struct ValueConvert<detail::FileArg> {
  static detail::FileArg from(const Value& v);
  static bool accepts(const Value& v) noexcept {
    return v.kind() == ValueKind::kPath || v.kind() == ValueKind::kString;
  }
  static std::string type_name() { return "path"; }
};

template <>
struct ValueConvert<detail::TextOrFile> {
  static detail::TextOrFile from(const Value& v);
  static bool accepts(const Value& v) noexcept {
    return v.kind() == ValueKind::kPath || v.kind() == ValueKind::kString;
  }
  static std::string type_name() { return "string or path"; }
};

template <>
struct ValueConvert<detail::Number> {
  static detail::Number from(const Value& v);
  static Value to(detail::Number n) noexcept { return std::move(n.value); }
  static bool accepts(const Value& v) noexcept { return v.is_number(); }
  static std::string type_name() { return "number"; }
};

/// "list of number": a list whose every element is an int or a double (named on error).
template <>
struct ValueConvert<detail::Numbers> {
  static detail::Numbers from(const Value& v);
  static bool accepts(const Value& v) {
    return ValueConvert<std::vector<detail::Number>>::accepts(v);
  }
  static std::string type_name() { return ValueConvert<std::vector<detail::Number>>::type_name(); }
};

}  // namespace dagflow
