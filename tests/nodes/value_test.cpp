#include <dagflow/nodes/value.hpp>

// Tests of dagflow::Value: kinds and accessors, the ValueConvert conversions, equality, hashing
// (a path by its file's content), cereal round trips, ValueSize and map over a list Value.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/file.hpp>
#include <dagflow/graph/serialization.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_value;
using dagflow::hash_value;
using dagflow::PathValue;
using dagflow::to_value;
using dagflow::Value;
using dagflow::ValueConvert;
using dagflow::ValueError;
using dagflow::ValueKind;
using dagflow::test::TempDir;
using dagflow::test::write_file;
// Aliases keep template commas out of the Catch macros.
using IntMap = std::map<std::string, int>;
using IntListMap = std::map<std::string, std::vector<int>>;

// A value with every kind in it, nested.
Value sample_value() {
  return Value::Map{
      {"null", nullptr},
      {"flag", true},
      {"count", 42},
      {"ratio", 0.25},
      {"name", "dagflow"},
      {"input", Value::path("/data/in.txt", "in.txt")},
      {"items", Value::List{1, "two", 3.5, Value::List{}, Value::Map{{"deep", false}}}},
  };
}

}  // namespace

// ---- Kinds and accessors ---------------------------------------------------------------------

// Every constructor makes the kind it says, and the accessors give back what went in.
TEST_CASE("Value: each constructor makes its kind and the accessors return its content",
          "[nodes][value]") {
  CHECK(Value().kind() == ValueKind::kNull);
  CHECK(Value().is_null());
  CHECK(Value(nullptr).is_null());
  CHECK(Value(true).as_bool());
  CHECK(Value(std::int8_t{-5}).as_int() == -5);
  CHECK(Value(std::uint32_t{4000000000U}).as_int() == 4000000000LL);
  CHECK(Value(2.5).as_double() == 2.5);
  CHECK(Value("text").as_string() == "text");
  CHECK(Value(std::string_view("view")).as_string() == "view");
  CHECK(Value(std::string("str")).kind() == ValueKind::kString);
  CHECK(Value(PathValue{"/a/b", "b"}).as_path().shown == "b");
  CHECK(Value(Value::List{1, 2}).as_list().size() == 2);
  CHECK(Value(Value::Map{{"k", 1}}).as_map().at("k").as_int() == 1);

  CHECK(Value(3).is_number());
  CHECK(Value(3.0).is_number());
  CHECK_FALSE(Value("3").is_number());
  // as_double converts an int; as_int does not convert a double.
  CHECK(Value(3).as_double() == 3.0);
  CHECK_THROWS_WITH(Value(3.0).as_int(), "expected int, got double");
}

// Messages name kinds with these exact words.
TEST_CASE("kind_name: names every kind", "[nodes][value]") {
  CHECK(dagflow::kind_name(ValueKind::kNull) == "null");
  CHECK(dagflow::kind_name(ValueKind::kBool) == "bool");
  CHECK(dagflow::kind_name(ValueKind::kInt) == "int");
  CHECK(dagflow::kind_name(ValueKind::kDouble) == "double");
  CHECK(dagflow::kind_name(ValueKind::kString) == "string");
  CHECK(dagflow::kind_name(ValueKind::kPath) == "path");
  CHECK(dagflow::kind_name(ValueKind::kList) == "list");
  CHECK(dagflow::kind_name(ValueKind::kMap) == "map");
}

// Asking for the wrong kind is a ValueError that says what was expected and what was there.
TEST_CASE("Value: accessors of the wrong kind throw ValueError naming both kinds",
          "[nodes][value][errors]") {
  const Value s("x");
  CHECK_THROWS_WITH(s.as_int(), "expected int, got string");
  CHECK_THROWS_WITH(s.as_bool(), "expected bool, got string");
  CHECK_THROWS_WITH(s.as_double(), "expected double, got string");
  CHECK_THROWS_WITH(Value(1).as_string(), "expected string, got int");
  CHECK_THROWS_WITH(Value().as_path(), "expected path, got null");
  CHECK_THROWS_WITH(Value::path("/p").as_string(), "expected string, got path");
  CHECK_THROWS_WITH(Value(true).as_list(), "expected list, got bool");
  CHECK_THROWS_WITH(Value(Value::List{}).as_map(), "expected map, got list");
  Value mutable_value(1.5);
  CHECK_THROWS_AS(mutable_value.as_list(), ValueError);
  CHECK_THROWS_AS(mutable_value.as_map(), ValueError);
  // ValueError is a dagflow::Error.
  CHECK_THROWS_AS(s.as_int(), dagflow::Error);
}

