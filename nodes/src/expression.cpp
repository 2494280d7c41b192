// Derive expressions (expression.hpp): a recursive-descent parser into postfix steps, and their
// evaluation over a row.
#include "expression.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "rows.hpp"

namespace dagflow::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

}  // namespace

// expression := term (('+' | '-') term)*
// term       := unary (('*' | '/') unary)*
// unary      := '-' unary | primary
// primary    := number | name | '(' expression ')'
class ExpressionParser {
 public:
  ExpressionParser(std::string_view text, Expression& out) : text_(text), out_(out) {}

  void parse() {
    skip_spaces();
    if (pos_ == text_.size()) fail(pos_, "the expression is empty");
    expression();
    if (pos_ < text_.size()) {
      fail(pos_, fmt::format("expected an operator (+ - * /) or the end of the expression, got {}",
                             found()));
    }
  }

 private:
  [[noreturn]] static void fail(std::size_t at, const std::string& message) {
    throw ExpressionError(message, at);
  }

  // The token at pos_, for a message: "'x'" or "the end of the expression".
  [[nodiscard]] std::string found() const {
    if (pos_ >= text_.size()) return "the end of the expression";
    if (is_name_start(text_[pos_])) {
      std::size_t end = pos_;
      while (end < text_.size() && is_name_char(text_[end])) ++end;
      return fmt::format("'{}'", text_.substr(pos_, end - pos_));
    }
    return fmt::format("'{}'", text_[pos_]);
  }

  void skip_spaces() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  // The operator at pos_ when it is one of `ops`, consumed (with the spaces after it).
  char take(std::string_view ops) {
    if (pos_ >= text_.size() || ops.find(text_[pos_]) == std::string_view::npos) return '\0';
    const char c = text_[pos_++];
    skip_spaces();
    return c;
  }

  void emit(Expression::Code code) { out_.program_.push_back(Expression::Step{.code = code}); }

  void expression() {
    term();
    for (char op = take("+-"); op != '\0'; op = take("+-")) {
      term();
      emit(op == '+' ? Expression::Code::kAdd : Expression::Code::kSubtract);
    }
  }

  void term() {
    unary();
    for (char op = take("*/"); op != '\0'; op = take("*/")) {
      unary();
      emit(op == '*' ? Expression::Code::kMultiply : Expression::Code::kDivide);
    }
  }

  void unary() {
    const std::size_t at = pos_;
    if (take("-") == '\0') {
      primary();
      return;
    }
    nest(at);
    unary();
    --depth_;
    emit(Expression::Code::kNegate);
  }

  void nest(std::size_t at) {
    if (++depth_ > kMaxExpressionDepth) {
      fail(at, fmt::format("the expression nests deeper than {} levels", kMaxExpressionDepth));
    }
  }

  void primary() {
    if (pos_ >= text_.size()) {
      fail(pos_, "expected a number, a column name or '(', got the end of the expression");
    }
    const char c = text_[pos_];
    if (c == '(') {
      const std::size_t open = pos_;
      nest(open);
      ++pos_;
      skip_spaces();
      expression();
      if (pos_ >= text_.size() || text_[pos_] != ')') {
        fail(pos_, fmt::format("expected ')' to close the '(' at byte {}, got {}", open, found()));
      }
      ++pos_;
      skip_spaces();
      --depth_;
      return;
    }
    if (is_digit(c) || c == '.') {
      number();
    } else if (is_name_start(c) || c == '`') {
      name();
    } else {
      fail(pos_, fmt::format("expected a number, a column name or '(', got {}", found()));
    }
    skip_spaces();
  }

