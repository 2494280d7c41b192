// What the row functions (csv.cpp, table.cpp) share: reading a row's cells with messages that
// name the row the same way everywhere ("row R has no column 'C'", rows numbered from 0), and how
// an unquoted CSV field reads. Thread-safe: no state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <dagflow/nodes/value.hpp>

namespace dagflow::detail {

/// The value of `column` in `row`, the row number `r` of its table. Throws dagflow::Error "ROW R
/// has no column 'C'" (ROW is `row_word`: "row", "left row"...).
[[nodiscard]] const Value& row_cell(const Value::Map& row, std::size_t r, std::string_view column,
                                    std::string_view row_word = "row");

/// row_cell, which must be a number. Throws row_cell's errors and dagflow::Error "row R: the
/// column 'C' is not a number: JSON".
[[nodiscard]] const Value& row_number(const Value::Map& row, std::size_t r,
                                      std::string_view column);

/// An unquoted CSV field as read_csv reads it: an int when it is a whole int64, a double when
/// it is a finite number, else the string itself (empty included).
[[nodiscard]] Value unquoted_field(const std::string& text);

}  // namespace dagflow::detail
