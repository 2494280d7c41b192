#include "yaml_reader.hpp"

// Tests of the YAML reader: the tree and its positions, the YAML 1.2 core schema, and what it
// refuses (extra documents, anchors and aliases, duplicate keys, bad encodings, and tags, which
// never select code or a type).
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>
#include <dagflow/pipeline/pipeline.hpp>

#include "hostile_yaml.hpp"
#include "support/text.hpp"

namespace {

using dagflow::PipelineError;
using dagflow::read_yaml;
using dagflow::resolve_core_scalar;
using dagflow::Value;
using dagflow::ValueKind;
using dagflow::YamlNode;
using dagflow::test::thrown_message;

YamlNode read(std::string_view text) {
  std::optional<YamlNode> root = read_yaml(text, "t.yaml");
  REQUIRE(root.has_value());
  return *root;
}

// what() of the PipelineError reading `text` throws, or "(no error)".
std::string read_error(std::string_view text) {
  return thrown_message<PipelineError>([&] { (void)read_yaml(text, "t.yaml"); });
}

}  // namespace

// The reader's tree keeps file order and the position of every node.
TEST_CASE("read_yaml: builds a tree with keys in file order and 1-based positions",
          "[pipeline][yaml]") {
  const YamlNode root = read(
      "name: x\n"
      "nodes:\n"
      "  b: {op: 'g', args: [1, ~]}\n"
      "  a:\n"
      "    - |\n"
      "      literal\n"
      "    - !!str 5\n");
  REQUIRE(root.is_mapping());
  CHECK(root.mark.line == 1);
  CHECK(root.mark.column == 1);
  REQUIRE(root.keys.size() == 2);
  CHECK(root.keys[0].text == "name");
  CHECK(root.keys[1].text == "nodes");
  CHECK(root.keys[1].mark.line == 2);
  CHECK(root.keys[1].mark.column == 1);
  CHECK(root.items[0].text == "x");
  CHECK(root.items[0].plain);
  CHECK(root.items[0].mark.column == 7);

  const YamlNode& nodes = root.items[1];
  REQUIRE(nodes.keys.size() == 2);
  CHECK(nodes.keys[0].text == "b");  // file order, not sorted
  CHECK(nodes.keys[1].text == "a");
  CHECK(nodes.keys[1].mark.line == 4);
  CHECK(nodes.keys[1].mark.column == 3);

  const YamlNode& b = nodes.items[0];
  REQUIRE(b.is_mapping());
  CHECK(b.items[0].text == "g");
  CHECK_FALSE(b.items[0].plain);  // quoted: always a string
  const YamlNode& args = b.items[1];
  REQUIRE(args.is_sequence());
  REQUIRE(args.items.size() == 2);
  CHECK(args.items[0].text == "1");
  CHECK(args.items[0].mark.line == 3);
  CHECK(args.items[0].mark.column == 23);
  CHECK(args.items[1].is_null());

  const YamlNode& a = nodes.items[1];
  REQUIRE(a.is_sequence());
  CHECK(a.items[0].text == "literal\n");
  CHECK_FALSE(a.items[0].plain);
  CHECK(a.items[1].text == "5");
  CHECK_FALSE(a.items[1].plain);  // !!str
  CHECK(dagflow::scalar_value(a.items[1]) == Value("5"));
}

// Empty text, whitespace and comments alone are no document, not an error.
TEST_CASE("read_yaml: returns nothing for text without a document", "[pipeline][yaml]") {
  CHECK_FALSE(read_yaml("", "t.yaml").has_value());
  CHECK_FALSE(read_yaml("# only a comment\n\n", "t.yaml").has_value());
  CHECK_FALSE(read_yaml("  \n\t\n", "t.yaml").has_value());
}

