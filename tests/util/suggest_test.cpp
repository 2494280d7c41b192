#include <dagflow/util/suggest.hpp>
// (the header under test first)

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using Names = std::vector<std::string>;

std::string bracketed(std::string_view text) { return "<" + std::string(text) + ">"; }

}  // namespace

// A swap of two neighbours is one typo, as people make them.
TEST_CASE("edit_distance: counts edits, a swap of neighbours as one", "[util][suggest]") {
  CHECK(dagflow::util::edit_distance("word", "word") == 0);
  CHECK(dagflow::util::edit_distance("wrod", "word") == 1);
  CHECK(dagflow::util::edit_distance("wor", "word") == 1);
  CHECK(dagflow::util::edit_distance("", "abc") == 3);
  CHECK(dagflow::util::edit_distance("kitten", "sitting") == 3);
}

// Typos are suggested, strangers and the word itself are not, and only the closest names.
TEST_CASE("nearest_names: only the closest names within typo distance", "[util][suggest]") {
  const Names ops = {"glob", "word_count", "top_k", "count_words"};
  CHECK(dagflow::util::nearest_names("wrod_count", ops) == Names{"word_count"});
  CHECK(dagflow::util::nearest_names("glob", ops).empty());
  CHECK(dagflow::util::nearest_names("zzzzzz", ops).empty());
  CHECK(dagflow::util::nearest_names("node", Names{"nodes", "name"}) == Names{"nodes"});
  CHECK(dagflow::util::nearest_names("ab", Names{"ac", "ad", "ae", "af"}, 2) == Names{"ac", "ad"});
}

// The hint lists one, two or more names as a sentence, each quoted by the caller's rule.
TEST_CASE("did_you_mean: one, two or more names, or nothing", "[util][suggest]") {
  CHECK(dagflow::util::did_you_mean(Names{}).empty());
  CHECK(dagflow::util::did_you_mean(Names{"a"}) == " (did you mean 'a'?)");
  CHECK(dagflow::util::did_you_mean(Names{"a", "b"}) == " (did you mean 'a' or 'b'?)");
  CHECK(dagflow::util::did_you_mean(Names{"a", "b", "c"}) == " (did you mean 'a', 'b' or 'c'?)");
  CHECK(dagflow::util::did_you_mean(Names{"a"}, bracketed) == " (did you mean <a>?)");
}
