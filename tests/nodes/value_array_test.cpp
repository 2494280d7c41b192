#include <dagflow/nodes/value.hpp>

// Tests of Value's typed arrays: a list of ints or doubles held as one std::vector is a list in
// every way but its storage — equal to, printed as and hashed as the boxed list of the same
// numbers — converts to and from std::vector without boxing, survives the disk cache's bytes,
// and is what a map whose results are all ints or all doubles makes.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/graph/serialization.hpp>

namespace {

using dagflow::from_value;
using dagflow::hash_value;
using dagflow::to_value;
using dagflow::Value;
using dagflow::ValueConvert;
using dagflow::ValueError;
using dagflow::ValueKind;
using Ints = std::vector<std::int64_t>;
using Doubles = std::vector<double>;

// The boxed list of the same numbers (a Value per element).
template <class T>
Value boxed(const std::vector<T>& numbers) {
  Value::List list;
  for (const T x : numbers) list.emplace_back(x);
  return Value(std::move(list));
}

// Numbers that cross the hasher's blocks of 512 elements, with negative and extreme values.
Ints many_ints() {
  Ints xs;
  for (std::int64_t i = 0; i < 1500; ++i) xs.push_back(i * i * (i % 2 == 0 ? 1 : -1));
  xs.push_back(std::numeric_limits<std::int64_t>::min());
  xs.push_back(std::numeric_limits<std::int64_t>::max());
  return xs;
}

}  // namespace

TEST_CASE("typed arrays: are lists whose numbers are read in place", "[nodes][value][array]") {
  const Value ints = Value::int_array({1, 2, 3});
  CHECK(ints.kind() == ValueKind::kList);
  CHECK(ints.is_array());
  REQUIRE(ints.ints() != nullptr);
  CHECK(*ints.ints() == Ints{1, 2, 3});
  CHECK(ints.doubles() == nullptr);
  CHECK(ints.list_size() == 3);

  const Value doubles = Value::double_array({0.5, -1.0});
  CHECK(doubles.kind() == ValueKind::kList);
  REQUIRE(doubles.doubles() != nullptr);
  CHECK(*doubles.doubles() == Doubles{0.5, -1.0});
  CHECK(doubles.ints() == nullptr);

  // A boxed list is no array, and has no numbers to read in place.
  const Value list = Value::List{1, 2};
  CHECK_FALSE(list.is_array());
  CHECK(list.ints() == nullptr);
  CHECK(list.list_size() == 2);
  CHECK_THROWS_AS(Value(1).list_size(), ValueError);
  CHECK(Value(1).ints() == nullptr);
}

TEST_CASE("typed arrays: as_list boxes them, the const one beside the array, the other in place",
          "[nodes][value][array]") {
  const Value ints = Value::int_array({4, 5});
  const Value::List& items = ints.as_list();
  CHECK(items == Value::List{4, 5});
  CHECK(&ints.as_list() == &items);  // boxed once, kept
  CHECK(ints.is_array());            // still an array

  Value copy = ints;  // shares the array
  copy.as_list().push_back(6);
  CHECK_FALSE(copy.is_array());
  CHECK(copy == Value(Value::List{4, 5, 6}));
  CHECK(ints == Value(Value::List{4, 5}));  // the other copy is untouched

  Value doubles = Value::double_array({1.5});
  doubles.as_list()[0] = Value("x");
  CHECK(doubles == Value(Value::List{"x"}));
}

TEST_CASE("typed arrays: equal the boxed list of the same numbers, and nothing else",
          "[nodes][value][array]") {
  CHECK(Value::int_array({1, 2, 3}) == Value(Value::List{1, 2, 3}));
  CHECK(Value(Value::List{1, 2, 3}) == Value::int_array({1, 2, 3}));
  CHECK(Value::double_array({1.5, 2.0}) == Value(Value::List{1.5, 2.0}));
  CHECK(Value::int_array({1, 2}) == Value::int_array({1, 2}));

  CHECK(Value::int_array({1, 2}) != Value(Value::List{1, 2.0}));  // an int never equals a double
  CHECK(Value::int_array({1, 2}) != Value::double_array({1.0, 2.0}));
  CHECK(Value::int_array({1, 2}) != Value(Value::List{1, 2, 3}));
  CHECK(Value::int_array({1, 2}) != Value(Value::List{1, "2"}));
  CHECK(Value::int_array({1}) != Value(1));
  CHECK(Value::double_array({std::nan("")}) != Value::double_array({std::nan("")}));

  // Empty is empty, whatever the form.
  CHECK(Value::int_array({}) == Value(Value::List{}));
  CHECK(Value::int_array({}) == Value::double_array({}));

  // Inside other values too.
  CHECK(Value(Value::Map{{"xs", Value::int_array({7})}}) ==
        Value(Value::Map{{"xs", Value::List{7}}}));
}

