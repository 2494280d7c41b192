// "Did you mean": the names close to a misspelt one, and the hint that lists them, for every
// message about an unknown name (ops, keys, node ids, params). Thread-safe: no state.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dagflow::util {

/// The optimal string alignment distance between `a` and `b`: insertions, deletions,
/// substitutions and swaps of two adjacent characters, so "wrod" is one step from "word", as a
/// typo is. O(|a| * |b|).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// Up to `max` of `candidates` close enough to `word` to be a typo of it (1 to 3 edits, about a
/// third of its length; `word` itself is no suggestion), only the closest ones, alphabetically.
[[nodiscard]] std::vector<std::string> nearest_names(std::string_view word,
                                                     std::span<const std::string> candidates,
                                                     std::size_t max = 3);

/// `text` in single quotes, as it is.
[[nodiscard]] std::string single_quoted(std::string_view text);

/// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)", " (did you mean 'a', 'b' or 'c'?)"
/// for the names in `near` (each written by `quote`), or "" when `near` is empty.
[[nodiscard]] std::string did_you_mean(std::span<const std::string> near,
                                       std::string (*quote)(std::string_view) = single_quoted);

}  // namespace dagflow::util
