// Word counting (<dagflow/nodes/text.hpp>), shared by the text ops and C++ callers.
#include <algorithm>
#include <cstddef>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/text.hpp>

#include "file_io.hpp"

namespace dagflow {

namespace {

bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

WordCounts count_words(std::string_view text) {
  // Counted in a hash map (fast), handed back sorted.
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
  // Handed back sorted, its nodes made in key order: a merge that walks two such maps side by
  // side (merge_counts, a running total) then reads memory in order instead of jumping about.
  std::vector<const std::pair<const std::string, std::int64_t>*> entries;
  entries.reserve(counts.size());
  for (const auto& entry : counts) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  WordCounts sorted;
  for (const auto* entry : entries) sorted.emplace_hint(sorted.end(), *entry);
  return sorted;
}

WordCounts merge_counts(const std::vector<WordCounts>& parts) {
  WordCounts total;
  for (const WordCounts& part : parts) {
    for (const auto& [word, count] : part) {
      std::int64_t& sum = total[word];
      if (__builtin_add_overflow(sum, count, &sum)) {
        throw Error(fmt::format("the count of '{}' overflows a 64-bit int", word));
      }
    }
  }
  return total;
}

std::vector<std::pair<std::string, std::int64_t>> top_words(const WordCounts& counts,
                                                            std::size_t k) {
  std::vector<std::pair<std::string_view, std::int64_t>> entries(counts.begin(), counts.end());
  const std::size_t n = std::min(k, entries.size());
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n),
                    entries.end(), [](const auto& a, const auto& b) {
                      if (a.second != b.second) return a.second > b.second;
                      return a.first < b.first;
                    });
  std::vector<std::pair<std::string, std::int64_t>> top;
  top.reserve(n);
  for (std::size_t i = 0; i < n; ++i) top.emplace_back(entries[i].first, entries[i].second);
  return top;
}

std::string read_text_file(const std::filesystem::path& path) {
  // Regular files only, so a FIFO cannot block; the path is taken as given.
  return detail::read_file(path, path.string());
}

}  // namespace dagflow