TEST_CASE("typed arrays: print as the boxed list does", "[nodes][value][array][json]") {
  const Doubles doubles{1.0, -0.5, 1e300, std::numeric_limits<double>::infinity(), std::nan("")};
  const Ints ints = many_ints();
  for (const auto style : {dagflow::JsonStyle::kCompact, dagflow::JsonStyle::kPretty}) {
    INFO("pretty: " << (style == dagflow::JsonStyle::kPretty));
    CHECK(to_json(Value::int_array({1, 2}), style) == to_json(boxed(Ints{1, 2}), style));
    CHECK(to_json(Value::int_array(ints), style) == to_json(boxed(ints), style));
    CHECK(to_json(Value::double_array(doubles), style) == to_json(boxed(doubles), style));
    CHECK(to_json(Value::int_array({}), style) == "[]");
    const Value nested = Value::Map{{"a", Value::double_array({2.0})}};
    CHECK(to_json(nested, style) == to_json(Value::Map{{"a", Value::List{2.0}}}, style));
  }
  CHECK(to_json(Value::double_array({1.0, 0.25})) == "[1.0,0.25]");
}

TEST_CASE("typed arrays: hash as the boxed list does, so a cache key never depends on the form",
          "[nodes][value][array][hashing]") {
  const Ints ints = many_ints();
  CHECK(hash_value(Value::int_array(ints)) == hash_value(boxed(ints)));
  CHECK(hash_value(Value::int_array({})) == hash_value(Value(Value::List{})));
  CHECK(hash_value(Value::int_array({})) == hash_value(Value::double_array({})));

  Doubles doubles;
  for (std::size_t i = 0; i < 1200; ++i) doubles.push_back(static_cast<double>(i) / 7.0);
  doubles.push_back(-0.0);
  doubles.push_back(std::nan(""));
  CHECK(hash_value(Value::double_array(doubles)) == hash_value(boxed(doubles)));
  // Hash<double> makes -0.0 and 0.0 one, and every NaN one: so does the array's.
  CHECK(hash_value(Value::double_array({-0.0})) == hash_value(Value::double_array({0.0})));

  // Different numbers, kinds or lengths hash differently.
  CHECK(hash_value(Value::int_array({1, 2})) != hash_value(Value::int_array({2, 1})));
  CHECK(hash_value(Value::int_array({1})) != hash_value(Value::double_array({1.0})));
  CHECK(hash_value(Value::int_array({1})) != hash_value(Value::int_array({1, 1})));
  CHECK(hash_value(Value(Value::Map{{"k", Value::int_array({3})}})) ==
        hash_value(Value(Value::Map{{"k", Value::List{3}}})));
}

TEST_CASE("typed arrays: survive to_bytes and from_bytes as arrays",
          "[nodes][value][array][serialization]") {
  const Ints ints = many_ints();
  const Value back = dagflow::from_bytes<Value>(dagflow::to_bytes(Value::int_array(ints)));
  CHECK(back.is_array());
  REQUIRE(back.ints() != nullptr);
  CHECK(*back.ints() == ints);

  const Value doubles = Value::double_array({0.5, -2.0, 1e-300});
  const Value doubles_back = dagflow::from_bytes<Value>(dagflow::to_bytes(doubles));
  REQUIRE(doubles_back.doubles() != nullptr);
  CHECK(*doubles_back.doubles() == *doubles.doubles());

  const Value nested = Value::List{Value::int_array({}), Value::Map{{"d", doubles}}};
  CHECK(dagflow::from_bytes<Value>(dagflow::to_bytes(nested)) == nested);

  // Damaged bytes are an error, never a wrong array.
  const std::string bytes = dagflow::to_bytes(Value::int_array({1, 2, 3}));
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    INFO("prefix of " << length << " bytes");
    CHECK_THROWS_AS(dagflow::from_bytes<Value>(std::string_view(bytes).substr(0, length)),
                    dagflow::Error);
  }
  // A claimed length of 2^60 with 8 bytes behind it fails without reserving it.
  std::string huge(1, static_cast<char>(8));
  const std::uint64_t claimed = std::uint64_t{1} << 60;
  huge.append(reinterpret_cast<const char*>(&claimed), sizeof claimed);
  huge.append(8, '\0');
  CHECK_THROWS_AS(dagflow::from_bytes<Value>(huge), dagflow::Error);
}

