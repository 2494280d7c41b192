#include "duration.hpp"
// (the header this file implements first)

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace dagflow {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The leading digits of `text`, removed from it.
std::string_view take_digits(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && is_digit(text[n])) ++n;
  const std::string_view digits = text.substr(0, n);
  text.remove_prefix(n);
  return digits;
}

void skip_spaces(std::string_view& text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
}

// Milliseconds per unit (the unit is the whole rest of the text after the number).
constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> kUnits = {{
    {"ms", 1},
    {"s", 1'000},
    {"min", 60'000},
    {"h", 3'600'000},
}};

[[noreturn]] void refuse(const std::string& reason) { throw std::invalid_argument(reason); }

std::int64_t unit_ms(std::string_view unit, std::string_view text) {
  for (const auto& [name, ms] : kUnits) {
    if (unit == name) return ms;
  }
  if (unit.empty()) {
    refuse(
        fmt::format("a duration needs a unit (ms, s, min or h, as in 30s or 100ms), got {}", text));
  }
  refuse(fmt::format("unknown unit '{}' in '{}' (the units are ms, s, min and h)", unit, text));
}

// Digits as a number; at most 15 of them, so that times a unit it stays far inside 64 bits.
std::int64_t number_of(std::string_view digits, std::string_view text) {
  constexpr std::size_t kMaxDigits = 15;
  if (digits.size() > kMaxDigits) {
    refuse(
        fmt::format("'{}' is longer than the limit of {} days", text, kMaxDuration.count() / 24));
  }
  std::int64_t n = 0;
  for (const char c : digits) n = n * 10 + (c - '0');
  return n;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  std::string_view rest = text;
  skip_spaces(rest);
  if (!rest.empty() && rest.front() == '-') {
    refuse(fmt::format("a duration cannot be negative, got '{}'", text));
  }
  const std::string_view whole = take_digits(rest);
  std::string_view fraction;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    fraction = take_digits(rest);
  }
  if (whole.empty() && fraction.empty()) {
    refuse(fmt::format("expected a duration such as 100ms, 30s, 2min or 1h, got '{}'", text));
  }
  skip_spaces(rest);
  std::string_view unit = rest;
  while (!unit.empty() && unit.back() == ' ') unit.remove_suffix(1);
  const std::int64_t per_unit = unit_ms(unit, text);

  // Past nine digits (trailing zeros aside) a fraction of even an hour is below a millisecond.
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  constexpr std::size_t kMaxFractionDigits = 9;
  if (fraction.size() > kMaxFractionDigits) {
    refuse(fmt::format("'{}' is finer than a millisecond", text));
  }
  std::int64_t scale = 1;
  for (std::size_t i = 0; i < fraction.size(); ++i) scale *= 10;
  const std::int64_t fraction_units = number_of(fraction, text) * per_unit;
  if (fraction_units % scale != 0) {
    refuse(fmt::format("'{}' is finer than a millisecond", text));
  }
  const std::int64_t ms = number_of(whole, text) * per_unit + fraction_units / scale;
  if (ms > std::chrono::duration_cast<std::chrono::milliseconds>(kMaxDuration).count()) {
    refuse(
        fmt::format("'{}' is longer than the limit of {} days", text, kMaxDuration.count() / 24));
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace dagflow