// Plain scalars are typed by the YAML 1.2 core schema only: no YAML 1.1 yes/no booleans, no
// leading-zero octal, no 1_000; what matches no rule stays a string.
TEST_CASE("resolve_core_scalar: the YAML 1.2 core schema decides plain scalars",
          "[pipeline][yaml]") {
  // Booleans: only true/false spellings; the YAML 1.1 words stay strings.
  for (const char* word : {"true", "True", "TRUE"}) CHECK(resolve_core_scalar(word) == Value(true));
  for (const char* word : {"false", "False", "FALSE"}) {
    CHECK(resolve_core_scalar(word) == Value(false));
  }
  for (const char* word : {"yes", "no", "on", "off", "y", "n", "Yes", "OFF", "tRUE"}) {
    CHECK(resolve_core_scalar(word) == Value(word));
  }
  // Null.
  for (const char* word : {"", "~", "null", "Null", "NULL"})
    CHECK(resolve_core_scalar(word).is_null());
  CHECK(resolve_core_scalar("nULL") == Value("nULL"));
  // Integers: decimal (a leading zero is not octal), 0o octal, 0x hex.
  CHECK(resolve_core_scalar("010") == Value(10));
  CHECK(resolve_core_scalar("-42") == Value(-42));
  CHECK(resolve_core_scalar("+7") == Value(7));
  CHECK(resolve_core_scalar("0") == Value(0));
  CHECK(resolve_core_scalar("0o17") == Value(15));
  CHECK(resolve_core_scalar("0x1F") == Value(31));
  CHECK(resolve_core_scalar("0x1f") == Value(31));
  CHECK(resolve_core_scalar("9223372036854775807") == Value(INT64_C(9223372036854775807)));
  CHECK(resolve_core_scalar("-9223372036854775808") == Value(INT64_MIN));
  CHECK(resolve_core_scalar("0o") == Value("0o"));
  CHECK(resolve_core_scalar("0o8") == Value("0o8"));
  CHECK(resolve_core_scalar("0xG") == Value("0xG"));
  CHECK(resolve_core_scalar("-0x1F") == Value("-0x1F"));  // no sign on hex in the core schema
  CHECK(resolve_core_scalar("1_000") == Value("1_000"));  // YAML 1.1 only
  CHECK(resolve_core_scalar("0b101") == Value("0b101"));
  // Floats.
  CHECK(resolve_core_scalar("1e3") == Value(1000.0));
  CHECK(resolve_core_scalar("1.5") == Value(1.5));
  CHECK(resolve_core_scalar("-.5") == Value(-0.5));
  CHECK(resolve_core_scalar("+2.") == Value(2.0));
  CHECK(resolve_core_scalar("2.5E-1") == Value(0.25));
  CHECK(resolve_core_scalar("1e-400") == Value(0.0));  // too small: zero
  CHECK(resolve_core_scalar(".inf") == Value(std::numeric_limits<double>::infinity()));
  CHECK(resolve_core_scalar("-.Inf") == Value(-std::numeric_limits<double>::infinity()));
  CHECK(resolve_core_scalar("+.INF") == Value(std::numeric_limits<double>::infinity()));
  const Value nan = resolve_core_scalar(".NaN");
  REQUIRE(nan.kind() == ValueKind::kDouble);
  CHECK(std::isnan(nan.as_double()));
  for (const char* word : {"1e", "e3", ".", "-", "+", "1.2.3", "inf", "nan", "-.nan", "1e3x", "..5",
                           "1,5", " 1", "0x", "3 apples"}) {
    CHECK(resolve_core_scalar(word) == Value(word));
  }
}

// Integers past int64 and floats past double are errors, never silently rounded or wrapped.
TEST_CASE("resolve_core_scalar: numbers out of range are refused", "[pipeline][yaml][errors]") {
  CHECK_THROWS_WITH(resolve_core_scalar("9223372036854775808"),
                    "integer '9223372036854775808' is out of range (64-bit signed)");
  CHECK_THROWS_WITH(resolve_core_scalar("-9223372036854775809"),
                    "integer '-9223372036854775809' is out of range (64-bit signed)");
  CHECK_THROWS_WITH(resolve_core_scalar("0x8000000000000000"),
                    "integer '0x8000000000000000' is out of range (64-bit signed)");
  CHECK_THROWS_WITH(resolve_core_scalar("0o1777777777777777777777"),
                    "integer '0o1777777777777777777777' is out of range (64-bit signed)");
  CHECK_THROWS_WITH(resolve_core_scalar("1e999"), "number '1e999' is out of range");
  CHECK_THROWS_WITH(resolve_core_scalar("-0.000001e400"), "number '-0.000001e400' is out of range");
  CHECK_THROWS_AS(resolve_core_scalar("1e999"), dagflow::ValueError);
}