TEST_CASE("typed arrays: std::vector of numbers converts to one and back without boxing",
          "[nodes][value][array][convert]") {
  Ints ints{1, 2, 3};
  const std::int64_t* const data = ints.data();
  const Value v = to_value(std::move(ints));
  REQUIRE(v.ints() != nullptr);
  CHECK(v.ints()->data() == data);  // moved, not copied

  CHECK(to_value(std::vector<int>{4, 5}).ints() != nullptr);
  CHECK(to_value(std::vector<std::uint8_t>{6}) == Value(Value::List{6}));
  CHECK(to_value(Doubles{0.5}).doubles() != nullptr);
  CHECK(to_value(std::vector<float>{0.5F}) == Value::double_array({0.5}));
  CHECK_THROWS_AS(to_value(std::vector<std::uint64_t>{std::uint64_t{1} << 63}), ValueError);
  // Not numbers: boxed as before.
  CHECK_FALSE(to_value(std::vector<bool>{true}).is_array());
  CHECK_FALSE(to_value(std::vector<std::string>{"a"}).is_array());

  const Value array = Value::int_array({1, 300, -2});
  CHECK(from_value<Ints>(array) == Ints{1, 300, -2});
  CHECK(from_value<Doubles>(array) == Doubles{1.0, 300.0, -2.0});
  CHECK(from_value<std::vector<int>>(array) == std::vector<int>{1, 300, -2});
  CHECK(from_value<Doubles>(Value::double_array({2.5})) == Doubles{2.5});
  CHECK(from_value<std::vector<Value>>(array) == Value::List{1, 300, -2});
  CHECK_THROWS_WITH(from_value<std::vector<std::uint8_t>>(array),
                    "expected list of int: at [1]: value 300 out of range for uint8");
  CHECK_THROWS_WITH(from_value<Ints>(Value::double_array({1.0})),
                    "expected list of int, got list with a double at [0]");
  CHECK_THROWS_WITH(from_value<std::vector<std::string>>(array),
                    "expected list of string, got list with an int at [0]");

  CHECK(ValueConvert<Ints>::accepts(array));
  CHECK(ValueConvert<Doubles>::accepts(array));
  CHECK_FALSE(ValueConvert<std::vector<std::uint8_t>>::accepts(array));
  CHECK_FALSE(ValueConvert<Ints>::accepts(Value::double_array({1.0})));
}

TEST_CASE("typed arrays: a map whose results are all ints or all doubles makes one",
          "[nodes][value][array][chunking]") {
  using Adapter = dagflow::ListAdapter<Value>;
  CHECK(Adapter::from_results(Value::List{1, 2}).ints() != nullptr);
  CHECK(Adapter::from_results(Value::List{1.5}).doubles() != nullptr);
  CHECK_FALSE(Adapter::from_results(Value::List{1, 1.5}).is_array());
  CHECK_FALSE(Adapter::from_results(Value::List{"a"}).is_array());
  CHECK(Adapter::from_results(Value::List{}) == Value(Value::List{}));

  dagflow::Graph g;
  auto xs = g.delayed([] { return Value::int_array({1, 2, 3}); });
  auto halves = dagflow::map(
      g, [](const Value& x) { return Value(static_cast<double>(x.as_int()) / 2); }, xs);
  dagflow::Executor ex({.threads = 2});
  const Value got = ex.compute(halves);
  REQUIRE(got.doubles() != nullptr);
  CHECK(*got.doubles() == Doubles{0.5, 1.0, 1.5});
}

TEST_CASE("typed arrays: cost 8 bytes an element in the memory budget", "[nodes][value][array]") {
  using Size = dagflow::ValueSize<Value>;
  const std::size_t array = Size::bytes(Value::int_array(Ints(1000)));
  CHECK(array >= 8000);
  CHECK(array < 8000 + 1000);
  CHECK(Size::bytes(boxed(Ints(1000))) > 3 * array);
}
