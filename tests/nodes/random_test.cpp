#include <dagflow/nodes/random.hpp>

// Tests of the reproducible generator behind the random_uniform and pi_hits ops: its output is
// pinned to values computed independently from the xoshiro256** and splitmix64 definitions and
// the documented seeding, so no platform, library or refactoring may change what a pipeline
// draws; and the documented ranges, the prefix rule and the errors with their messages.
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/ops.hpp"
#include "support/text.hpp"

namespace {

using dagflow::RandomStream;
using dagflow::test::thrown_message;

std::vector<std::uint64_t> draws(RandomStream rng, int n) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(rng.next());
  return out;
}

}  // namespace

// The same (seed, stream) gives the same 64-bit values everywhere; these are pinned.
TEST_CASE("RandomStream: output is pinned by seed and stream", "[nodes][random]") {
  CHECK(draws(RandomStream(1, 0), 3) ==
        std::vector<std::uint64_t>{0xd237e9f23914e450, 0x66729f59d1f156ee, 0x9089a30f6dc196d0});
  CHECK(draws(RandomStream(7, 3), 3) ==
        std::vector<std::uint64_t>{0x742cf90c8ca44b7c, 0x5d4d9a40bc5e0dbb, 0x78699fd2443531cb});
  CHECK(draws(RandomStream(0, 0), 2) ==
        std::vector<std::uint64_t>{0x8431302d6e9c5e47, 0xaabd27b70331693e});
  CHECK(draws(RandomStream(1, 0), 50) == draws(RandomStream(1, 0), 50));
}

// Every stream of a seed, and every seed, starts at an unrelated point.
TEST_CASE("RandomStream: streams and seeds give different sequences", "[nodes][random]") {
  std::set<std::uint64_t> firsts;
  for (std::uint64_t stream = 0; stream < 100; ++stream) {
    firsts.insert(RandomStream(42, stream).next());
  }
  CHECK(firsts.size() == 100);
  CHECK(draws(RandomStream(2, 0), 3) != draws(RandomStream(1, 0), 3));
  CHECK(draws(RandomStream(0, 1), 3) != draws(RandomStream(1, 0), 3));  // not symmetric
}

// next_double is the top 53 bits of next() scaled into [0, 1).
TEST_CASE("RandomStream: next_double uses the top 53 bits", "[nodes][random]") {
  RandomStream doubles(1, 0);
  CHECK(doubles.next_double() == 0x1.a46fd3e47229cp-1);
  CHECK(doubles.next_double() == 0x1.99ca7d6747c54p-2);
  RandomStream a(5, 9);
  RandomStream b(5, 9);
  for (int i = 0; i < 1000; ++i) {
    const double x = a.next_double();
    CHECK(x == static_cast<double>(b.next() >> 11) * 0x1.0p-53);
    CHECK(x >= 0.0);
    CHECK(x < 1.0);
  }
}

// next_below draws in [0, bound) by rejecting the low values that would bias a modulo.
TEST_CASE("RandomStream: next_below is in range and unbiased", "[nodes][random]") {
  RandomStream dice(1, 0);
  std::vector<std::uint64_t> rolls;
  for (int i = 0; i < 12; ++i) rolls.push_back(dice.next_below(6));
  CHECK(rolls == std::vector<std::uint64_t>{0, 2, 0, 2, 2, 1, 1, 4, 1, 3, 0, 5});
  RandomStream one(3, 3);
  for (int i = 0; i < 100; ++i) CHECK(one.next_below(1) == 0);
  // Bound 2^63 + 1: values below 2^63 - 1 are rejected, so the second raw value of the stream
  // (0x66729f59d1f156ee) is skipped rather than returned as it is.
  constexpr std::uint64_t kHalfPlusOne = (std::uint64_t{1} << 63) + 1;
  RandomStream wide(1, 0);
  std::vector<std::uint64_t> picks;
  for (int i = 0; i < 4; ++i) picks.push_back(wide.next_below(kHalfPlusOne));
  CHECK(picks == std::vector<std::uint64_t>{5924461061378204751ULL, 1191662863077447375ULL,
                                            6532524733721438219ULL, 3787370324727335674ULL});
  // Six faces, 60000 rolls: each within 2% of 10000 (pinned stream, so this never flickers).
  RandomStream fair(1, 0);
  std::vector<int> counts(6);
  for (int i = 0; i < 60000; ++i) ++counts[fair.next_below(6)];
  for (const int c : counts) {
    CHECK(c > 9800);
    CHECK(c < 10200);
  }
}