// Only plain scalars are typed; quoting keeps text as text.
TEST_CASE("read_yaml: quoted and block scalars are strings whatever they look like",
          "[pipeline][yaml]") {
  const YamlNode root = read("a: \"true\"\nb: '3'\nc: \"~\"\nd: |\n  1\ne: ''\nf: !!str yes\n");
  CHECK(dagflow::scalar_value(root.items[0]) == Value("true"));
  CHECK(dagflow::scalar_value(root.items[1]) == Value("3"));
  CHECK(dagflow::scalar_value(root.items[2]) == Value("~"));
  CHECK(dagflow::scalar_value(root.items[3]) == Value("1\n"));
  CHECK(dagflow::scalar_value(root.items[4]) == Value(""));
  CHECK_FALSE(root.items[4].is_null());
  CHECK(dagflow::scalar_value(root.items[5]) == Value("yes"));
  const YamlNode plain = read("a: 3\nb: yes\nc:\nd: null\n");
  CHECK(dagflow::scalar_value(plain.items[0]) == Value(3));
  CHECK(dagflow::scalar_value(plain.items[1]) == Value("yes"));
  CHECK(plain.items[2].is_null());
  CHECK(plain.items[3].is_null());
}

// text_column says where a scalar's text starts when the file holds it as it is (so that an
// offset into it is a column), and 0 when it does not.
TEST_CASE("read_yaml: text_column for scalars written as they are", "[pipeline][yaml]") {
  const YamlNode root = read(
      "a: x + y\n"         // plain: where it starts
      "b: \"x + y\"\n"     // quoted: past the quote
      "c: {k: 'x'}\n"      // in a flow mapping
      "d: \"x\\ty\"\n"     // an escape: not as written
      "e: 'it''s'\n"       // a doubled quote: not as written
      "f: |\n  x\n"        // a block scalar
      "g: two\n  lines\n"  // folded
      "h: !!str x\n");     // tagged
  CHECK(root.items[0].text_column == 4);
  CHECK(root.items[1].text_column == 5);
  CHECK(root.items[2].items[0].text_column == 9);
  CHECK(root.items[3].text_column == 0);
  CHECK(root.items[4].text_column == 0);
  CHECK(root.items[5].text_column == 0);
  CHECK(root.items[6].text_column == 0);
  CHECK(root.items[7].text_column == 0);
}

// A quoted scalar the file ends inside is refused at its opening quote (yaml-cpp would close it
// at the end of the file); escaped and doubled quotes inside closed ones are fine.
TEST_CASE("read_yaml: a quoted scalar never closed is a syntax error at its quote",
          "[pipeline][yaml][errors]") {
  CHECK(read_error("a: 1\nb: 'abc\n") ==
        "t.yaml:2:4: YAML syntax error: the quoted string opened here with ' is never closed");
  CHECK_THAT(read_error("a: 1\nb: \"abc"),
             Catch::StartsWith("t.yaml:2:") && Catch::Contains("YAML syntax error"));
  const YamlNode root = read("a: 'it''s'\nb: \"say \\\"hi\\\"\"\nc: \"multi\n  line\"\n");
  CHECK(dagflow::scalar_value(root.items[0]) == Value("it's"));
  CHECK(dagflow::scalar_value(root.items[1]) == Value("say \"hi\""));
  CHECK(dagflow::scalar_value(root.items[2]) == Value("multi line"));
}

// Tags can never select code or a type: anything but the three harmless core tags is refused.
TEST_CASE("read_yaml: tags never choose a type, only !!str, !!seq and !!map are accepted",
          "[pipeline][yaml][security]") {
  CHECK(read_error("a: !!int 5\n") ==
        "t.yaml:1:4: unsupported tag '!!int': tags never choose a type here (only !!str is "
        "allowed on this node)");
  CHECK(read_error("a: !foo x\n") ==
        "t.yaml:1:4: unsupported tag '!foo': tags never choose a type here (only !!str is "
        "allowed on this node)");
  CHECK(read_error("a: !!binary aGVsbG8=\n").find("unsupported tag '!!binary'") !=
        std::string::npos);
  CHECK(read_error("a: !!python/object:os.system [ls]\n") ==
        "t.yaml:1:4: unsupported tag '!!python/object:os.system': tags never choose a type here "
        "(only !!seq is allowed on this node)");
  CHECK(read_error("a: !!seq {b: 1}\n").find("only !!map is allowed") != std::string::npos);
  const YamlNode root = read("a: !!seq [1]\nb: !!map {c: 2}\n");
  CHECK(root.items[0].is_sequence());
  CHECK(root.items[1].is_mapping());
}

