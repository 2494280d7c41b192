// The expressions of the derive op (see check_expression in <dagflow/nodes/table.hpp> for what
// they may hold): parsed once into a postfix program, then evaluated over each row with an
// explicit stack, so neither a long chain (a + b + c + ...) nor a row recursion can overflow a
// worker's stack. An Expression is immutable once parsed: evaluate() may run on several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/nodes/table.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow::detail {

/// Parentheses and unary minus may nest this deep (the parser recurses on them).
inline constexpr int kMaxExpressionDepth = 64;

class Expression {
 public:
  /// Parses `text`. Throws ExpressionError (with the byte offset of the mistake in `text`).
  explicit Expression(std::string_view text);

  /// The value over `row` (row number `r` in messages): an int or a double. Throws
  /// dagflow::Error naming the row for a missing column, a column that is not a number, an int64
  /// overflow, a division by zero and a result that is not finite.
  [[nodiscard]] Value evaluate(const Value::Map& row, std::size_t r) const;

  /// The distinct column names the expression reads, in order of first use.
  [[nodiscard]] const std::vector<std::string>& columns() const noexcept { return columns_; }

 private:
  enum class Code : std::uint8_t { kNumber, kColumn, kNegate, kAdd, kSubtract, kMultiply, kDivide };
  struct Step {
    Code code;
    Value number{};         // kNumber
    std::size_t column{0};  // kColumn: an index into columns_
  };
  friend class ExpressionParser;

  std::vector<Step> program_;  // postfix
  std::vector<std::string> columns_;
};

}  // namespace dagflow::detail