// random_uniform maps next_double onto [low, high); a shorter count is a prefix.
TEST_CASE("random_uniform: low + (high - low) * next_double, a prefix per count",
          "[nodes][random]") {
  const std::vector<double> xs = dagflow::random_uniform(9, 4, 5, -2.0, 3.0);
  REQUIRE(xs.size() == 5);
  CHECK(xs[0] == 0x1.45f84d21809a8p+1);
  CHECK(xs[1] == -0x1.043abde88f770p-3);
  CHECK(xs[2] == -0x1.ac4627cedc1fap+0);
  RandomStream rng(9, 4);
  for (const double x : xs) CHECK(x == -2.0 + 5.0 * rng.next_double());
  CHECK(dagflow::random_uniform(9, 4, 2, -2.0, 3.0) ==
        std::vector<double>(xs.begin(), xs.begin() + 2));
  const std::vector<double> unit = dagflow::random_uniform(1, 0, 2);
  CHECK(unit == std::vector<double>{0x1.a46fd3e47229cp-1, 0x1.99ca7d6747c54p-2});
  CHECK(dagflow::random_uniform(1, 0, 0).empty());
}

// Rounding must never produce `high`: an interval one ulp wide gives only `low`.
TEST_CASE("random_uniform: never reaches high, low == high gives low", "[nodes][random]") {
  const double high = std::nextafter(1.0, 2.0);
  for (const double x : dagflow::random_uniform(3, 0, 1000, 1.0, high)) CHECK(x == 1.0);
  for (const double x : dagflow::random_uniform(3, 0, 100, 2.5, 2.5)) CHECK(x == 2.5);
  for (const double x : dagflow::random_uniform(3, 0, 1000, -1e308, 1e308)) {
    CHECK(x >= -1e308);
    CHECK(x < 1e308);
  }
}

// Counts and bounds outside what is documented are refused with what was given.
TEST_CASE("random_uniform: refuses bad counts and bounds", "[nodes][random]") {
  const auto error = [](std::int64_t count, double low, double high) {
    return thrown_message<dagflow::Error>(
        [&] { (void)dagflow::random_uniform(0, 0, count, low, high); });
  };
  CHECK(error(-1, 0, 1) == "count must be at least 0, got -1");
  CHECK(error(dagflow::kMaxRandomCount + 1, 0, 1) ==
        "count 100000001 is over the limit of 100000000");
  CHECK(error(1, 2, 1) == "low and high must be finite with low <= high, got 2 and 1");
  CHECK(error(1, NAN, 1) == "low and high must be finite with low <= high, got nan and 1");
  CHECK(error(1, 0, INFINITY) == "low and high must be finite with low <= high, got 0 and inf");
}

// pi_hits counts points (x then y from one stream) inside the quarter circle.
TEST_CASE("pi_hits: counts draws inside the quarter circle, pinned", "[nodes][random]") {
  CHECK(dagflow::pi_hits(7, 0, 200000) == 156891);
  CHECK(dagflow::pi_hits(7, 3, 1000) == 795);
  RandomStream rng(7, 3);
  std::int64_t hits = 0;
  for (int i = 0; i < 1000; ++i) {
    const double x = rng.next_double();
    const double y = rng.next_double();
    if (x * x + y * y < 1.0) ++hits;
  }
  CHECK(hits == 795);
  CHECK(dagflow::pi_hits(7, 0, 0) == 0);
  CHECK(thrown_message<dagflow::Error>([] { (void)dagflow::pi_hits(1, 0, -5); }) ==
        "samples must be between 0 and 10000000000, got -5");
  CHECK(thrown_message<dagflow::Error>([] {
          (void)dagflow::pi_hits(1, 0, dagflow::kMaxPiSamples + 1);
        }) == "samples must be between 0 and 10000000000, got 10000000001");
}

// The ops hand their int64 seed and stream over as two's complement bits: -1 is 2^64 - 1.
TEST_CASE("random_uniform: the op passes negative seeds and streams as their bits",
          "[nodes][random]") {
  const std::vector<double> expected =
      dagflow::random_uniform(~std::uint64_t{0}, ~std::uint64_t{1}, 2);
  CHECK(expected == std::vector<double>{0x1.1b5036997e778p-1, 0x1.74a4c20119e86p-2});
  CHECK(dagflow::test::call_op("random_uniform", {-2}, {{"seed", -1}, {"count", 2}}) ==
        dagflow::Value(dagflow::Value::List{expected[0], expected[1]}));
}
