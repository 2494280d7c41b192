#include <dagflow/nodes/csv.hpp>

// Tests of the CSV functions C++ code shares with the read_csv, write_csv and rollup ops:
// parse_csv's quoting, typing and errors, read_csv's file errors, format_csv's layout and round
// trip, and rollup's groups and sums. Rows are compared as compact JSON, which keeps an int
// apart from a double ("1" vs "1.0") and shows a failure readably.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

using dagflow::Value;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using Rows = std::vector<Value::Map>;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::string json(const Rows& rows) {
  Value::List list(rows.begin(), rows.end());
  return dagflow::to_json(Value(std::move(list)));
}

std::string json(const Value::Map& map) { return dagflow::to_json(Value(map)); }

// parse_csv of `text` named "t.csv", as JSON.
std::string parsed(std::string_view text) { return json(dagflow::parse_csv(text, "t.csv")); }

// The message of the dagflow::Error parse_csv throws for `text` named "t.csv", or "(no error)".
std::string parse_error(std::string_view text) {
  return thrown_message<dagflow::Error>([&] { (void)dagflow::parse_csv(text, "t.csv"); });
}

// The message of the dagflow::Error rollup throws, or "(no error)".
std::string rollup_error(const Rows& rows) {
  return thrown_message<dagflow::Error>([&] { (void)dagflow::rollup(rows, "k", "v"); });
}

}  // namespace

// The first record names the columns; every later record becomes one map, in file order.
TEST_CASE("parse_csv: the header names the columns of every row", "[nodes][csv]") {
  CHECK(parsed("city,pop\nOslo,709000\nBergen,291000\n") ==
        R"([{"city":"Oslo","pop":709000},{"city":"Bergen","pop":291000}])");
  CHECK(parsed("") == "[]");
  CHECK(parsed("a,b\n") == "[]");
  CHECK(parsed("a,b") == "[]");
  // The last record needs no line end.
  CHECK(parsed("a,b\n1,x") == R"([{"a":1,"b":"x"}])");
}

// RFC 4180 quoting: commas, line ends and doubled quotes inside quotes are data.
TEST_CASE("parse_csv: quoted fields hold separators, newlines and doubled quotes", "[nodes][csv]") {
  CHECK(parsed("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n") == R"([{"a":"x, y","b":"say \"hi\""}])");
  CHECK(parsed("a,b\n\"two\nlines\",\"crlf\r\ninside\"\n") ==
        R"([{"a":"two\nlines","b":"crlf\r\ninside"}])");
  CHECK(parsed("a\n\"\"\n") == R"([{"a":""}])");  // a quoted empty field is a record
  CHECK(parsed("a,b\n\"\",\n") == R"([{"a":"","b":""}])");
}

// \r\n and \n both end a line; a lone \r is data; a BOM and empty lines are skipped.
TEST_CASE("parse_csv: CRLF, a byte order mark and empty lines", "[nodes][csv]") {
  CHECK(parsed("a,b\r\n1,2\r\n") == R"([{"a":1,"b":2}])");
  CHECK(parsed("a,b\r\n1,2\n3,4\r\n") == R"([{"a":1,"b":2},{"a":3,"b":4}])");
  CHECK(parsed("a\nx\ry\n") == R"([{"a":"x\ry"}])");
  CHECK(parsed("\xEF\xBB\xBF"
               "a\n1\n") == R"([{"a":1}])");
  CHECK(parsed("\n\na\n\n1\r\n\r\n2\n\n") == R"([{"a":1},{"a":2}])");
}

// Unquoted fields that are a whole int64 become ints, finite numbers doubles, the rest strings.
TEST_CASE("parse_csv: unquoted numbers are typed, everything else stays text", "[nodes][csv]") {
  CHECK(parsed("v\n42\n-7\n0\n9223372036854775807\n") ==
        R"([{"v":42},{"v":-7},{"v":0},{"v":9223372036854775807}])");
  // Past int64, or with a point or an exponent: a double.
  CHECK(parsed("v\n9223372036854775808\n1.5\n-0.25\n1e3\n") ==
        R"([{"v":9.223372036854776e+18},{"v":1.5},{"v":-0.25},{"v":1000.0}])");
  // Not a whole number, not finite, signed with '+', padded, or quoted: a string.
  CHECK(parsed("v\nnan\ninf\n+5\n 5\n5 \n0x10\n\"3\"\n") ==
        R"([{"v":"nan"},{"v":"inf"},{"v":"+5"},{"v":" 5"},{"v":"5 "},{"v":"0x10"},{"v":"3"}])");
  // An empty field is an empty string.
  CHECK(parsed("a,b\n,1\n") == R"([{"a":"","b":1}])");
}

