// Text ops: read_text, lines, word_count, merge_counts, top_k.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

using Counts = std::map<std::string, std::int64_t>;

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

bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

Counts count_words(std::string_view text) {
  std::unordered_map<std::string, std::int64_t> counts;
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && is_word_byte(text[i])) {
      word.push_back(ascii_lower(text[i]));
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  return Counts(counts.begin(), counts.end());
}

Counts merge_counts(const std::vector<Counts>& parts) {
  Counts total;
  for (const Counts& part : parts) {
    for (const auto& [word, count] : part) {
      std::int64_t& sum = total[word];
      if (__builtin_add_overflow(sum, count, &sum)) {
        throw Error(fmt::format("the count of '{}' overflows a 64-bit int", word));
      }
    }
  }
  return total;
}

Value top_k(const Counts& counts, std::int64_t k) {
  if (k < 0) throw Error(fmt::format("k must be at least 0, got {}", k));
  std::vector<std::pair<std::string_view, std::int64_t>> entries(counts.begin(), counts.end());
  const std::size_t n =
      static_cast<std::uint64_t>(k) < entries.size() ? static_cast<std::size_t>(k) : entries.size();
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n),
                    entries.end(), [](const auto& a, const auto& b) {
                      if (a.second != b.second) return a.second > b.second;
                      return a.first < b.first;
                    });
  Value::List top;
  top.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    top.emplace_back(Value::List{Value(entries[i].first), Value(entries[i].second)});
  }
  return top;
}

}  // namespace

void add_text_ops(OpRegistry& ops) {
  ops.add(
      "read_text",
      [](const OpContext& ctx, const detail::FileArg& file) {
        return detail::read_file(ctx, file);
      },
      "Reads a whole file (a path, or a string relative to the pipeline's directory) and returns "
      "its contents as a string.");

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
      "merge_counts", [](const std::vector<Counts>& parts) { return merge_counts(parts); },
      "Adds up a list of maps word -> count into one map word -> total (an error if a total "
      "overflows a 64-bit int).");

  ops.add("top_k", [](const Counts& counts, std::int64_t k) { return top_k(counts, k); },
          "Returns the k entries of a map word -> count with the highest counts, as [word, count] "
          "pairs, highest first (ties in word order).",
          {arg("k")});
}

}  // namespace dagflow