// Anchors and aliases are refused at their position, so alias bombs cannot expand.
TEST_CASE("read_yaml: anchors and aliases are refused where they are written",
          "[pipeline][yaml][security]") {
  CHECK(read_error("&s [ *s ]") ==
        "t.yaml:1:1: anchors and aliases are not supported (found '&s'): write the value out in "
        "full");
  CHECK(read_error("a: 1\nb: &x [1, 2]\nc: *x\n") ==
        "t.yaml:2:4: anchors and aliases are not supported (found '&x'): write the value out in "
        "full");
  // An alias with no anchor is yaml-cpp's syntax error.
  CHECK(read_error("a: *nothing\n") ==
        "t.yaml:1:4: YAML syntax error: the referenced anchor is not defined");
  CHECK(read_error(dagflow::test::alias_bomb()) ==
        "t.yaml:1:4: anchors and aliases are not supported (found '&a'): write the value out in "
        "full");
}

// A key given twice is an error naming both places, never a silent override.
TEST_CASE("read_yaml: duplicate keys are refused with both lines", "[pipeline][yaml][errors]") {
  CHECK(read_error("a: 1\na: 2\n") == "t.yaml:2:1: duplicate key 'a' (first at line 1)");
  CHECK(read_error("x:\n  k: 1\n  j: 2\n  k: 3\n") ==
        "t.yaml:4:3: duplicate key 'k' (first at line 2)");
  CHECK(read_error("a: {b: 1, b: 2}\n") == "t.yaml:1:11: duplicate key 'b' (first at line 1)");
  // A quoted key is the same key as the plain one.
  CHECK(read_error("a: 1\n'a': 2\n") == "t.yaml:2:1: duplicate key 'a' (first at line 1)");
  // The same key in different mappings is fine.
  CHECK(read("a: {k: 1}\nb: {k: 2}\n").keys.size() == 2);
}

// Complex and null keys are refused at their position.
TEST_CASE("read_yaml: mapping keys must be non-null scalars", "[pipeline][yaml][errors]") {
  CHECK(read_error("? [a]\n: 1\n") ==
        "t.yaml:1:3: a mapping key must be a scalar, not a list or mapping");
  CHECK(read_error("{a: 1}: 2\n") ==
        "t.yaml:1:1: a mapping key must be a scalar, not a list or mapping");
  CHECK(read_error("~: 1\n") == "t.yaml:1:1: a mapping key cannot be empty or null");
  CHECK(read_error(": 1\n").find("a mapping key cannot be empty or null") != std::string::npos);
  CHECK(read("1: a\ntrue: b\n").keys[1].text == "true");  // keys are their text
}

// A second document or stray text after the first is refused, never silently ignored.
TEST_CASE("read_yaml: one document only, and stray top-level content is a syntax error",
          "[pipeline][yaml][errors]") {
  CHECK(read_error("a: 1\n---\nb: 2\n") ==
        "t.yaml:2:1: multiple documents are not supported (a second document starts here)");
  CHECK(read_error("a: 1\n---\n") ==
        "t.yaml:2:1: multiple documents are not supported (a second document starts here)");
  CHECK(read_error("a: 1\n...\nb: 2\n") ==
        "t.yaml:3:1: YAML syntax error: unexpected content after the end of the top-level node");
  CHECK(read_error("- a\nb: 1\n") ==
        "t.yaml:2:1: YAML syntax error: unexpected content after the end of the top-level node");
  // yaml-cpp starts empty documents at a stray ',' forever (its LoadAll never ends, #1040).
  CHECK(read_error(",") == "t.yaml:1:1: YAML syntax error: unexpected ','");
  CHECK(read_error(" ,") == "t.yaml:1:2: YAML syntax error: unexpected ','");
  CHECK(read_error(",a") == "t.yaml:1:1: YAML syntax error: unexpected ','");
  // A document end marker alone, or a leading '---', is one document.
  CHECK(read("a: 1\n...\n").keys.size() == 1);
  CHECK(read("---\na: 1\n").keys.size() == 1);
  CHECK(read("%YAML 1.2\n---\na: 1\n").keys.size() == 1);
}