// Each malformed record is named by the file's name and the line it starts on.
TEST_CASE("parse_csv: malformed records fail with the name and line", "[nodes][csv]") {
  CHECK(parse_error("a,b\n1,2\n3\n") == "'t.csv' line 3: 1 fields, but the header has 2");
  CHECK(parse_error("a,b\n1,2,3\n") == "'t.csv' line 2: 3 fields, but the header has 2");
  // Lines count the newlines inside quoted fields.
  CHECK(parse_error("a,b\n\"x\ny\",1\n1,2,3\n") ==
        "'t.csv' line 4: 3 fields, but the header has 2");
  // An unclosed quote is reported where it opens.
  CHECK(parse_error("a\n1\n\"never\nclosed\n") == "'t.csv' line 3: a quoted field is not closed");
  CHECK(parse_error("a,b\n\"x\"y,1\n") ==
        "'t.csv' line 2: unexpected character after a closing quote");
  CHECK(parse_error("a,b,a\n1,2,3\n") ==
        "'t.csv' line 1: the column 'a' appears twice in the header");
  CHECK(thrown_message<dagflow::Error>([] { (void)dagflow::parse_csv("a\n\"", "dir/x.csv"); }) ==
        "'dir/x.csv' line 2: a quoted field is not closed");
}

// read_csv parses a file, naming it as given, and says why it cannot read one.
TEST_CASE("read_csv: reads a file and names it in errors", "[nodes][csv]") {
  const TempDir dir;
  const auto file = dir.write("sales.csv", "region,amount\nnorth,10\nsouth,2.5\n");
  CHECK(json(dagflow::read_csv(file)) ==
        R"([{"amount":10,"region":"north"},{"amount":2.5,"region":"south"}])");

  const auto bad = dir.write("bad.csv", "a\n\"open\n");
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_csv(bad); }) ==
        "'" + bad.string() + "' line 2: a quoted field is not closed");
  const auto missing = dir.path() / "missing.csv";
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_csv(missing); }) ==
        "cannot read '" + missing.string() + "': No such file or directory");
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_csv(dir.path()); }) ==
        "cannot read '" + dir.path().string() + "': Is a directory");
}

// Columns are the sorted union of the rows' keys; a missing key or null is an empty field.
TEST_CASE("format_csv: sorted columns, empty fields for missing keys", "[nodes][csv]") {
  CHECK(dagflow::format_csv({Value::Map{{"b", 1}, {"a", "x"}}, Value::Map{{"c", 2.5}},
                             Value::Map{{"a", Value()}, {"b", true}, {"c", false}}}) ==
        "a,b,c\n"
        "x,1,\n"
        ",,2.5\n"
        ",true,false\n");
  CHECK(dagflow::format_csv({}).empty());
  CHECK(dagflow::format_csv({Value::Map{}, Value::Map{}}).empty());
}

