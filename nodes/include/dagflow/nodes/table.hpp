// Tables as rows of Values (a list of maps column -> value, as read_csv gives): the code behind
// the select, filter, derive, sort, join and to_rows ops, for C++ code that must transform rows
// exactly as a YAML pipeline does.
//
//   std::vector<dagflow::Value::Map> rows = dagflow::read_csv("sales.csv");
//   rows = dagflow::derive_column(std::move(rows), "revenue", "units * price");
//   rows = dagflow::filter_rows(rows, "region", dagflow::Comparison::kNotEqual, "test");
//   auto out = dagflow::rollup_to_rows(dagflow::rollup(rows, "region", "revenue"), "region");
//
// Rows are numbered from 0 in messages ("row 3 has no column 'price'"), as rollup does. Numbers
// compare by value (an int 2 equals a double 2.0) and strings byte by byte. Every function is
// pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow {

/// The rows with only the `columns` listed, each of them kept. A Value::Map is sorted by key,
/// so a row cannot hold its columns in the order listed: write_csv orders them by name. Throws
/// dagflow::Error "row R has no column 'C'". O(rows × columns × log row size).
[[nodiscard]] std::vector<Value::Map> select_columns(const std::vector<Value::Map>& rows,
                                                     const std::vector<std::string>& columns);

/// How filter_rows compares a row's value with the one given.
enum class Comparison : std::uint8_t {
  kEqual,         ///< ==
  kNotEqual,      ///< !=
  kLess,          ///< <
  kLessEqual,     ///< <=
  kGreater,       ///< >
  kGreaterEqual,  ///< >=
};

/// The Comparison written `text` ("==", "!=", "<", "<=", ">", ">="), or nullopt.
[[nodiscard]] std::optional<Comparison> parse_comparison(std::string_view text) noexcept;

/// The rows, in order, whose `column` compares with `value` as `op` says. `value` is a number
/// (the column's values must then be numbers: compared by value, a NaN with nothing but !=) or
/// a string (the column's values must be strings: compared byte by byte). Throws dagflow::Error
/// "row R has no column 'C'", "row R: the column 'C' is not a number: JSON" (or "... is not a
/// string: JSON"), and std::invalid_argument when `value` is neither a number nor a string.
[[nodiscard]] std::vector<Value::Map> filter_rows(const std::vector<Value::Map>& rows,
                                                  const std::string& column, Comparison op,
                                                  const Value& value);

/// A derive expression that does not parse. what() says what is wrong (not where); offset() is
/// the byte of the expression where it is (its size for an expression that ends too soon).
class ExpressionError : public Error {
 public:
  ExpressionError(const std::string& message, std::size_t offset)
      : Error(message), offset_(offset) {}
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

/// Parses a derive expression, for checking one before any row is at hand: column names
/// ([A-Za-z_][A-Za-z0-9_]*, or any text but a backtick in backticks: `unit price`), numeric
/// literals (ints and decimals: 2, 0.5, .5, 2.), the binary operators + - * / (usual
/// precedence, left-associative), unary minus and parentheses (at most 64 levels of nesting).
/// Throws ExpressionError.
void check_expression(std::string_view expression);

/// The rows, each with the column `column` set to `expression` (see check_expression) evaluated
/// over its columns: replaced when the row has it already. + - * of two ints give an int
/// (int64, checked), anything with a double a double, and / always a double (true division).
/// Throws ExpressionError when the expression does not parse, and dagflow::Error naming the row
/// for a missing column ("row R has no column 'C'"), a column that is not a number ("row R: the
/// column 'C' is not a number: JSON"), an int64 overflow, a division by zero (by an int or a
/// double) and a result that is not a finite number. O(rows × expression size).
[[nodiscard]] std::vector<Value::Map> derive_column(std::vector<Value::Map> rows,
                                                    const std::string& column,
                                                    std::string_view expression);

/// The rows sorted by their `by` columns (by the first, ties by the second...), stable: rows
/// that tie on every column keep their order. Values of different kinds order as null < bool <
/// number < string < path; numbers by value (a NaN after every other number), strings byte by
/// byte, paths as shown. `descending` reverses that order (ties still keep theirs). Throws
/// dagflow::Error "row R has no column 'C'" and "row R: the column 'C' is a list (or map), which
/// does not sort". O(n log n) comparisons.
[[nodiscard]] std::vector<Value::Map> sort_rows(std::vector<Value::Map> rows,
                                                const std::vector<std::string>& by,
                                                bool descending = false);

/// Which left rows join_rows keeps.
enum class JoinKind : std::uint8_t {
  kInner,  ///< only those with a match
  kLeft,   ///< all of them, unmatched ones as they are
};

/// The JoinKind written `text` ("inner" or "left"), or nullopt.
[[nodiscard]] std::optional<JoinKind> parse_join_kind(std::string_view text) noexcept;

/// The rows of `left` joined with those of `right` whose `on` columns equal theirs: for each
/// left row in order, one row per matching right row in right's order, which is the left row
/// plus every column of the right row but the `on` ones, under its own name, or NAME_right when
/// the left row has a NAME too. A left row with no match is dropped (kInner) or kept as it is
/// (kLeft). Keys are equal as filter_rows' == says, across kinds too: numbers by value (1 matches
/// 1.0), anything else by Value equality (different kinds never match; null matches null).
/// Throws dagflow::Error "left row R has no column 'C'" (or "right row R..."), "left row R and
/// right row S: the joined row would have the column 'C' twice" (a suffixed name that either row
/// has already), and std::invalid_argument when `on` is empty. O(left + right + output) with a hash
/// index over `right`.
[[nodiscard]] std::vector<Value::Map> join_rows(const std::vector<Value::Map>& left,
                                                const std::vector<Value::Map>& right,
                                                const std::vector<std::string>& on,
                                                JoinKind how = JoinKind::kInner);

/// A roll-up (what rollup returns: group -> {count, sum, mean, min, max}) as rows, one per
/// group: the group's map plus the column `key` holding the group's name as read_csv reads an
/// unquoted field (an int, a finite double, else the string: a roll-up by year gives ints), the
/// rows sorted by it as sort_rows does (numbers by value, before strings). Ready for format_csv.
/// Throws dagflow::Error "group 'G' is not a map: JSON" and "group 'G' has a column 'KEY'
/// already".
[[nodiscard]] std::vector<Value::Map> rollup_to_rows(const Value::Map& rollup,
                                                     const std::string& key);

}  // namespace dagflow
