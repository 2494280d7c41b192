#include "duration.hpp"
// (the unit under test first)

// Durations as pipeline files write them: a number and a unit, exact to the millisecond, and a
// sentence for every way to get one wrong.
#include <chrono>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "support/text.hpp"

namespace {

using dagflow::parse_duration;
using std::chrono::milliseconds;

std::string error_of(std::string_view text) {
  return dagflow::test::thrown_message<std::invalid_argument>([&] { (void)parse_duration(text); });
}

}  // namespace

// Each unit, fractions and spaces are read exactly.
TEST_CASE("parse_duration: a number and a unit, in milliseconds", "[pipeline][duration]") {
  CHECK(parse_duration("100ms") == milliseconds(100));
  CHECK(parse_duration("30s") == milliseconds(30'000));
  CHECK(parse_duration("2min") == milliseconds(120'000));
  CHECK(parse_duration("1h") == milliseconds(3'600'000));
  CHECK(parse_duration("1.5s") == milliseconds(1'500));
  CHECK(parse_duration("0.25min") == milliseconds(15'000));
  CHECK(parse_duration(".5s") == milliseconds(500));
  CHECK(parse_duration("1.000ms") == milliseconds(1));
  CHECK(parse_duration("2 s") == milliseconds(2'000));
  CHECK(parse_duration("0s") == milliseconds(0));
  CHECK(parse_duration("8760h") == milliseconds(8760LL * 3'600'000));
}

// A bare number is refused (seconds? milliseconds?), and so is everything else that is no
// duration, each with its reason.
TEST_CASE("parse_duration: refuses what is no duration, saying why", "[pipeline][duration]") {
  CHECK(error_of("30") == "a duration needs a unit (ms, s, min or h, as in 30s or 100ms), got 30");
  CHECK(error_of("1.5") ==
        "a duration needs a unit (ms, s, min or h, as in 30s or 100ms), got 1.5");
  CHECK(error_of("30sec") == "unknown unit 'sec' in '30sec' (the units are ms, s, min and h)");
  CHECK(error_of("30S") == "unknown unit 'S' in '30S' (the units are ms, s, min and h)");
  CHECK(error_of("-1s") == "a duration cannot be negative, got '-1s'");
  CHECK(error_of("soon") == "expected a duration such as 100ms, 30s, 2min or 1h, got 'soon'");
  CHECK(error_of("") == "expected a duration such as 100ms, 30s, 2min or 1h, got ''");
  CHECK(error_of("s") == "expected a duration such as 100ms, 30s, 2min or 1h, got 's'");
  CHECK(error_of("0.5ms") == "'0.5ms' is finer than a millisecond");
  CHECK(error_of("0.0000000001h") == "'0.0000000001h' is finer than a millisecond");
  CHECK(error_of("8761h") == "'8761h' is longer than the limit of 365 days");
  CHECK(error_of("99999999999999999999s") ==
        "'99999999999999999999s' is longer than the limit of 365 days");
}
