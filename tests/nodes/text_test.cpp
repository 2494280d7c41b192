#include <dagflow/nodes/text.hpp>

// Tests of the word counting C++ code shares with the word_count, merge_counts and top_k ops:
// what a word is, how counts add up (and refuse to overflow), how the top words are ordered,
// and how read_text_file reads a file or says why it cannot.
#include <cstdint>
#include <limits>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>

#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

using dagflow::count_words;
using dagflow::WordCounts;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using Top = std::vector<std::pair<std::string, std::int64_t>>;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

}  // namespace

// The header's example: words are lowercased, so "The" and "the" are one word.
TEST_CASE("count_words: counts lowercased words", "[nodes][text]") {
  CHECK(count_words("The cat and the hat") ==
        WordCounts{{"and", 1}, {"cat", 1}, {"hat", 1}, {"the", 2}});
  CHECK(count_words("HELLO hello HeLLo") == WordCounts{{"hello", 3}});
  CHECK(count_words("").empty());
  CHECK(count_words(" \t\n.,;!?").empty());
}

// A word is a maximal run of ASCII letters and digits; every other byte ends it.
TEST_CASE("count_words: any byte but an ASCII letter or digit separates words", "[nodes][text]") {
  CHECK(count_words("x2y 42 R2-D2") == WordCounts{{"42", 1}, {"d2", 1}, {"r2", 1}, {"x2y", 1}});
  CHECK(count_words("don't snake_case e-mail a.b") == WordCounts{{"a", 1},
                                                                 {"b", 1},
                                                                 {"case", 1},
                                                                 {"don", 1},
                                                                 {"e", 1},
                                                                 {"mail", 1},
                                                                 {"snake", 1},
                                                                 {"t", 1}});
  // UTF-8 bytes are not letters: "cafés" is "caf" and "s"; "naïve" is "na" and "ve".
  CHECK(count_words("caf\xC3\xA9s na\xC3\xAFve") ==
        WordCounts{{"caf", 1}, {"na", 1}, {"s", 1}, {"ve", 1}});
  // Words at both ends of the text, a NUL byte in the middle.
  CHECK(count_words(std::string("end\0start", 9)) == WordCounts{{"end", 1}, {"start", 1}});
  CHECK(count_words("@[`{").empty());  // the bytes just outside A-Z and a-z
  CHECK(count_words("AZaz09") == WordCounts{{"azaz09", 1}});
}

// merge_counts adds the counts of every part, word by word.
TEST_CASE("merge_counts: adds the parts' counts", "[nodes][text]") {
  const WordCounts a = count_words("The cat and the hat");
  CHECK(dagflow::merge_counts({a, count_words("the end")}) ==
        WordCounts{{"and", 1}, {"cat", 1}, {"end", 1}, {"hat", 1}, {"the", 3}});
  CHECK(dagflow::merge_counts({}).empty());
  CHECK(dagflow::merge_counts({WordCounts{}, a, WordCounts{}}) == a);
  CHECK(dagflow::merge_counts({WordCounts{{"big", kMax - 1}}, WordCounts{{"big", 1}}}) ==
        WordCounts{{"big", kMax}});
}

// A total past int64 is an error naming the word, never a wrapped count.
TEST_CASE("merge_counts: refuses a total that overflows int64", "[nodes][text]") {
  CHECK(thrown_message<dagflow::Error>([] {
          (void)dagflow::merge_counts(
              {WordCounts{{"a", 1}, {"big", kMax}}, WordCounts{{"a", 1}}, WordCounts{{"big", 1}}});
        }) == "the count of 'big' overflows a 64-bit int");
}

// The k highest counts, highest first; equal counts in word order; fewer when there are fewer.
TEST_CASE("top_words: highest counts first, ties in word order", "[nodes][text]") {
  const WordCounts all{{"the", 3}, {"and", 1}, {"cat", 1}, {"end", 1}, {"hat", 1}};
  CHECK(dagflow::top_words(all, 2) == Top{{"the", 3}, {"and", 1}});
  CHECK(dagflow::top_words(all, 4) == Top{{"the", 3}, {"and", 1}, {"cat", 1}, {"end", 1}});
  CHECK(dagflow::top_words(all, 99) ==
        Top{{"the", 3}, {"and", 1}, {"cat", 1}, {"end", 1}, {"hat", 1}});
  CHECK(dagflow::top_words(all, 0).empty());
  CHECK(dagflow::top_words({}, 3).empty());
  const WordCounts ranked{{"b", 2}, {"a", 2}, {"c", 5}, {"d", 1}, {"B", 2}};
  CHECK(dagflow::top_words(ranked, 3) == Top{{"c", 5}, {"B", 2}, {"a", 2}});
}

// read_text_file returns every byte of a regular file.
TEST_CASE("read_text_file: returns the whole file, byte for byte", "[nodes][text]") {
  const TempDir dir;
  const std::string bytes = std::string("line 1\r\nline 2\0\xFF", 16) + std::string(70000, 'x');
  CHECK(dagflow::read_text_file(dir.write("a.txt", bytes)) == bytes);
  CHECK(dagflow::read_text_file(dir.write("empty.txt", "")).empty());
}

// What is missing, a directory or not a regular file is an error naming the path.
TEST_CASE("read_text_file: names the path it cannot read and why", "[nodes][text]") {
  const TempDir dir;
  const auto missing = dir.path() / "missing.txt";
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_text_file(missing); }) ==
        "cannot read '" + missing.string() + "': No such file or directory");
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_text_file(dir.path()); }) ==
        "cannot read '" + dir.path().string() + "': Is a directory");
  // A FIFO with no writer would block a plain read: it is refused at once.
  const auto fifo = dir.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_text_file(fifo); }) ==
        "cannot read '" + fifo.string() + "': not a regular file");
}