// yaml-cpp's 0-based marks become 1-based positions in messages.
TEST_CASE("read_yaml: syntax errors carry yaml-cpp's position, 1-based",
          "[pipeline][yaml][errors]") {
  // An unclosed flow sequence is reported where the input ends.
  CHECK(read_error("a: [1, 2\n") ==
        "t.yaml:2:1: YAML syntax error: end of sequence flow not found");
  CHECK(read_error("a: b: c\n") == "t.yaml:1:5: YAML syntax error: illegal map value");
  CHECK(read_error("[[:") == "t.yaml:1:3: YAML syntax error: unknown token");
  // An input known to trigger a yaml-cpp bug never reaches it: it is not UTF-8.
  CHECK(read_error("{!\xdb:") == "t.yaml:1:3: invalid UTF-8 (byte 0x3a after 0xdb)");
  CHECK(read_error("{!\xc3\x9b:").find("t.yaml:1:") == 0);
}

// Files from any editor read the same, with positions that match what the editor shows.
TEST_CASE("read_yaml: a BOM is skipped, CRLF and CR read as LF with the right positions",
          "[pipeline][yaml]") {
  const YamlNode bom = read("\xEF\xBB\xBFname: x\nk: 1\n");
  CHECK(bom.keys[0].text == "name");
  CHECK(bom.keys[0].mark.column == 1);
  const YamlNode crlf = read("a: 1\r\nb:\r\n  c: two\r\n");
  REQUIRE(crlf.keys.size() == 2);
  CHECK(crlf.keys[1].mark.line == 2);
  CHECK(crlf.items[1].keys[0].mark.line == 3);
  CHECK(crlf.items[1].keys[0].mark.column == 3);
  CHECK(crlf.items[1].items[0].text == "two");  // no '\r' left in values
  const YamlNode cr = read("a: 1\rb: 2\r");
  CHECK(cr.keys[1].mark.line == 2);
  CHECK(read_error("a: 1\r\nb: [\r\n") ==
        "t.yaml:3:1: YAML syntax error: end of sequence flow not found");
  CHECK(read_error("a: 1\r\nb: c: d\r\n") == "t.yaml:2:5: YAML syntax error: illegal map value");
  // Multi-line quoted scalars fold the same way whatever the line end.
  CHECK(read("a: \"x\r\n  y\"\r\n").items[0].text == "x y");
}

