// Number ops: range, square, sum, mean, random_uniform, pi_hits (the last two draw from
// <dagflow/nodes/random.hpp>). Lists of numbers come and go as typed arrays (Value::int_array):
// square maps one in a single pass (OpInfo::array_map), sum and mean read one in place.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
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

std::int64_t square_int(std::int64_t i) {
  std::int64_t result = 0;
  if (__builtin_mul_overflow(i, i, &result)) {
    throw Error(fmt::format("int64 overflow in square({})", i));
  }
  return result;
}

detail::Number square(const Value& x) {
  if (x.kind() == ValueKind::kInt) return {Value(square_int(x.as_int()))};
  const double d = x.as_double();
  return {Value(d * d)};
}

// square over a typed array: the same results, element by element, in one pass.
Value square_array(const Value& xs, const Value::Map& /*args*/) {
  if (const std::vector<std::int64_t>* ints = xs.ints()) {
    std::vector<std::int64_t> out;
    out.reserve(ints->size());  // each element written once: no zeroing first
    for (const std::int64_t x : *ints) {
      std::int64_t y = 0;
      if (__builtin_mul_overflow(x, x, &y)) {
        try {
          (void)square_int(x);
        } catch (const Error& e) {
          throw ItemError(out.size(), e.what());
        }
      }
      out.push_back(y);
    }
    return Value::int_array(std::move(out));
  }
  const std::vector<double>& doubles = *xs.doubles();
  std::vector<double> out;
  out.reserve(doubles.size());
  for (const double x : doubles) out.push_back(x * x);
  return Value::double_array(std::move(out));
}

// Adds doubles with Neumaier's compensation: the rounding error of each addition is kept apart
// and added at the end, so the total of n terms is good to a few ulps instead of n of them.
class DoubleTotal {
 public:
  void add(double x) noexcept {
    const double t = sum_ + x;
    compensation_ += std::fabs(sum_) >= std::fabs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }
  [[nodiscard]] double value() const noexcept { return sum_ + compensation_; }

 private:
  double sum_ = 0;
  double compensation_ = 0;
};

// The numbers of a list in either form, each as a double, fed to `add`.
template <class Add>
void each_as_double(const Value& list, Add&& add) {
  if (const auto* ints = list.ints()) {
    for (const std::int64_t i : *ints) add(static_cast<double>(i));
  } else if (const auto* doubles = list.doubles()) {
    for (const double d : *doubles) add(d);
  } else {
    for (const Value& x : list.as_list()) add(x.as_double());
  }
}

double double_total(const Value& list) {
  DoubleTotal total;
  each_as_double(list, [&total](double x) { total.add(x); });
  return total.value();
}

bool all_ints(const Value& list) {
  if (list.is_array()) return list.ints() != nullptr || list.list_size() == 0;
  const Value::List& items = list.as_list();
  return std::all_of(items.begin(), items.end(),
                     [](const Value& x) { return x.kind() == ValueKind::kInt; });
}

// Calls f(i) for each int of a list of ints in either form.
template <class F>
void each_int(const Value& list, F&& f) {
  if (const auto* ints = list.ints()) {
    for (const std::int64_t i : *ints) f(i);
  } else {
    for (const Value& x : list.as_list()) f(x.as_int());
  }
}

std::int64_t int_total(const Value& list) {
  std::int64_t total = 0;
  each_int(list, [&total](std::int64_t i) {
    if (__builtin_add_overflow(total, i, &total)) {
      throw Error(
          "int64 overflow in sum: the total does not fit in a 64-bit int (as: double adds the "
          "ints as doubles)");
    }
  });
  return total;
}

// The exact total of a list of ints in either form (128 bits hold the sum of 2^64 int64s),
// rounded once to a double: the same bits for a typed array and a boxed list.
double exact_double_total(const Value& list) {
  __extension__ using Int128 = __int128;  // a GCC/Clang extension
  Int128 total = 0;
  each_int(list, [&total](std::int64_t i) { total += i; });
  return static_cast<double>(total);
}

detail::Number sum(const detail::Numbers& numbers, const std::string& as) {
  const Value& list = *numbers.list;
  if (!all_ints(list)) return {Value(double_total(list))};
  return {as == "double" ? Value(exact_double_total(list)) : Value(int_total(list))};
}

// `as` is "auto" or "double", checked when the pipeline loads.
std::optional<NodeProblem> check_sum(const OpContext& /*context*/, const Value::Map& args,
                                     NodeShape /*shape*/) {
  const auto it = args.find("as");
  if (it == args.end() || it->second.kind() != ValueKind::kString) return std::nullopt;
  const std::string& as = it->second.as_string();
  if (as == "auto" || as == "double") return std::nullopt;
  return NodeProblem{.arg = "as", .message = fmt::format("must be auto or double, got '{}'", as)};
}

double mean(const detail::Numbers& numbers) {
  const std::size_t n = numbers.list->list_size();
  if (n == 0) throw Error("mean of an empty list");
  return double_total(*numbers.list) / static_cast<double>(n);
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
         "stays a double.")
      .set_array_map(&square_array);

  // Version 1: doubles are added with compensation (a more exact total than before).
  ops.add("sum", &sum,
          "Adds up a list of numbers: an int if all are ints (an error if it overflows), else a "
          "double (added with compensated summation); [] gives 0. as: double gives a double "
          "total of ints too (for totals past 64 bits: added exactly, rounded once).",
          {arg("as", "auto")})
      .set_version(1)
      .set_node_check(&check_sum);

  ops.add("mean", &mean, "Returns the mean of a list of numbers as a double ([] is an error).")
      .set_version(1);

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