// as_list() and as_map() on a non-const Value give references into it.
TEST_CASE("Value: the mutable accessors change the value in place", "[nodes][value]") {
  Value v = Value::Map{{"list", Value::List{1}}};
  v.as_map()["list"].as_list().push_back(2);
  v.as_map()["new"] = "x";
  CHECK(v == Value(Value::Map{{"list", Value::List{1, 2}}, {"new", "x"}}));
}

// Integers are int64: a larger unsigned value is refused, never wrapped.
TEST_CASE("Value: an unsigned integer above INT64_MAX does not fit", "[nodes][value][errors]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
  CHECK(Value(kMax).as_int() == std::numeric_limits<std::int64_t>::max());
  CHECK_THROWS_AS(Value(kMax + 1), ValueError);
  CHECK_THROWS_AS(to_value(std::numeric_limits<std::uint64_t>::max()), ValueError);
}

// A path Value keeps the resolved path and how to show it.
TEST_CASE("Value: path shows the resolved path unless told otherwise", "[nodes][value]") {
  const Value plain = Value::path("/data/a.txt");
  CHECK(plain.as_path().resolved == fs::path("/data/a.txt"));
  CHECK(plain.as_path().shown == "/data/a.txt");
  const Value shown = Value::path("/data/a.txt", "a.txt");
  CHECK(shown.as_path().shown == "a.txt");
  // Paths compare by where the file is, not by how they print.
  CHECK(plain == shown);
  CHECK(plain != Value::path("/data/b.txt", "a.txt"));
}

// 1 and 1.0 are different Values; paths compare by their resolved form.
TEST_CASE("Value: equality needs the same kind and the same contents", "[nodes][value]") {
  CHECK(Value(1) == Value(1));
  CHECK(Value(1) != Value(1.0));
  CHECK(Value(1) != Value(true));
  CHECK(Value("a") != Value::path("a"));
  CHECK(Value() == Value(nullptr));
  CHECK(Value(Value::List{}) != Value(Value::Map{}));
  CHECK(sample_value() == sample_value());
  Value changed = sample_value();
  changed.as_map()["items"].as_list()[4].as_map()["deep"] = true;
  CHECK(changed != sample_value());
}

// ---- Conversions -----------------------------------------------------------------------------

// An op taking a const Value& gets the Value itself, not a copy.
TEST_CASE("ValueConvert: Value passes through by reference", "[nodes][value][convert]") {
  const Value v = sample_value();
  const Value& same = from_value<Value>(v);
  CHECK(&same == &v);
  CHECK(ValueConvert<Value>::accepts(Value()));
  CHECK(ValueConvert<Value>::type_name() == "any");
  CHECK(to_value(Value(3)) == Value(3));
}

// No number or string silently becomes a bool.
TEST_CASE("ValueConvert: bool converts from a bool only", "[nodes][value][convert]") {
  CHECK(from_value<bool>(Value(true)));
  CHECK_FALSE(from_value<bool>(Value(false)));
  CHECK_THROWS_WITH(from_value<bool>(Value(1)), "expected bool, got int");
  CHECK(ValueConvert<bool>::accepts(Value(false)));
  CHECK_FALSE(ValueConvert<bool>::accepts(Value("true")));
  CHECK(to_value(true) == Value(true));
  CHECK(ValueConvert<bool>::type_name() == "bool");
}

