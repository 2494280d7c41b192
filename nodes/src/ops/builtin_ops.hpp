// The built-in ops, split by theme (one add_*_ops per ops_*.cpp), and what they share: argument
// types that keep a path's two forms, whole-file reads, atomic writes confined to the pipeline's
// directory. Everything here is stateless or per-call, so ops may run on any number of threads at
// once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow {

// Each registers its ops in `ops` (see OpRegistry::builtins).
void add_text_ops(OpRegistry& ops);
void add_number_ops(OpRegistry& ops);
void add_file_ops(OpRegistry& ops);
void add_csv_ops(OpRegistry& ops);
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

/// A number (int or double) that keeps its kind.
struct Number {
  Value value;
};

/// The whole file at `ctx.input_path(file.path)`. Throws Error "cannot read 'SHOWN': REASON"
/// when it cannot be opened or read, or is not a regular file (a FIFO or device could block or
/// never end).
[[nodiscard]] std::string read_file(const OpContext& ctx, const FileArg& file);

/// Writes `bytes` to `ctx.output_path(file.path)` atomically: into a temp file in the same
/// directory (created with O_EXCL | O_NOFOLLOW), then renamed over the target, so readers see
/// the old file or the new one and a symlink at the target is replaced, never followed. Missing
/// parent directories are created. Unless ctx.allow_outside, the directories are opened one by
/// one below the pipeline's directory with O_NOFOLLOW, so a symlink swapped in after the check
/// cannot redirect the write. Returns the file as a path Value (shown as given). Throws Error.
Value write_file_atomically(const OpContext& ctx, const FileArg& file, std::string_view bytes);

/// The text of errno value `err` ("No such file or directory").
[[nodiscard]] std::string errno_text(int err);

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
  static bool accepts(const Value& v) noexcept { return v.is_number(); }
  static std::string type_name() { return "number"; }
};

}  // namespace dagflow
