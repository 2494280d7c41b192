// The row helpers of csv.cpp and table.cpp (rows.hpp).
#include "rows.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

namespace dagflow::detail {

const Value& row_cell(const Value::Map& row, std::size_t r, std::string_view column,
                      std::string_view row_word) {
  const auto it = row.find(column);
  if (it == row.end()) throw Error(fmt::format("{} {} has no column '{}'", row_word, r, column));
  return it->second;
}

const Value& row_number(const Value::Map& row, std::size_t r, std::string_view column) {
  const Value& x = row_cell(row, r, column);
  if (!x.is_number()) {
    throw Error(fmt::format("row {}: the column '{}' is not a number: {}", r, column, to_json(x)));
  }
  return x;
}

Value unquoted_field(const std::string& text) {
  if (text.empty()) return text;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  std::int64_t i = 0;
  if (auto [end, ec] = std::from_chars(first, last, i); ec == std::errc() && end == last) return i;
  double d = 0;
  if (auto [end, ec] = std::from_chars(first, last, d);
      ec == std::errc() && end == last && std::isfinite(d)) {
    return d;
  }
  return text;
}

}  // namespace dagflow::detail
