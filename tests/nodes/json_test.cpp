#include <dagflow/nodes/value.hpp>

// Tests of to_json and from_json: layout, escapes, UTF-8, doubles, and every class of parse
// error with its line and column.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "support/text.hpp"

namespace {

using dagflow::from_json;
using dagflow::JsonStyle;
using dagflow::to_json;
using dagflow::Value;
using dagflow::ValueError;
using dagflow::ValueKind;
using dagflow::test::thrown_message;

// The message of the ValueError from_json throws for `text`, or "(no error)".
std::string parse_error(std::string_view text) {
  return thrown_message<ValueError>([&] { (void)from_json(text); });
}

std::string nested(std::string_view open, std::string_view inner, std::string_view close,
                   int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += open;
  text += inner;
  for (int i = 0; i < depth; ++i) text += close;
  return text;
}

}  // namespace

// ---- Output ----------------------------------------------------------------------------------

// Compact output has no spaces and sorted keys; a path prints as written, not as resolved.
TEST_CASE("to_json: writes compact JSON by default", "[nodes][json]") {
  CHECK(to_json(Value::Map{{"b", Value::List{1, 2.5, "x"}}, {"a", 1}}) ==
        R"({"a":1,"b":[1,2.5,"x"]})");
  CHECK(to_json(Value()) == "null");
  CHECK(to_json(Value(true)) == "true");
  CHECK(to_json(Value(false)) == "false");
  CHECK(to_json(Value(-5)) == "-5");
  CHECK(to_json(Value(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
  CHECK(to_json(Value(Value::List{})) == "[]");
  CHECK(to_json(Value(Value::Map{})) == "{}");
  CHECK(to_json(Value(Value::List{Value::List{}, Value::Map{}, Value()})) == "[[],{},null]");
  // A path prints as written, not as resolved.
  CHECK(to_json(Value::path("/abs/data/in.txt", "data/in.txt")) == R"("data/in.txt")");
}

// The pretty layout that `dagflow run` prints and write_json writes is stable to the byte.
TEST_CASE("to_json: pretty-prints with two-space indents, short scalar lists on one line",
          "[nodes][json]") {
  const Value v = Value::Map{
      {"a", 1},
      {"b", Value::List{1, 2.5, "x"}},
      {"e", Value::List{}},
      {"l", Value::List{1, 2, 3, 4, 5, 6, 7, 8, 9}},
      {"m", Value::Map{}},
      {"n", Value::Map{{"k", Value::List{true}}}},
      {"t", Value::List{Value::List{"the", 42}, Value::List{"of", 10}}},
  };
  CHECK(to_json(v, JsonStyle::kPretty) == R"({
  "a": 1,
  "b": [1, 2.5, "x"],
  "e": [],
  "l": [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9
  ],
  "m": {},
  "n": {
    "k": [true]
  },
  "t": [
    ["the", 42],
    ["of", 10]
  ]
})");
  CHECK(to_json(Value(3), JsonStyle::kPretty) == "3");
  CHECK(to_json(Value(Value::List{}), JsonStyle::kPretty) == "[]");
}

// Every string is valid JSON whatever bytes it holds.
TEST_CASE("to_json: escapes quotes, backslashes and control characters", "[nodes][json]") {
  const std::string text = std::string("q\"b\\n\nt\tr\rb\bf\f") + '\0' + "\x01\x1f\x7f/";
  CHECK(to_json(Value(text)) ==
        std::string(R"("q\"b\\n\nt\tr\rb\bf\f\u0000\u0001\u001f)") + "\x7f/\"");
  // Keys are escaped the same way.
  CHECK(to_json(Value::Map{{"k\"\n", 1}}) == R"({"k\"\n":1})");
}

// Valid UTF-8 is kept as is; invalid bytes cannot produce invalid JSON.
TEST_CASE("to_json: passes UTF-8 through and replaces invalid bytes with U+FFFD", "[nodes][json]") {
  const std::string replacement = "\xEF\xBF\xBD";
  CHECK(to_json(Value("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")) ==
        "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  CHECK(to_json(Value("a\xFF"
                      "b")) == "\"a" + replacement + "b\"");
  // A truncated sequence: each of its bytes is replaced.
  CHECK(to_json(Value("\xE2\x82")) == "\"" + replacement + replacement + "\"");
  CHECK(to_json(Value("x\xE2")) == "\"x" + replacement + "\"");
  // A lone continuation byte.
  CHECK(to_json(Value("\x80")) == "\"" + replacement + "\"");
  // Overlong forms, encoded surrogates and code points past U+10FFFF are not UTF-8.
  CHECK(to_json(Value("\xC0\xAF")) == "\"" + replacement + replacement + "\"");
  CHECK(to_json(Value("\xED\xA0\x80")) == "\"" + replacement + replacement + replacement + "\"");
  CHECK(to_json(Value("\xF4\x90\x80\x80")) ==
        "\"" + replacement + replacement + replacement + replacement + "\"");
  // Whatever the string held, the output parses (strictly) again.
  CHECK(from_json(to_json(Value("\xFF\xFE ok"))) == Value(replacement + replacement + " ok"));
}