// Strings are quoted only when they must be: a separator, a quote, a line end, or text that
// would read back as a number. Doubles keep their point; paths are written as shown.
TEST_CASE("format_csv: quotes strings only when reading back needs it", "[nodes][csv]") {
  CHECK(dagflow::format_csv({Value::Map{{"s", "plain text"}}, Value::Map{{"s", "a,b"}},
                             Value::Map{{"s", "say \"hi\""}}, Value::Map{{"s", "two\nlines"}},
                             Value::Map{{"s", "cr\ronly"}}, Value::Map{{"s", "12"}},
                             Value::Map{{"s", "-0.5"}}, Value::Map{{"s", "1e3"}},
                             Value::Map{{"s", "nan"}}, Value::Map{{"s", " 7"}}}) ==
        "s\n"
        "plain text\n"
        "\"a,b\"\n"
        "\"say \"\"hi\"\"\"\n"
        "\"two\nlines\"\n"
        "\"cr\ronly\"\n"
        "\"12\"\n"
        "\"-0.5\"\n"
        "\"1e3\"\n"
        "nan\n"
        " 7\n");
  CHECK(dagflow::format_csv({Value::Map{{"d", 2.0}}, Value::Map{{"d", 0.1}},
                             Value::Map{{"d", -3.0}}}) == "d\n2.0\n0.1\n-3.0\n");
  CHECK(dagflow::format_csv({Value::Map{{"p", Value::path("/data/in, out.txt", "in, out.txt")}},
                             Value::Map{{"p", Value::path("/data/a.txt", "a.txt")}}}) ==
        "p\n\"in, out.txt\"\na.txt\n");
  // Column names are quoted when they hold a separator, or are empty.
  CHECK(dagflow::format_csv({Value::Map{{"a,b", 1}, {"", 2}}}) == "\"\",\"a,b\"\n2,1\n");
}

// A row with one empty field would be an empty line, which reading skips: it is written "".
TEST_CASE("format_csv: a row of one empty field survives reading back", "[nodes][csv]") {
  const Rows rows{Value::Map{{"a", ""}}, Value::Map{{"a", "x"}}, Value::Map{{"a", Value()}}};
  const std::string text = dagflow::format_csv(rows);
  CHECK(text == "a\n\"\"\nx\n\"\"\n");
  CHECK(parsed(text) == R"([{"a":""},{"a":"x"},{"a":""}])");
}

// What format_csv writes, parse_csv reads back as the same rows (ints, doubles, strings).
TEST_CASE("format_csv: parse_csv reads back the rows it wrote", "[nodes][csv]") {
  const Rows rows{
      Value::Map{{"id", 1}, {"name", "plain"}, {"score", 2.0}, {"tag", "12"}},
      Value::Map{{"id", -2}, {"name", "a, \"b\"\nc"}, {"score", 0.125}, {"tag", "nan"}},
      Value::Map{{"id", kMax}, {"name", ""}, {"score", -1e-300}, {"tag", "1.0"}},
  };
  const std::vector<Value::Map> back = dagflow::parse_csv(dagflow::format_csv(rows), "t.csv");
  CHECK(json(back) == json(rows));
  CHECK(back == rows);
}

// Lists and maps have no CSV form: the row and column are named.
TEST_CASE("format_csv: a list or map value fails naming its row and column", "[nodes][csv]") {
  CHECK(thrown_message<dagflow::Error>([] {
          (void)dagflow::format_csv({Value::Map{{"a", 1}}, Value::Map{{"a", Value::List{1}}}});
        }) == "row 1, column 'a': a list cannot be written to CSV (only scalars)");
  CHECK(thrown_message<dagflow::Error>([] {
          (void)dagflow::format_csv({Value::Map{{"a", 1}, {"z", Value::Map{}}}});
        }) == "row 0, column 'z': a map cannot be written to CSV (only scalars)");
}

// Each group gets count, sum, mean, min and max; all-int groups sum exactly as ints.
TEST_CASE("rollup: summarises the value column per key", "[nodes][csv]") {
  const Rows rows{Value::Map{{"k", "north"}, {"v", 10}}, Value::Map{{"k", "south"}, {"v", 4}},
                  Value::Map{{"k", "north"}, {"v", -3}}, Value::Map{{"k", "north"}, {"v", 5}},
                  Value::Map{{"k", "south"}, {"v", 4}}};
  CHECK(json(dagflow::rollup(rows, "k", "v")) ==
        R"({"north":{"count":3,"max":10,"mean":4.0,"min":-3,"sum":12},)"
        R"("south":{"count":2,"max":4,"mean":4.0,"min":4,"sum":8}})");
  CHECK(dagflow::rollup({}, "k", "v").empty());
  // The sum of ints is exact up to the int64 limit.
  CHECK(json(dagflow::rollup(
            {Value::Map{{"k", "a"}, {"v", kMax - 1}}, Value::Map{{"k", "a"}, {"v", 1}}}, "k",
            "v")) == R"({"a":{"count":2,"max":9223372036854775806,"mean":4.611686018427388e+18,)"
                     R"("min":1,"sum":9223372036854775807}})");
}

