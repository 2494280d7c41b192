// Number ops: range, square, sum, mean, random_uniform, pi_hits (the last two draw from
// <dagflow/nodes/random.hpp>).
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/random.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

// Lists longer than this are refused: a typo in `stop` should fail, not exhaust memory.
constexpr std::uint64_t kMaxListLength = 100'000'000;

std::vector<std::int64_t> make_range(std::int64_t start, std::int64_t stop, std::int64_t step) {
  if (step == 0) throw Error("range: step must not be 0");
  // The element count, computed in unsigned arithmetic so that no difference overflows.
  std::uint64_t count = 0;
  if (step > 0 && start < stop) {
    const std::uint64_t span = static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start);
    count = (span - 1) / static_cast<std::uint64_t>(step) + 1;
  } else if (step < 0 && start > stop) {
    const std::uint64_t span = static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop);
    const std::uint64_t stride = std::uint64_t{0} - static_cast<std::uint64_t>(step);
    count = (span - 1) / stride + 1;
  }
  if (count > kMaxListLength) {
    throw Error(fmt::format("range({}, {}, {}) would have {} elements; the limit is {}", start,
                            stop, step, count, kMaxListLength));
  }
  std::vector<std::int64_t> values;
  values.reserve(static_cast<std::size_t>(count));
  // start + i * step stays between start and stop for every i < count: no overflow.
  std::uint64_t current = static_cast<std::uint64_t>(start);
  for (std::uint64_t i = 0; i < count; ++i) {
    values.push_back(static_cast<std::int64_t>(current));
    current += static_cast<std::uint64_t>(step);
  }
  return values;
}

detail::Number square(const Value& x) {
  if (x.kind() == ValueKind::kInt) {
    const std::int64_t i = x.as_int();
    std::int64_t result = 0;
    if (__builtin_mul_overflow(i, i, &result)) {
      throw Error(fmt::format("int64 overflow in square({})", i));
    }
    return {Value(result)};
  }
  const double d = x.as_double();
  return {Value(d * d)};
}

detail::Number sum(const std::vector<detail::Number>& numbers) {
  bool all_ints = true;
  for (const detail::Number& n : numbers) all_ints = all_ints && n.value.kind() == ValueKind::kInt;
  if (all_ints) {
    std::int64_t total = 0;
    for (const detail::Number& n : numbers) {
      if (__builtin_add_overflow(total, n.value.as_int(), &total)) {
        throw Error("int64 overflow in sum: the total does not fit in a 64-bit int");
      }
    }
    return {Value(total)};
  }
  double total = 0;
  for (const detail::Number& n : numbers) total += n.value.as_double();
  return {Value(total)};
}

double mean(const std::vector<detail::Number>& numbers) {
  if (numbers.empty()) throw Error("mean of an empty list");
  double total = 0;
  for (const detail::Number& n : numbers) total += n.value.as_double();
  return total / static_cast<double>(numbers.size());
}

}  // namespace

void add_number_ops(OpRegistry& ops) {
  ops.add(
      "range",
      [](std::int64_t start, std::int64_t stop, std::int64_t step) {
        return make_range(start, stop, step);
      },
      "Returns the ints from start (included) to stop (excluded) by step, as Python's range does "
      "(a negative step counts down; step 0 and lists over 100 million are errors).",
      {arg("start", 0), arg("stop"), arg("step", 1)});

  ops.add(
      "square", [](const detail::Number& x) { return square(x.value); },
      "Returns a number times itself: an int stays an int (an error if it overflows), a double "
      "stays a double.");

  ops.add(
      "sum", [](const std::vector<detail::Number>& numbers) { return sum(numbers); },
      "Adds up a list of numbers: an int if all are ints (an error if it overflows), else a "
      "double; [] gives 0.");

  ops.add(
      "mean", [](const std::vector<detail::Number>& numbers) { return mean(numbers); },
      "Returns the mean of a list of numbers as a double ([] is an error).");

  ops.add("random_uniform",
          [](std::int64_t stream, std::int64_t seed, std::int64_t count, double low, double high) {
            return random_uniform(static_cast<std::uint64_t>(seed),
                                  static_cast<std::uint64_t>(stream), count, low, high);
          },
          "Returns `count` doubles uniform in [low, high), the same on every machine for the same "
          "seed and stream (the input, an int: give each element of a map its own).",
          {arg("seed", 0), arg("count"), arg("low", 0.0), arg("high", 1.0)});

  ops.add("pi_hits",
          [](std::int64_t stream, std::int64_t seed, std::int64_t samples) {
            return pi_hits(static_cast<std::uint64_t>(seed), static_cast<std::uint64_t>(stream),
                           samples);
          },
          "Draws `samples` random points in the unit square (reproducible from seed and the "
          "stream input, an int) and returns how many fall inside the quarter circle x*x+y*y < 1: "
          "pi is about 4 * hits / samples.",
          {arg("seed", 0), arg("samples")});
}

}  // namespace dagflow