// Bytes that are not valid YAML text are refused before yaml-cpp sees them, with a position.
TEST_CASE("read_yaml: NUL, invalid UTF-8 and control characters are refused with a position",
          "[pipeline][yaml][errors]") {
  using namespace std::string_literals;
  CHECK(read_error("a: 1\nb: x\0y\n"s) ==
        "t.yaml:2:5: NUL byte: a YAML file is text (is this a binary file?)");
  CHECK(read_error("a: \xff\n") == "t.yaml:1:4: invalid UTF-8 (byte 0xff)");
  CHECK(read_error("a: \"caf\xc3\"\n") == "t.yaml:1:8: invalid UTF-8 (byte 0x22 after 0xc3)");
  CHECK(read_error("a: \xc0\xaf\n") ==
        "t.yaml:1:4: invalid UTF-8 (byte 0xc0 starts an overlong sequence or an invalid code "
        "point)");
  CHECK(read_error("a: \xed\xa0\x80\n").find("t.yaml:1:4: invalid UTF-8") == 0);  // surrogate
  CHECK(read_error("a: \xf4\x90\x80\x80\n").find("t.yaml:1:4: invalid UTF-8") == 0);
  CHECK(read_error("a: x\xe2\x82") ==
        "t.yaml:1:5: invalid UTF-8 (a truncated sequence at the end)");
  CHECK(read_error("a: \x1b[31m\n") ==
        "t.yaml:1:4: control character U+001B is not allowed in YAML");
  CHECK(read_error("a: \x7f\n") == "t.yaml:1:4: control character U+007F is not allowed in YAML");
  CHECK(read_error("a: \xc2\x9b\n") ==
        "t.yaml:1:4: control character U+009B is not allowed in YAML");
  // UTF-16 (a BOM, then NULs between ASCII letters) is not UTF-8.
  CHECK(read_error("\xff\xfe"
                   "a\0:\0"s) == "t.yaml:1:1: invalid UTF-8 (byte 0xff)");
  // Valid multi-byte text passes; columns count bytes, as yaml-cpp does.
  const YamlNode utf8 = read("caf\xc3\xa9: \xe2\x82\xac\xf0\x9f\x98\x80\n");
  CHECK(utf8.keys[0].text == "caf\xc3\xa9");
  CHECK(utf8.items[0].text == "\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(utf8.items[0].mark.column == 8);
  CHECK(read_error("\xc3\xa9: b: c\n") == "t.yaml:1:6: YAML syntax error: illegal map value");
}

// A tab in indentation gets a message that says so; tabs inside values are fine.
TEST_CASE("read_yaml: indenting with a tab is a syntax error with a hint, a tab elsewhere is fine",
          "[pipeline][yaml][errors]") {
  CHECK(read_error("a:\n\tb: 1\n") ==
        "t.yaml:2:3: YAML syntax error: illegal map value (line 2 is indented with a tab: YAML "
        "indents with spaces only)");
  CHECK(read_error("a:\n  b: 1\n\tc: 2\n") ==
        "t.yaml:3:1: YAML syntax error: illegal tab when looking for indentation (line 3 is "
        "indented with a tab: YAML indents with spaces only)");
  CHECK(read_error("a:\n  - x\n\t- y\n") ==
        "t.yaml:3:1: YAML syntax error: illegal tab when looking for indentation (line 3 is "
        "indented with a tab: YAML indents with spaces only)");
  // Tabs as separation inside a line, in flow collections and in block scalars are YAML.
  const YamlNode ok = read("a:\t1 \t# comment\nb: [x,\n\ty]\nc: |\n  p\n  \tq\n");
  CHECK(ok.items[0].text == "1");
  CHECK(ok.items[1].items[1].text == "y");
  CHECK(ok.items[2].text == "p\n\tq\n");
  // A tab before a plain value on the next line: yaml-cpp reads the value, so do we.
  CHECK(read("a:\n\tb\n").items[0].text == "b");
}

// The depth limit is exact: kMaxYamlDepth levels read, one more refused where it starts.
TEST_CASE("read_yaml: nesting deeper than kMaxYamlDepth is refused at the node that goes too deep",
          "[pipeline][yaml][limits]") {
  std::string ok(static_cast<std::size_t>(dagflow::kMaxYamlDepth), '[');
  ok += std::string(static_cast<std::size_t>(dagflow::kMaxYamlDepth), ']');
  CHECK(read(ok).is_sequence());
  std::string deep(static_cast<std::size_t>(dagflow::kMaxYamlDepth) + 1, '[');
  deep += std::string(static_cast<std::size_t>(dagflow::kMaxYamlDepth) + 1, ']');
  CHECK(read_error(deep) == "t.yaml:1:65: nesting deeper than 64 levels");
}

// The node budget bounds the memory a document can take.
TEST_CASE("read_yaml: a document with more than kMaxYamlNodes nodes is refused",
          "[pipeline][yaml][limits][slow]") {
  std::string text = "a: [";  // a value streams; at the top level the read-ahead guard stops it
  for (std::size_t i = 0; i < dagflow::kMaxYamlNodes; ++i) text += "1,";
  text += "]";
  const std::string error = read_error(text);
  CHECK(error.find("t.yaml:1:") == 0);
  CHECK(error.find("the document has more than 1000000 nodes") != std::string::npos);
}

// Text quoted into messages can neither hide characters nor flood the terminal.
TEST_CASE("quote_for_message: escapes control characters and cuts long text", "[pipeline][yaml]") {
  CHECK(dagflow::quote_for_message("a\nb\tc\x01") == "'a\\nb\\tc\\x01'");
  const std::string long_text(100, 'x');
  CHECK(dagflow::quote_for_message(long_text) == "'" + std::string(60, 'x') + "...'");
  // Never cuts a UTF-8 sequence in half.
  const std::string euros = std::string(59, 'x') + "\xe2\x82\xac" + "tail";
  CHECK(dagflow::quote_for_message(euros) == "'" + std::string(59, 'x') + "...'");
}

// Messages describe what was found with these exact words.
TEST_CASE("describe_node: names a node's kind for messages", "[pipeline][yaml]") {
  const YamlNode root = read("a: 1\nb: x\nc: [1]\nd: {}\ne:\nf: 1.5\ng: true\nh: '1'\n");
  CHECK(dagflow::describe_node(root.items[0]) == "an int");
  CHECK(dagflow::describe_node(root.items[1]) == "a string");
  CHECK(dagflow::describe_node(root.items[2]) == "a list");
  CHECK(dagflow::describe_node(root.items[3]) == "a mapping");
  CHECK(dagflow::describe_node(root.items[4]) == "null");
  CHECK(dagflow::describe_node(root.items[5]) == "a double");
  CHECK(dagflow::describe_node(root.items[6]) == "a bool");
  CHECK(dagflow::describe_node(root.items[7]) == "a string");
}
