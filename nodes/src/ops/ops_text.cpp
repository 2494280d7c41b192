// Text ops: read_text, read_lines, read_chunks, lines, word_count, merge_counts, top_k (the last
// three call <dagflow/nodes/text.hpp>).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/streaming.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/text.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace detail {
/// read_chunks' `bytes`: an int, or a string with a binary unit ("64K", "4M", "1G", "4MiB").
struct ByteSize {
  std::uint64_t bytes;
};
}  // namespace detail

template <>
struct ValueConvert<detail::ByteSize> {
  static detail::ByteSize from(const Value& v);
  static bool accepts(const Value& v) noexcept {
    return v.kind() == ValueKind::kInt || v.kind() == ValueKind::kString;
  }
  static std::string type_name() { return "size"; }
};

detail::ByteSize ValueConvert<detail::ByteSize>::from(const Value& v) {
  if (!accepts(v)) detail::throw_wrong_kind(type_name(), v);
  const auto bad = [&] {
    return Error(
        fmt::format("a size is a whole number of bytes of at least 1, alone or with K, M "
                    "or G (KiB, MiB, GiB), such as 4096 or \"4M\"; got {}",
                    to_json(v)));
  };
  if (v.kind() == ValueKind::kInt) {
    if (v.as_int() < 1) throw bad();
    return {static_cast<std::uint64_t>(v.as_int())};
  }
  const std::string& text = v.as_string();
  std::size_t digits = 0;
  std::uint64_t n = 0;
  for (; digits < text.size() && text[digits] >= '0' && text[digits] <= '9'; ++digits) {
    if (__builtin_mul_overflow(n, 10, &n) ||
        __builtin_add_overflow(n, static_cast<std::uint64_t>(text[digits] - '0'), &n)) {
      throw bad();
    }
  }
  std::string unit = text.substr(digits);
  if (unit.size() == 3 && unit.substr(1) == "iB") unit.resize(1);  // "MiB" as "M"
  int shift = 0;
  if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else if (!unit.empty() && unit != "B") {
    throw bad();
  }
  if (digits == 0 || n == 0 || n > (std::uint64_t{1} << (62 - shift))) throw bad();
  return {n << shift};
}

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const std::size_t next = end == std::string::npos ? text.size() : end + 1;
    if (end == std::string::npos) end = text.size();
    std::size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    lines.emplace_back(text, start, stop - start);
    start = next;
  }
  return lines;
}

// read_chunks' cut (as dagflow::read_chunks cuts a file): each chunk ends just after the first
// newline at or past `bytes` bytes, or at the end.
std::vector<std::string> split_chunks(const std::string& text, std::uint64_t bytes) {
  std::vector<std::string> chunks;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::uint64_t last = start + bytes - 1;
    std::size_t end = text.size();
    if (last < text.size()) {
      const std::size_t nl = text.find('\n', static_cast<std::size_t>(last));
      if (nl != std::string::npos) end = nl + 1;
    }
    chunks.emplace_back(text, start, end - start);
    start = end;
  }
  return chunks;
}

Delayed<TextSource> stream_lines(Graph& g, const OpContext& ctx, const Value::Map& args) {
  const detail::FileArg file = ValueConvert<detail::FileArg>::from(args.at("path"));
  return read_lines(g, ctx.input_path(file.path));
}

Delayed<TextSource> stream_chunks(Graph& g, const OpContext& ctx, const Value::Map& args) {
  const detail::FileArg file = ValueConvert<detail::FileArg>::from(args.at("path"));
  const detail::ByteSize size = ValueConvert<detail::ByteSize>::from(args.at("bytes"));
  return read_chunks(g, ctx.input_path(file.path), static_cast<std::size_t>(size.bytes));
}

// [word, count] pairs: as a Value each pair is a list of two.
std::vector<std::pair<std::string, std::int64_t>> top_k(const WordCounts& counts, std::int64_t k) {
  if (k < 0) throw Error(fmt::format("k must be at least 0, got {}", k));
  return top_words(counts, static_cast<std::size_t>(k));
}

}  // namespace

void add_text_ops(OpRegistry& ops) {
  ops.add(
         "read_text",
         [](const OpContext& ctx, const detail::FileArg& file) {
           return detail::read_file(ctx, file);
         },
         "Reads a whole file (a path, or a string relative to the pipeline's directory) and "
         "returns "
         "its contents as a string.")
      .set_io();

  ops.add("read_lines",
          [](const OpContext& ctx, const detail::FileArg& path) {
            return split_lines(detail::read_file(ctx, path));
          },
          "Reads the lines of a text file (arg `path`) into a list, as `lines` splits them (the "
          "items dagflow::read_lines streams in C++)",
          {arg("path")})
      .set_io()
      .set_stream_source(stream_lines);

  ops.add("read_chunks",
          [](const OpContext& ctx, const detail::FileArg& path, detail::ByteSize bytes) {
            return split_chunks(detail::read_file(ctx, path), bytes.bytes);
          },
          "Reads a text file (arg `path`) as a list of chunks of about `bytes` bytes (an int, or "
          "\"64K\", \"4M\", \"1G\"): each ends just after the first newline at or past `bytes` (or "
          "at the end of the file), so no line is cut and the chunks joined are the file.",
          {arg("path"), arg("bytes")})
      .set_io()
      .set_stream_source(stream_chunks);

  ops.add(
      "lines", [](const std::string& text) { return split_lines(text); },
      "Splits a string into its lines (on \\n, dropping a trailing \\r); a final newline does not "
      "add an empty line, and \"\" gives [].");

  ops.add(
      "word_count",
      [](const OpContext& ctx, const detail::TextOrFile& input) {
        if (input.value.kind() == ValueKind::kPath) {
          return count_words(
              detail::read_file(ctx, ValueConvert<detail::FileArg>::from(input.value)));
        }
        return count_words(input.value.as_string());
      },
      "Counts the words of a text (a string) or of a file (a path): returns a map word -> count. A "
      "word is a run of ASCII letters and digits, lowercased; everything else separates words.");

  ops.add(
         "merge_counts", [](const std::vector<WordCounts>& parts) { return merge_counts(parts); },
         "Adds up a list of maps word -> count into one map word -> total (an error if a total "
         "overflows a 64-bit int).")
      .set_any_order();  // integer sums: exact in any order

  ops.add("top_k", [](const WordCounts& counts, std::int64_t k) { return top_k(counts, k); },
          "Returns the k entries of a map word -> count with the highest counts, as [word, count] "
          "pairs, highest first (ties in word order).",
          {arg("k")});
}

}  // namespace dagflow