// Doubles round-trip exactly and stay doubles (1.0, not 1).
TEST_CASE("to_json: writes doubles so that they read back as the same double", "[nodes][json]") {
  CHECK(to_json(Value(0.1)) == "0.1");
  CHECK(to_json(Value(1.0)) == "1.0");
  CHECK(to_json(Value(-2.0)) == "-2.0");
  CHECK(to_json(Value(1e300)) == "1e+300");
  CHECK(to_json(Value(-0.0)) == "-0.0");
  CHECK(to_json(Value(123456789.0)) == "123456789.0");
  const std::vector<double> samples = {
      0.1,    1.0,     -0.0, 1e300, 1e16,  123456789.0,
      5e-324, 1.0 / 3, 2.5,  1e-7,  -1e21, std::numeric_limits<double>::max()};
  for (const double d : samples) {
    INFO(d);
    const Value back = from_json(to_json(Value(d)));
    REQUIRE(back.kind() == ValueKind::kDouble);
    CHECK(back.as_double() == d);
    CHECK(std::signbit(back.as_double()) == std::signbit(d));
  }
}

// JSON has no NaN or infinity: they become null rather than invalid output.
TEST_CASE("to_json: writes NaN and infinities as null", "[nodes][json]") {
  CHECK(to_json(Value(std::numeric_limits<double>::quiet_NaN())) == "null");
  CHECK(to_json(Value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(to_json(Value(Value::List{-std::numeric_limits<double>::infinity()})) == "[null]");
}

// ---- Input -----------------------------------------------------------------------------------

// Each JSON kind becomes the matching Value kind.
TEST_CASE("from_json: reads every kind", "[nodes][json]") {
  CHECK(from_json("null") == Value());
  CHECK(from_json("true") == Value(true));
  CHECK(from_json("false") == Value(false));
  CHECK(from_json(R"("s")") == Value("s"));
  CHECK(from_json(R"({"a":[1,{"b":null}],"c":"d"})") ==
        Value(Value::Map{{"a", Value::List{1, Value::Map{{"b", nullptr}}}}, {"c", "d"}}));
  CHECK(from_json(" \t\r\n[ 1 , 2 ]\n ") == Value(Value::List{1, 2}));
  CHECK(from_json("[]") == Value(Value::List{}));
  CHECK(from_json("{ }") == Value(Value::Map{}));
  // A byte order mark may start the text.
  CHECK(from_json("\xEF\xBB\xBF[1]") == Value(Value::List{1}));
}

// Integer literals that fit int64 are ints; fractions, exponents and larger integers are
// doubles; underflow is 0.
TEST_CASE("from_json: reads integers as int and other numbers as double", "[nodes][json]") {
  CHECK(from_json("1").kind() == ValueKind::kInt);
  CHECK(from_json("-0") == Value(0));
  CHECK(from_json("1.0") == Value(1.0));
  CHECK(from_json("1E2") == Value(100.0));
  CHECK(from_json("-2.5e-3") == Value(-0.0025));
  CHECK(from_json("9223372036854775807") == Value(std::numeric_limits<std::int64_t>::max()));
  CHECK(from_json("-9223372036854775808") == Value(std::numeric_limits<std::int64_t>::min()));
  // Past int64: a double.
  CHECK(from_json("9223372036854775808") == Value(9223372036854775808.0));
  CHECK(from_json("-123456789012345678901234567890").kind() == ValueKind::kDouble);
  // Underflow is a zero, not an error.
  CHECK(from_json("1e-400") == Value(0.0));
}

// Every escape decodes to its UTF-8 bytes.
TEST_CASE("from_json: decodes every escape, UTF-16 ones and surrogate pairs included",
          "[nodes][json]") {
  CHECK(from_json(R"("\"\\\/\b\f\n\r\t")") == Value("\"\\/\b\f\n\r\t"));
  CHECK(from_json(R"("\u00e9\u20AC\ud83d\ude00")") ==
        Value("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  CHECK(from_json(R"("\u0041")") == Value("A"));
  const Value nul = from_json(R"("\u0000")");
  CHECK(nul.as_string() == std::string(1, '\0'));
  CHECK(to_json(nul) == R"("\u0000")");
  // Raw UTF-8 is kept as it is.
  CHECK(from_json("\"\xC3\xA9\"") == Value("\xC3\xA9"));
}

// Compact and pretty output both read back as the same Value.
TEST_CASE("to_json: from_json reads back what it writes, in both styles", "[nodes][json]") {
  const std::vector<Value> values = {
      Value(),
      Value(Value::List{}),
      Value(Value::Map{{"empty", Value::Map{}}, {"list", Value::List{}}}),
      Value(Value::Map{{"text", "line\nbreak \"quoted\" \xE2\x82\xAC"},
                       {"numbers", Value::List{0, -1, 0.5, 1e-300, 1.0}},
                       {"flags", Value::List{true, false, nullptr}},
                       {"nested", Value::List{Value::List{Value::Map{{"k", "v"}}}}}}),
  };
  for (const Value& v : values) {
    CHECK(from_json(to_json(v)) == v);
    CHECK(from_json(to_json(v, JsonStyle::kPretty)) == v);
  }
}

// Every class of malformed JSON is a ValueError with the position of the problem.
TEST_CASE("from_json: reports malformed JSON with its line and column", "[nodes][json]") {
  // Empty and truncated input.
  CHECK(parse_error("") == "json:1:1: unexpected end of input, expected a value");
  CHECK(parse_error("   ") == "json:1:4: unexpected end of input, expected a value");
  CHECK(parse_error("[") == "json:1:2: unexpected end of input, expected a value");
  CHECK(parse_error("[1") == "json:1:3: unexpected end of input, expected ',' or ']'");
  CHECK(parse_error(R"({"a")") == "json:1:5: unexpected end of input, expected ':'");
  CHECK(parse_error(R"({"a":1)") == "json:1:7: unexpected end of input, expected ',' or '}'");
  CHECK(parse_error("{") == "json:1:2: unexpected end of input, expected a key");
  // Structure.
  CHECK(parse_error("[1,]") == "json:1:4: trailing comma before ']'");
  CHECK(parse_error(R"({"a":1,})") == "json:1:8: trailing comma before '}'");
  CHECK(parse_error("[1 2]") == "json:1:4: unexpected '2', expected ',' or ']'");
  CHECK(parse_error(R"({"a":1 "b":2})") == "json:1:8: unexpected '\"', expected ',' or '}'");
  CHECK(parse_error("{1:2}") == "json:1:2: unexpected '1', expected a string key");
  CHECK(parse_error(R"({"a" 1})") == "json:1:6: unexpected '1', expected ':'");
  CHECK(parse_error(R"({"a":1,"a":2})") == "json:1:8: duplicate key \"a\"");
  CHECK(parse_error("['a']") == "json:1:2: unexpected ''', expected a value");
  // Trailing garbage, comments.
  CHECK(parse_error("1 2") == "json:1:3: unexpected '2' after the value");
  CHECK(parse_error("[1] // c") == "json:1:5: unexpected '/' after the value");
  CHECK(parse_error("/* c */ 1") == "json:1:1: unexpected '/', expected a value");
  CHECK(parse_error("\x01") == "json:1:1: unexpected byte 0x01, expected a value");
  // Literals.
  CHECK(parse_error("tru") == "json:1:1: invalid literal, expected 'true'");
  CHECK(parse_error("[nul]") == "json:1:2: invalid literal, expected 'null'");
  CHECK(parse_error("True") == "json:1:1: unexpected 'T', expected a value");
  CHECK(parse_error("NaN") == "json:1:1: unexpected 'N', expected a value");
  // Numbers.
  CHECK(parse_error("01") == "json:1:1: invalid number: leading zero");
  CHECK(parse_error("[-01]") == "json:1:2: invalid number: leading zero");
  CHECK(parse_error("-") == "json:1:1: invalid number: expected a digit after '-'");
  CHECK(parse_error("-Infinity") == "json:1:1: invalid number: expected a digit after '-'");
  CHECK(parse_error("1.") == "json:1:1: invalid number: expected a digit after '.'");
  CHECK(parse_error("1.e5") == "json:1:1: invalid number: expected a digit after '.'");
  CHECK(parse_error("1e+") == "json:1:1: invalid number: expected a digit in the exponent");
  CHECK(parse_error(".5") == "json:1:1: unexpected '.', expected a value");
  CHECK(parse_error("+1") == "json:1:1: unexpected '+', expected a value");
  CHECK(parse_error("0x10") == "json:1:2: unexpected 'x' after the value");
  CHECK(parse_error("[1e400]") == "json:1:2: number 1e400 is out of range");
  CHECK(parse_error("-1e400") == "json:1:1: number -1e400 is out of range");
  // Strings.
  CHECK(parse_error(R"(["abc)") == "json:1:2: unterminated string");
  CHECK(parse_error("\"a\tb\"") == "json:1:3: unescaped control character 0x09 in a string");
  CHECK(parse_error("\"a\nb\"") == "json:1:3: unescaped control character 0x0a in a string");
  CHECK(parse_error(R"("\q")") == "json:1:2: invalid escape '\\' followed by 'q'");
  CHECK(parse_error(R"("\)") == "json:1:1: unterminated string");
  CHECK(parse_error(R"("\u12g4")") ==
        "json:1:6: unexpected 'g' in a \\u escape, expected a hex digit");
  CHECK(parse_error(R"("\u12)") == "json:1:6: unexpected end of input in a \\u escape");
  CHECK(parse_error("\"a\xFF"
                    "b\"") == "json:1:3: invalid UTF-8 in a string");
  CHECK(parse_error("\"\xED\xA0\x80\"") == "json:1:2: invalid UTF-8 in a string");
  // Surrogates that do not pair up.
  CHECK(parse_error(R"("\ud800")") == "json:1:2: lone high surrogate \\ud800");
  CHECK(parse_error(R"("\ud800x")") == "json:1:2: lone high surrogate \\ud800");
  CHECK(parse_error(R"("\udc00")") == "json:1:2: lone low surrogate \\udc00");
  CHECK(parse_error(R"("\ud800\u0041")") ==
        "json:1:8: high surrogate \\ud800 followed by \\u0041, not by a low surrogate");
  CHECK(parse_error(R"("\ud800\ud800")") ==
        "json:1:8: high surrogate \\ud800 followed by \\ud800, not by a low surrogate");
}

// Positions count lines and characters (not bytes), so they point at what an editor shows.
TEST_CASE("from_json: counts lines and characters for positions", "[nodes][json]") {
  CHECK(parse_error("{\n  \"a\": 1,\n  \"b\": ]\n}") ==
        "json:3:8: unexpected ']', expected a value");
  CHECK(parse_error("[\n\n1,\n  x]") == "json:4:3: unexpected 'x', expected a value");
  // A two-byte character is one column.
  CHECK(parse_error("\"\xC3\xA9\" x") == "json:1:5: unexpected 'x' after the value");
}

// Deeply nested input is refused before it can exhaust the stack.
TEST_CASE("from_json: limits nesting to 256 levels", "[nodes][json][limits]") {
  CHECK(from_json(nested("[", "", "]", 200)).kind() == ValueKind::kList);
  CHECK(from_json(nested("[", "1", "]", 256)).kind() == ValueKind::kList);
  CHECK(from_json(nested(R"({"a":)", "1", "}", 256)).kind() == ValueKind::kMap);
  CHECK(parse_error(nested("[", "", "]", 257)) == "json:1:257: nesting deeper than 256 levels");
  CHECK(parse_error(nested("[", "", "]", 300)) == "json:1:257: nesting deeper than 256 levels");
  CHECK(parse_error(nested("[{\"k\":", "", "}]", 150)) ==
        "json:1:769: nesting deeper than 256 levels");
  // Only the open brackets count: an unclosed deep text still fails on depth, not memory.
  CHECK_THROWS_WITH(from_json(std::string(100000, '[')),
                    "json:1:257: nesting deeper than 256 levels");
  CHECK_THROWS_AS(from_json(nested("[", "", "]", 300)), dagflow::Error);
}