// An integer parameter never receives a double, and never a value out of its range.
TEST_CASE("ValueConvert: integers convert from an int only, range-checked for the target type",
          "[nodes][value][convert]") {
  CHECK(from_value<int>(Value(-7)) == -7);
  CHECK(from_value<std::int64_t>(Value(std::numeric_limits<std::int64_t>::min())) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(from_value<std::uint8_t>(Value(255)) == 255);
  CHECK(from_value<std::uint64_t>(Value(std::numeric_limits<std::int64_t>::max())) ==
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  CHECK(from_value<char>(Value(65)) == 'A');
  CHECK(from_value<std::size_t>(Value(0)) == 0);

  // A double is not an int, not even a whole one.
  CHECK_THROWS_WITH(from_value<int>(Value(2.0)), "expected int, got double");
  CHECK_FALSE(ValueConvert<int>::accepts(Value(2.0)));
  CHECK_THROWS_WITH(from_value<int>(Value("2")), "expected int, got string");

  CHECK_THROWS_WITH(from_value<std::uint8_t>(Value(300)), "value 300 out of range for uint8");
  CHECK_THROWS_WITH(from_value<std::uint32_t>(Value(-1)), "value -1 out of range for uint32");
  CHECK_THROWS_WITH(from_value<std::int16_t>(Value(-40000)), "value -40000 out of range for int16");
  CHECK_THROWS_WITH(from_value<int>(Value(std::int64_t{1} << 40)),
                    "value 1099511627776 out of range for int32");
  CHECK_THROWS_AS(from_value<std::uint64_t>(Value(-1)), ValueError);
  CHECK(ValueConvert<std::uint8_t>::accepts(Value(0)));
  CHECK(ValueConvert<std::uint8_t>::accepts(Value(255)));
  CHECK_FALSE(ValueConvert<std::uint8_t>::accepts(Value(256)));
  CHECK_FALSE(ValueConvert<std::uint8_t>::accepts(Value(-1)));
  CHECK_FALSE(ValueConvert<std::int8_t>::accepts(Value(-129)));
  CHECK(ValueConvert<std::int8_t>::accepts(Value(-128)));

  CHECK(to_value(std::int16_t{-3}) == Value(-3));
  CHECK(to_value(std::uint8_t{200}).as_int() == 200);
  CHECK(ValueConvert<std::uint16_t>::type_name() == "int");
  CHECK(ValueConvert<long long>::type_name() == "int");
}

// Floating-point parameters accept both number kinds.
TEST_CASE("ValueConvert: double and float convert from an int or a double",
          "[nodes][value][convert]") {
  CHECK(from_value<double>(Value(0.5)) == 0.5);
  CHECK(from_value<double>(Value(3)) == 3.0);
  CHECK(from_value<float>(Value(0.5)) == 0.5F);
  CHECK(from_value<float>(Value(-2)) == -2.0F);
  CHECK(std::isinf(from_value<float>(Value(std::numeric_limits<double>::infinity()))));
  CHECK(std::isnan(from_value<float>(Value(std::nan("")))));
  CHECK_THROWS_WITH(from_value<double>(Value("1.5")), "expected number, got string");
  CHECK_THROWS_WITH(from_value<float>(Value(true)), "expected number, got bool");
  // A finite double beyond float's range does not silently become infinity.
  CHECK_THROWS_WITH(from_value<float>(Value(1e300)), "value 1e+300 out of range for float");
  CHECK_FALSE(ValueConvert<float>::accepts(Value(-1e300)));
  CHECK(ValueConvert<double>::accepts(Value(1)));
  CHECK_FALSE(ValueConvert<double>::accepts(Value()));
  CHECK(to_value(1.5) == Value(1.5));
  CHECK(to_value(1.5F).kind() == ValueKind::kDouble);
  CHECK(ValueConvert<double>::type_name() == "number");
  CHECK(ValueConvert<float>::type_name() == "number");
}

// String parameters bind to the Value's own string, without a copy.
TEST_CASE("ValueConvert: std::string converts from a string only, as a reference into the value",
          "[nodes][value][convert]") {
  const Value v("hello");
  const std::string& s = from_value<std::string>(v);
  CHECK(&s == &v.as_string());
  CHECK(from_value<std::string_view>(v).data() == v.as_string().data());
  CHECK_THROWS_WITH(from_value<std::string>(Value::path("/x")), "expected string, got path");
  CHECK_THROWS_WITH(from_value<std::string_view>(Value(1)), "expected string, got int");
  CHECK(ValueConvert<std::string>::accepts(v));
  CHECK_FALSE(ValueConvert<std::string>::accepts(Value(1)));
  CHECK(to_value(std::string("a")) == Value("a"));
  CHECK(to_value(std::string_view("b")) == Value("b"));
  CHECK(to_value("c") == Value("c"));
  const char* c_string = "d";
  CHECK(to_value(c_string) == Value("d"));
  CHECK(ValueConvert<std::string>::type_name() == "string");
}

// Path parameters get the resolved path of a path Value, or a string as written.
TEST_CASE("ValueConvert: std::filesystem::path converts from a path or a string",
          "[nodes][value][convert]") {
  CHECK(from_value<fs::path>(Value::path("/abs/file.txt", "file.txt")) ==
        fs::path("/abs/file.txt"));
  CHECK(from_value<fs::path>(Value("rel/file.txt")) == fs::path("rel/file.txt"));
  CHECK_THROWS_WITH(from_value<fs::path>(Value(1)), "expected path, got int");
  CHECK(ValueConvert<fs::path>::accepts(Value("x")));
  CHECK(ValueConvert<fs::path>::accepts(Value::path("x")));
  CHECK_FALSE(ValueConvert<fs::path>::accepts(Value()));
  const Value back = to_value(fs::path("/out/result.csv"));
  REQUIRE(back.kind() == ValueKind::kPath);
  CHECK(back.as_path().resolved == fs::path("/out/result.csv"));
  CHECK(back.as_path().shown == "/out/result.csv");
  CHECK(ValueConvert<fs::path>::type_name() == "path");

  const Value p = Value::path("/a", "a");
  CHECK(&from_value<PathValue>(p) == &p.as_path());
  CHECK_FALSE(ValueConvert<PathValue>::accepts(Value("/a")));
}

// A bad element is reported by its index.
TEST_CASE("ValueConvert: vectors convert element by element and name the element that failed",
          "[nodes][value][convert]") {
  CHECK(from_value<std::vector<int>>(Value(Value::List{1, 2, 3})) == std::vector<int>{1, 2, 3});
  CHECK(from_value<std::vector<int>>(Value(Value::List{})).empty());
  CHECK(from_value<std::vector<bool>>(Value(Value::List{true, false})) ==
        std::vector<bool>{true, false});
  CHECK(from_value<std::vector<std::string>>(Value(Value::List{"a", "b"})) ==
        std::vector<std::string>{"a", "b"});

  CHECK_THROWS_WITH(from_value<std::vector<int>>(Value(Value::List{1, 2, 3, "x"})),
                    "expected list of int, got list with a string at [3]");
  CHECK_THROWS_WITH(from_value<std::vector<int>>(Value(Value::List{0.5})),
                    "expected list of int, got list with a double at [0]");
  CHECK_THROWS_WITH(from_value<std::vector<int>>(Value(Value::Map{})),
                    "expected list of int, got map");
  CHECK_THROWS_WITH(from_value<std::vector<std::uint8_t>>(Value(Value::List{1, 300})),
                    "expected list of int: at [1]: value 300 out of range for uint8");
  // Nested lists keep the whole location.
  const Value nested = Value::List{Value::List{1}, Value::List{2, true}};
  CHECK_THROWS_WITH(from_value<std::vector<std::vector<int>>>(nested),
                    "expected list of list of int, got list with a bool at [1][1]");
  CHECK_THROWS_AS(from_value<std::vector<bool>>(Value(Value::List{true, 1})), ValueError);

  CHECK(ValueConvert<std::vector<int>>::accepts(Value(Value::List{1, 2})));
  CHECK_FALSE(ValueConvert<std::vector<int>>::accepts(Value(Value::List{1, "2"})));
  CHECK_FALSE(ValueConvert<std::vector<std::vector<int>>>::accepts(nested));
  CHECK(ValueConvert<std::vector<std::vector<int>>>::accepts(
      Value(Value::List{Value::List{1}, Value::List{}})));
  CHECK_FALSE(ValueConvert<std::vector<std::uint8_t>>::accepts(Value(Value::List{1, 300})));
  CHECK_FALSE(ValueConvert<std::vector<int>>::accepts(Value("1")));

  CHECK(to_value(std::vector<int>{1, 2}) == Value(Value::List{1, 2}));
  CHECK(to_value(std::vector<bool>{true, false}) == Value(Value::List{true, false}));
  CHECK(to_value(std::vector<std::vector<std::string>>{{"a"}, {}}) ==
        Value(Value::List{Value::List{"a"}, Value::List{}}));
  CHECK(ValueConvert<std::vector<std::vector<std::string>>>::type_name() ==
        "list of list of string");
}

// Large results are moved into the Value, not copied.
TEST_CASE("ValueConvert: converting an rvalue container moves its elements into the value",
          "[nodes][value][convert]") {
  // Long enough not to fit in the small-string buffer, so a move keeps the same characters.
  std::vector<std::string> words{std::string(100, 'w')};
  const char* const characters = words[0].data();
  const Value v = to_value(std::move(words));
  CHECK(v.as_list()[0].as_string().data() == characters);

  std::map<std::string, std::string> map{{"k", std::string(100, 'm')}};
  const char* const map_characters = map.at("k").data();
  const Value m = to_value(std::move(map));
  CHECK(m.as_map().at("k").as_string().data() == map_characters);

  // An lvalue is copied and left as it was.
  const std::vector<std::string> kept{"a", "b"};
  CHECK(to_value(kept) == Value(Value::List{"a", "b"}));
  CHECK(kept.size() == 2);
}

// Parameters of the Value container types bind without a copy.
TEST_CASE("ValueConvert: Value::List and Value::Map convert as references into the value",
          "[nodes][value][convert]") {
  const Value list = Value::List{1, "a"};
  CHECK(&from_value<Value::List>(list) == &list.as_list());
  CHECK_THROWS_WITH(from_value<Value::List>(Value(1)), "expected list, got int");
  const Value map = Value::Map{{"a", 1}};
  CHECK(&from_value<Value::Map>(map) == &map.as_map());
  CHECK(ValueConvert<Value::Map>::accepts(map));
  CHECK_FALSE(ValueConvert<Value::Map>::accepts(list));
  CHECK(to_value(Value::List{1}) == Value(Value::List{1}));
}

// A bad map entry is reported by its key.
TEST_CASE("ValueConvert: maps convert value by value and name the key that failed",
          "[nodes][value][convert]") {
  const Value v = Value::Map{{"a", 1}, {"b", 2}};
  CHECK(from_value<IntMap>(v) == IntMap{{"a", 1}, {"b", 2}});
  CHECK(from_value<std::map<std::string, double, std::less<>>>(v).at("b") == 2.0);
  CHECK_THROWS_WITH(from_value<IntMap>(Value(Value::Map{{"a", 1}, {"b", "x"}})),
                    "expected map of int, got map with a string at [\"b\"]");
  CHECK_THROWS_WITH(from_value<IntListMap>(Value(Value::Map{{"k", Value::List{1, Value()}}})),
                    "expected map of list of int, got map with a null at [\"k\"][1]");
  CHECK_THROWS_WITH(from_value<IntMap>(Value(Value::List{})), "expected map of int, got list");
  CHECK(ValueConvert<IntMap>::accepts(v));
  CHECK_FALSE(ValueConvert<std::map<std::string, std::uint8_t>>::accepts(
      Value(Value::Map{{"a", 1}, {"b", 1000}})));
  CHECK(to_value(IntMap{{"x", 1}}) == Value(Value::Map{{"x", 1}}));
  CHECK(ValueConvert<std::map<std::string, std::vector<bool>>>::type_name() ==
        "map of list of bool");
}

// std::pair maps to a list of exactly two elements, both ways.
TEST_CASE("ValueConvert: pairs convert as two-element lists", "[nodes][value][convert]") {
  const Value v = Value::List{3, "three"};
  const auto pair = from_value<std::pair<int, std::string>>(v);
  CHECK(pair.first == 3);
  CHECK(pair.second == "three");
  CHECK_THROWS_WITH((from_value<std::pair<int, int>>(Value(Value::List{1}))),
                    "expected pair of int and int, got a list of 1 item");
  CHECK_THROWS_WITH((from_value<std::pair<int, int>>(Value(Value::List{1, "2"}))),
                    "expected pair of int and int, got list with a string at [1]");
  CHECK(ValueConvert<std::pair<int, std::string>>::accepts(v));
  CHECK_FALSE(ValueConvert<std::pair<std::string, int>>::accepts(v));
  CHECK_FALSE(ValueConvert<std::pair<int, std::string>>::accepts(Value(Value::List{3, "x", 1})));
  CHECK(to_value(std::pair<int, std::string>{1, "a"}) == Value(Value::List{1, "a"}));
  CHECK(ValueConvert<std::pair<int, std::string>>::type_name() == "pair of int and string");
}

// null is an empty optional; anything else must convert to the optional's type.
TEST_CASE("ValueConvert: optionals convert from null or from their type",
          "[nodes][value][convert]") {
  CHECK(from_value<std::optional<int>>(Value()) == std::nullopt);
  CHECK(from_value<std::optional<int>>(Value(4)) == 4);
  CHECK_THROWS_WITH(from_value<std::optional<int>>(Value("4")), "expected int, got string");
  CHECK(ValueConvert<std::optional<int>>::accepts(Value()));
  CHECK_FALSE(ValueConvert<std::optional<int>>::accepts(Value(0.5)));
  CHECK(to_value(std::optional<int>()) == Value());
  CHECK(to_value(std::optional<int>(2)) == Value(2));
  CHECK(ValueConvert<std::optional<int>>::type_name() == "int or null");
}

// OpRegistry::add accepts exactly the types ValueConvertible admits.
TEST_CASE("ValueConvertible: tells the convertible types from the others",
          "[nodes][value][convert]") {
  STATIC_REQUIRE(dagflow::ValueConvertible<int>);
  STATIC_REQUIRE(dagflow::ValueConvertible<const std::string&>);
  STATIC_REQUIRE(dagflow::ValueConvertible<std::vector<std::map<std::string, fs::path>>>);
  STATIC_REQUIRE_FALSE(dagflow::ValueConvertible<std::vector<int*>>);
  STATIC_REQUIRE_FALSE(dagflow::ValueConvertible<std::map<int, int>>);
  STATIC_REQUIRE_FALSE(dagflow::ValueConvertible<const char*>);  // one way only
}

// ---- Hashing ---------------------------------------------------------------------------------

// Value hashes are content keys: equal content, equal hash; any difference, including kind,
// changes it.
TEST_CASE("Value: equal values hash equal and different values differently",
          "[nodes][value][hashing]") {
  CHECK(hash_value(sample_value()) == hash_value(sample_value()));
  CHECK(hash_value(Value(1)) != hash_value(Value(1.0)));
  CHECK(hash_value(Value(1)) != hash_value(Value(true)));
  CHECK(hash_value(Value(0)) != hash_value(Value()));
  CHECK(hash_value(Value("a")) != hash_value(Value("b")));
  CHECK(hash_value(Value(Value::List{})) != hash_value(Value(Value::Map{})));
  CHECK(hash_value(Value(Value::List{"a", 1})) != hash_value(Value(Value::Map{{"a", 1}})));
  // Lengths keep composites unambiguous.
  CHECK(hash_value(Value(Value::List{"ab", ""})) != hash_value(Value(Value::List{"a", "b"})));
  CHECK(hash_value(Value(Value::List{Value::List{1}, 2})) !=
        hash_value(Value(Value::List{Value::List{1, 2}})));
  // Doubles are normalised as elsewhere: -0.0 equals 0.0.
  CHECK(hash_value(Value(-0.0)) == hash_value(Value(0.0)));
}

// Maps built in any order are the same content key.
TEST_CASE("Value: a map's hash does not depend on the order its keys were inserted in",
          "[nodes][value][hashing]") {
  Value::Map forward;
  forward["a"] = 1;
  forward["b"] = Value::List{2};
  forward["c"] = "3";
  Value::Map backward;
  backward["c"] = "3";
  backward["b"] = Value::List{2};
  backward["a"] = 1;
  CHECK(hash_value(Value(forward)) == hash_value(Value(backward)));
  backward["a"] = 2;
  CHECK(hash_value(Value(forward)) != hash_value(Value(backward)));
}

// A path Value is keyed by its file's bytes, like dagflow::File, so edits rerun its readers.
TEST_CASE("Value: a path hashes as its file's content", "[nodes][value][hashing]") {
  const TempDir dir;
  const fs::path a = dir.path() / "a.txt";
  const fs::path b = dir.path() / "b.txt";
  write_file(a, "first");
  write_file(b, "first");

  const Value path_a = Value::path(a, "a.txt");
  const auto before = hash_value(path_a);
  // Another file with the same bytes is the same input; how it prints does not matter.
  CHECK(hash_value(Value::path(b, "b.txt")) == before);
  CHECK(hash_value(Value::path(a, "shown otherwise")) == before);
  // A path is not the string of its name.
  CHECK(hash_value(Value(a.string())) != before);
  // Same as dagflow::File, apart from the kind tag.
  dagflow::Hasher by_file;
  const auto tag = static_cast<std::uint8_t>(ValueKind::kPath);
  by_file.update(&tag, 1);
  by_file.add(dagflow::File{a});
  CHECK(by_file.digest() == before);

  write_file(a, "second");
  CHECK(hash_value(path_a) != before);
  CHECK(hash_value(Value::path(b)) == before);

  // A missing file still hashes (the op that reads it reports the error), and differently.
  const Value missing = Value::path(dir.path() / "missing.txt");
  dagflow::Hash128 missing_hash;
  REQUIRE_NOTHROW(missing_hash = hash_value(missing));
  CHECK(missing_hash != before);
  CHECK(missing_hash == hash_value(missing));
  // Nested paths count too.
  const Value list = Value::List{path_a};
  const auto list_hash = hash_value(list);
  write_file(a, "third");
  CHECK(hash_value(list) != list_hash);
}

// ---- Serialisation ---------------------------------------------------------------------------

// The disk cache stores Values exactly: kinds and both forms of a path survive.
TEST_CASE("Value: a nested value survives to_bytes and from_bytes",
          "[nodes][value][serialization]") {
  const Value v = sample_value();
  const std::string bytes = dagflow::to_bytes(v);
  const Value back = dagflow::from_bytes<Value>(bytes);
  CHECK(back == v);
  // Both forms of a path are kept.
  CHECK(back.as_map().at("input").as_path().shown == "in.txt");
  CHECK(back.as_map().at("input").as_path().resolved == fs::path("/data/in.txt"));
  // Kinds survive exactly.
  CHECK(back.as_map().at("ratio").kind() == ValueKind::kDouble);
  CHECK(dagflow::from_bytes<Value>(dagflow::to_bytes(Value(1.0))).kind() == ValueKind::kDouble);
  CHECK(dagflow::from_bytes<Value>(dagflow::to_bytes(Value())).is_null());
}

// A damaged cache entry is an error, never a wrong Value.
TEST_CASE("Value: truncated or garbled bytes throw dagflow::Error",
          "[nodes][value][serialization]") {
  const std::string bytes = dagflow::to_bytes(sample_value());
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    INFO("prefix of " << length << " bytes");
    CHECK_THROWS_AS(dagflow::from_bytes<Value>(std::string_view(bytes).substr(0, length)),
                    dagflow::Error);
  }
  CHECK_THROWS_AS(dagflow::from_bytes<Value>(bytes + "x"), dagflow::Error);

  std::string unknown_kind = dagflow::to_bytes(Value(1));
  unknown_kind[0] = 99;
  CHECK_THROWS_WITH(dagflow::from_bytes<Value>(unknown_kind), Catch::Contains("unknown kind 99"));
}

// A damaged length prefix cannot make the reader allocate gigabytes.
TEST_CASE("Value: a huge claimed list or map length with few bytes throws without reserving it",
          "[nodes][value][serialization]") {
  // A list claiming 2^60 elements, followed by one element: were the claimed size reserved,
  // this would ask for exabytes.
  for (const ValueKind kind : {ValueKind::kList, ValueKind::kMap}) {
    std::string bytes(1, static_cast<char>(kind));
    const std::uint64_t claimed = std::uint64_t{1} << 60;
    bytes.append(reinterpret_cast<const char*>(&claimed), sizeof claimed);
    bytes += dagflow::to_bytes(kind == ValueKind::kList ? Value(1) : Value("key"));
    CHECK_THROWS_AS(dagflow::from_bytes<Value>(bytes), dagflow::Error);
  }
}

// ---- Size ------------------------------------------------------------------------------------

// The memory cache budgets Values by everything they hold.
TEST_CASE("ValueSize: counts a Value's nested content", "[nodes][value][memory]") {
  using Size = dagflow::ValueSize<Value>;
  STATIC_REQUIRE(dagflow::Sizeable<Value>);
  CHECK(Size::bytes(Value()) == sizeof(Value));
  CHECK(Size::bytes(Value(1)) == sizeof(Value));
  CHECK(Size::bytes(Value(std::string(1000, 'x'))) >= sizeof(Value) + 1000);
  CHECK(Size::bytes(Value::path(std::string(500, 'p'))) >= sizeof(Value) + 1000);

  const Value small = Value::List{1, 2};
  const Value big = Value::List{1, 2, std::string(1000, 'y')};
  CHECK(Size::bytes(big) > Size::bytes(small) + 1000);
  CHECK(Size::bytes(small) >= sizeof(Value) * 3);

  const Value map = Value::Map{{"a", 1}};
  const Value bigger_map = Value::Map{{"a", 1}, {"b", Value::List{std::string(200, 'z')}}};
  CHECK(Size::bytes(map) > sizeof(Value) * 2);
  CHECK(Size::bytes(bigger_map) > Size::bytes(map) + 200);
  // Nesting: a list inside a map inside a list is counted all the way down.
  const Value deep = Value::List{Value::Map{{"k", Value::List{std::string(300, 'q')}}}};
  CHECK(Size::bytes(deep) > 300 + 4 * sizeof(Value));
}

// ListAdapter<Value>: map and reduce read a list Value's items in place; map over a Value gives
// a list Value; a Value that holds no list fails the task with the kind it holds.
TEST_CASE("Value: map and reduce take a list Value as input", "[nodes][value][chunking]") {
  dagflow::Graph g;
  auto list = g.delayed([] { return Value(Value::List{1, 2, 3}); });
  auto plus = g.delayed([] { return Value(10); });
  auto mapped = dagflow::map(
      g, [](const Value& x, const Value& k) { return Value(x.as_int() + k.as_int()); }, list, plus);
  STATIC_REQUIRE(std::is_same_v<decltype(mapped)::value_type, Value>);
  auto lengths = dagflow::map(
      g, [](const Value& x) { return x.as_int(); }, list);  // not Values: a std::vector
  STATIC_REQUIRE(std::is_same_v<decltype(lengths)::value_type, std::vector<std::int64_t>>);
  auto total = dagflow::reduce(
      g, [](Value a, const Value& b) { return Value(a.as_int() + b.as_int()); }, Value(0), mapped);
  auto not_a_list = dagflow::map(
      g, [](const Value& x) { return x; }, plus);
  dagflow::Executor ex({.threads = 2});
  CHECK(ex.compute(mapped) == Value(Value::List{11, 12, 13}));
  CHECK(ex.compute(lengths) == std::vector<std::int64_t>{1, 2, 3});
  CHECK(ex.compute(total) == Value(36));
  try {
    (void)ex.compute(not_a_list);
    FAIL("expected a TaskError");
  } catch (const dagflow::TaskError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("a map needs a list, got int"));
    CHECK_FALSE(e.item().has_value());
  }
}
