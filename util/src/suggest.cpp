#include <dagflow/util/suggest.hpp>
// (the header this file implements first)

#include <algorithm>
#include <utility>

namespace dagflow::util {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> two_back(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], two_back[j - 2] + 1);
      }
    }
    std::swap(two_back, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::vector<std::string> nearest_names(std::string_view word,
                                       std::span<const std::string> candidates, std::size_t max) {
  // Close enough to be a typo: about a third of the word's length, 1 to 3 edits.
  const std::size_t limit = std::clamp<std::size_t>((word.size() + 2) / 3, 1, 3);
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const std::string& c : candidates) {
    if (c.size() > word.size() + limit || word.size() > c.size() + limit) continue;
    const std::size_t d = edit_distance(word, c);
    if (d <= limit && d > 0) near.emplace_back(d, c);
  }
  std::sort(near.begin(), near.end());
  // Only the closest: "node" suggests "nodes", not also "name".
  std::vector<std::string> names;
  for (std::size_t i = 0; i < near.size() && i < max && near[i].first == near[0].first; ++i) {
    names.push_back(near[i].second);
  }
  return names;
}

std::string single_quoted(std::string_view text) {
  std::string out = "'";
  out += text;
  out += '\'';
  return out;
}

std::string did_you_mean(std::span<const std::string> near,
                         std::string (*quote)(std::string_view)) {
  if (near.empty()) return {};
  std::string hint = " (did you mean ";
  for (std::size_t i = 0; i < near.size(); ++i) {
    if (i > 0) hint += i + 1 == near.size() ? " or " : ", ";
    hint += quote(near[i]);
  }
  hint += "?)";
  return hint;
}

}  // namespace dagflow::util
