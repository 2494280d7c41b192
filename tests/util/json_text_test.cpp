#include <dagflow/util/json_text.hpp>
// (the header under test first)

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

namespace {

std::string json(std::string_view s) {
  std::string out;
  dagflow::util::append_json_string(out, s);
  return out;
}

}  // namespace

// Quotes, backslashes and control characters are escaped; the rest passes as it is.
TEST_CASE("append_json_string: escapes what JSON requires", "[util][json]") {
  CHECK(json("plain") == "\"plain\"");
  CHECK(json("q\"b\\") == "\"q\\\"b\\\\\"");
  CHECK(json("\n\t\r\b\f") == "\"\\n\\t\\r\\b\\f\"");
  CHECK(json(std::string_view("\0\x1f", 2)) == "\"\\u0000\\u001f\"");
}

// Well-formed UTF-8 is kept; every byte that is not becomes U+FFFD, so the output is valid.
TEST_CASE("append_json_string: keeps UTF-8, replaces what is not", "[util][json]") {
  CHECK(json("\xC3\xA9") == "\"\xC3\xA9\"");
  CHECK(json("a\xFFz") == "\"a\xEF\xBF\xBDz\"");
  CHECK(json("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // a surrogate
  CHECK(dagflow::util::utf8_sequence_length("\xF0\x9F\x98\x80") == 4);
  CHECK(dagflow::util::utf8_sequence_length("\xC0\x80") == 0);  // overlong
}