  // digits ['.' digits*] | '.' digits
  void number() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    bool decimal = false;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      decimal = true;
      ++pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    const std::string_view literal = text_.substr(start, pos_ - start);
    if (literal == ".") fail(start, "expected a digit before or after '.'");
    Value value;
    if (decimal) {
      double d = 0;
      const auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), d);
      if (ec != std::errc() || end != literal.data() + literal.size() || !std::isfinite(d)) {
        fail(start, fmt::format("the number '{}' is out of range", literal));
      }
      value = d;
    } else {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), i);
      if (ec != std::errc() || end != literal.data() + literal.size()) {
        fail(start, fmt::format("the integer '{}' is out of range (int64)", literal));
      }
      value = i;
    }
    out_.program_.push_back(
        Expression::Step{.code = Expression::Code::kNumber, .number = std::move(value)});
  }

  // [A-Za-z_][A-Za-z0-9_]* or `any text but a backtick`
  void name() {
    const std::size_t start = pos_;
    std::string_view name;
    if (text_[pos_] == '`') {
      const std::size_t close = text_.find('`', pos_ + 1);
      if (close == std::string_view::npos) fail(start, "a column name opened with ` is not closed");
      name = text_.substr(pos_ + 1, close - pos_ - 1);
      if (name.empty()) fail(start, "an empty column name (``)");
      pos_ = close + 1;
    } else {
      while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
      name = text_.substr(start, pos_ - start);
    }
    std::vector<std::string>& columns = out_.columns_;
    std::size_t index = 0;
    while (index < columns.size() && columns[index] != name) ++index;
    if (index == columns.size()) columns.emplace_back(name);
    out_.program_.push_back(Expression::Step{.code = Expression::Code::kColumn, .column = index});
  }

  std::string_view text_;
  Expression& out_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

Expression::Expression(std::string_view text) { ExpressionParser(text, *this).parse(); }

namespace {

const char* symbol(char op) {
  switch (op) {
    case '+':
      return "+";
    case '-':
      return "-";
    case '*':
      return "*";
    default:
      return "/";
  }
}

// a OP b for two numbers: ints stay ints for + - * (checked), / is true division.
Value apply(char op, const Value& a, const Value& b, std::size_t r) {
  if (op == '/') {
    const double divisor = b.as_double();
    if (divisor == 0) {
      throw Error(fmt::format("row {}: division by zero: {} / {}", r, to_json(a), to_json(b)));
    }
    const double result = a.as_double() / divisor;
    if (!std::isfinite(result)) {
      throw Error(fmt::format("row {}: the result is not a finite number: {} / {}", r, to_json(a),
                              to_json(b)));
    }
    return result;
  }
  if (a.kind() == ValueKind::kInt && b.kind() == ValueKind::kInt) {
    std::int64_t result = 0;
    const bool overflow = op == '+'   ? __builtin_add_overflow(a.as_int(), b.as_int(), &result)
                          : op == '-' ? __builtin_sub_overflow(a.as_int(), b.as_int(), &result)
                                      : __builtin_mul_overflow(a.as_int(), b.as_int(), &result);
    if (overflow) {
      throw Error(
          fmt::format("row {}: int64 overflow: {} {} {}", r, a.as_int(), symbol(op), b.as_int()));
    }
    return result;
  }
  const double x = a.as_double();
  const double y = b.as_double();
  const double result = op == '+' ? x + y : op == '-' ? x - y : x * y;
  if (!std::isfinite(result)) {
    throw Error(fmt::format("row {}: the result is not a finite number: {} {} {}", r, to_json(a),
                            symbol(op), to_json(b)));
  }
  return result;
}

}  // namespace

Value Expression::evaluate(const Value::Map& row, std::size_t r) const {
  std::vector<Value> stack;
  stack.reserve(program_.size());
  for (const Step& step : program_) {
    switch (step.code) {
      case Code::kNumber:
        stack.push_back(step.number);
        break;
      case Code::kColumn:
        stack.push_back(row_number(row, r, columns_[step.column]));
        break;
      case Code::kNegate: {
        Value& x = stack.back();
        if (x.kind() == ValueKind::kDouble) {
          x = -x.as_double();
        } else if (x.as_int() == std::numeric_limits<std::int64_t>::min()) {
          throw Error(fmt::format("row {}: int64 overflow: -({})", r, x.as_int()));
        } else {
          x = -x.as_int();
        }
        break;
      }
      default: {
        const char op = step.code == Code::kAdd        ? '+'
                        : step.code == Code::kSubtract ? '-'
                        : step.code == Code::kMultiply ? '*'
                                                       : '/';
        Value b = std::move(stack.back());
        stack.pop_back();
        stack.back() = apply(op, stack.back(), b, r);
      }
    }
  }
  return std::move(stack.back());
}

}  // namespace dagflow::detail
