#include <dagflow/graph/detail/result_slot.hpp>

// Tests of where results live: a KeptValue holds a small trivially copyable value by its bytes and
// anything else in shared storage; a slot adopts either and hands it out without losing it.
#include <memory>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

using dagflow::detail::KeptValue;
using dagflow::detail::ResultSlot;

namespace {
struct Point {
  double x;
  double y;
};
}  // namespace

TEST_CASE("KeptValue: small trivially copyable values are kept inline, others shared",
          "[graph][cache]") {
  STATIC_REQUIRE(KeptValue::fits_inline<long>);
  STATIC_REQUIRE(KeptValue::fits_inline<Point>);
  STATIC_REQUIRE_FALSE(KeptValue::fits_inline<std::string>);
  STATIC_REQUIRE_FALSE(KeptValue::fits_inline<char[17]>);
  STATIC_REQUIRE_FALSE(KeptValue::fits_inline<void>);

  const KeptValue empty;
  CHECK(empty.empty());
  CHECK(empty.data() == nullptr);

  const KeptValue point = KeptValue::copy_of(Point{1.5, -2.0});
  CHECK(point.is_inline());
  const KeptValue copy = point;  // NOLINT(performance-unnecessary-copy-initialization)
  CHECK(copy.is_inline());
  CHECK(static_cast<const Point*>(copy.data())->y == -2.0);
  CHECK(copy.data() != point.data());  // its own bytes

  auto text = std::make_shared<const std::string>("kept");
  KeptValue shared{text};
  CHECK_FALSE(shared.is_inline());
  CHECK(shared.data() == text.get());
  KeptValue second = shared;
  CHECK(text.use_count() == 3);
  KeptValue moved = std::move(second);
  CHECK(second.empty());  // NOLINT(bugprone-use-after-move): a moved-from KeptValue is empty
  CHECK(text.use_count() == 3);
  moved.reset();
  shared = KeptValue::copy_of(7L);
  CHECK(text.use_count() == 1);
  CHECK(*static_cast<const long*>(shared.data()) == 7);
}

TEST_CASE("ResultSlot: adopts a kept value, inline or shared", "[graph][cache]") {
  SECTION("inline: a reader may move it, the cache keeps its own bytes") {
    const KeptValue kept = KeptValue::copy_of(42L);
    ResultSlot slot;
    slot.set_holders(1);
    slot.adopt(kept);
    REQUIRE(slot.is_ready());
    CHECK(slot.take<long>() == 42);
    slot.release();
    CHECK(*static_cast<const long*>(kept.data()) == 42);
  }
  SECTION("shared: readers get copies, the cache's value is never moved from") {
    const KeptValue kept{std::make_shared<const std::string>("cached")};
    ResultSlot slot;
    slot.set_holders(1);
    slot.adopt(kept);
    CHECK(slot.take<std::string>() == "cached");
    slot.release();
    CHECK(*static_cast<const std::string*>(kept.data()) == "cached");
  }
  SECTION("keep() of a produced value: inline copies, shared moves into shared storage") {
    ResultSlot small;
    small.set_holders(1);
    small.emplace<long>([] { return 5L; });
    const KeptValue a = small.keep<long>();
    CHECK(a.is_inline());
    CHECK(small.take<long>() == 5);  // the slot still owns its value: a reader may move it

    ResultSlot big;
    big.set_holders(1);
    big.emplace<std::string>([] { return std::string(100, 'x'); });
    const KeptValue b = big.keep<std::string>();
    CHECK_FALSE(b.is_inline());
    big.publish();
    CHECK(big.take<std::string>() == std::string(100, 'x'));  // copied: the cache shares it
    big.release();
    CHECK(static_cast<const std::string*>(b.data())->size() == 100);
  }
}
