// Word counting: the code behind the word_count, merge_counts and top_k ops, for C++ code that
// must count exactly as a YAML pipeline does.
//
//   dagflow::WordCounts a = dagflow::count_words("The cat and the hat");  // the: 2, and: 1, ...
//   dagflow::WordCounts all = dagflow::merge_counts({a, dagflow::count_words("the end")});
//   auto top = dagflow::top_words(all, 2);  // {("the", 3), ("and", 1)}: ties in word order
//
// Every function is pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dagflow {

/// Word -> number of occurrences, sorted by word.
using WordCounts = std::map<std::string, std::int64_t>;

/// The words of `text` counted. A word is a maximal run of ASCII letters and digits, lowercased;
/// every other byte (punctuation, spaces, non-ASCII UTF-8) separates words. O(text size).
[[nodiscard]] WordCounts count_words(std::string_view text);

/// The counts of all `parts` added up. Throws dagflow::Error when a total overflows int64.
[[nodiscard]] WordCounts merge_counts(const std::vector<WordCounts>& parts);

/// The `k` (or fewer) words with the highest counts, highest first; equal counts in word order.
/// O(n log k).
[[nodiscard]] std::vector<std::pair<std::string, std::int64_t>> top_words(const WordCounts& counts,
                                                                          std::size_t k);

/// The whole file at `path` (relative paths from the working directory). Throws dagflow::Error
/// "cannot read 'PATH': REASON" when it cannot be opened or read, or is not a regular file.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& path);

}  // namespace dagflow
