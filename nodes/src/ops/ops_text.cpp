// Text ops: read_text, lines, word_count, merge_counts, top_k (the last three call
// <dagflow/nodes/text.hpp>).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/text.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

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
      "overflows a 64-bit int).");

  ops.add("top_k", [](const WordCounts& counts, std::int64_t k) { return top_k(counts, k); },
          "Returns the k entries of a map word -> count with the highest counts, as [word, count] "
          "pairs, highest first (ties in word order).",
          {arg("k")});
}

}  // namespace dagflow