// A double anywhere in a group makes its sum a double, added in row order; min and max keep
// the kind of the value they are.
TEST_CASE("rollup: a double makes the sum a double, added in row order", "[nodes][csv]") {
  const Rows rows{Value::Map{{"k", "a"}, {"v", 0.1}}, Value::Map{{"k", "a"}, {"v", 0.2}},
                  Value::Map{{"k", "a"}, {"v", 0.3}}};
  const Value::Map out = dagflow::rollup(rows, "k", "v");
  const Value::Map& a = out.at("a").as_map();
  // In row order 0.1 + 0.2 + 0.3 is 0.6000000000000001; in reverse order it would be 0.6.
  CHECK(a.at("sum") == Value(0.1 + 0.2 + 0.3));
  CHECK(a.at("sum") != Value(0.3 + 0.2 + 0.1));
  CHECK(a.at("mean") == Value((0.1 + 0.2 + 0.3) / 3));

  const Value::Map mixed =
      dagflow::rollup({Value::Map{{"k", "m"}, {"v", 3}}, Value::Map{{"k", "m"}, {"v", 1.5}},
                       Value::Map{{"k", "m"}, {"v", 2}}},
                      "k", "v");
  CHECK(json(mixed) ==
        R"({"m":{"count":3,"max":3,"mean":2.1666666666666665,"min":1.5,"sum":6.5}})");
}

// A string key is its own group name; any other key is grouped by its JSON.
TEST_CASE("rollup: non-string keys group by their JSON", "[nodes][csv]") {
  const Rows rows{Value::Map{{"k", 7}, {"v", 1}},
                  Value::Map{{"k", "7"}, {"v", 2}},
                  Value::Map{{"k", 2.5}, {"v", 3}},
                  Value::Map{{"k", true}, {"v", 4}},
                  Value::Map{{"k", Value()}, {"v", 5}},
                  Value::Map{{"k", "x y"}, {"v", 6}},
                  Value::Map{{"k", Value::path("/d/f.csv", "f.csv")}, {"v", 7}}};
  const Value::Map out = dagflow::rollup(rows, "k", "v");
  std::vector<std::string> groups;
  for (const auto& [name, summary] : out) groups.push_back(name);
  CHECK(groups == std::vector<std::string>{"2.5", "7", "f.csv", "null", "true", "x y"});
  CHECK(out.at("7").as_map().at("count") == Value(2));  // the int 7 and the string "7"
  CHECK(out.at("7").as_map().at("sum") == Value(3));
}

// Missing columns, values that are not numbers and int64 overflow fail with the row.
TEST_CASE("rollup: bad rows fail naming the row and column", "[nodes][csv]") {
  CHECK(rollup_error({Value::Map{{"k", "a"}, {"v", 1}}, Value::Map{{"v", 2}}}) ==
        "row 1 has no column 'k'");
  CHECK(rollup_error({Value::Map{{"k", "a"}}}) == "row 0 has no column 'v'");
  CHECK(rollup_error({Value::Map{{"k", "a"}, {"v", "12"}}}) ==
        "row 0: the column 'v' is not a number: \"12\"");
  CHECK(rollup_error({Value::Map{{"k", "a"}, {"v", 1}}, Value::Map{{"k", "a"}, {"v", true}}}) ==
        "row 1: the column 'v' is not a number: true");
  CHECK(rollup_error({Value::Map{{"k", "a"}, {"v", Value()}}}) ==
        "row 0: the column 'v' is not a number: null");
  CHECK(rollup_error({Value::Map{{"k", "a"}, {"v", kMax}}, Value::Map{{"k", "b"}, {"v", 1}},
                      Value::Map{{"k", "a"}, {"v", 1}}}) ==
        "row 2: int64 overflow in the sum of 'v' for 'a'");
}
