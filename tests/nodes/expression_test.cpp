#include "expression.hpp"

// Tests of the derive op's private expression unit: precedence, associativity, unary minus and
// parentheses through evaluation, and each syntax error with the byte offset it reports.
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/table.hpp>
#include <dagflow/nodes/value.hpp>

namespace {

using dagflow::Value;
using dagflow::detail::Expression;

// `text` evaluated over {a: 2, b: 3, c: 4.5} as JSON ("14", "0.5").
std::string eval(const char* text) {
  const Value::Map row{{"a", 2}, {"b", 3}, {"c", 4.5}};
  return dagflow::to_json(Expression(text).evaluate(row, 0));
}

struct SyntaxError {
  std::string message;
  std::size_t offset = 0;
};

// The ExpressionError parsing `text` throws ({"(no error)", 0} when it parses).
SyntaxError syntax_error(const char* text) {
  try {
    (void)Expression(text);
  } catch (const dagflow::ExpressionError& e) {
    return {e.what(), e.offset()};
  }
  return {"(no error)", 0};
}

}  // namespace

// * and / bind tighter than + and -; all four are left-associative.
TEST_CASE("Expression: precedence and left associativity", "[nodes][table][expression]") {
  CHECK(eval("a + b * 4") == "14");
  CHECK(eval("a * b + 4") == "10");
  CHECK(eval("10 - 4 - 3") == "3");
  CHECK(eval("24 / 4 / 2") == "3.0");
  CHECK(eval("a - b + 1") == "0");
  CHECK(eval("2 * 3 / 4") == "1.5");
  CHECK(eval("1 + 2 * 3 - 4 / 8") == "6.5");
}

TEST_CASE("Expression: unary minus and parentheses", "[nodes][table][expression]") {
  CHECK(eval("-a") == "-2");
  CHECK(eval("- -a") == "2");
  CHECK(eval("-a * b") == "-6");
  CHECK(eval("a * -b") == "-6");
  CHECK(eval("-(a + b)") == "-5");
  CHECK(eval("(a + b) * 4") == "20");
  CHECK(eval("((a))") == "2");
  CHECK(eval("a - -1") == "3");
  CHECK(eval("-c") == "-4.5");
  CHECK(eval("  a\t*\n b ") == "6");
}

TEST_CASE("Expression: literals and columns", "[nodes][table][expression]") {
  CHECK(eval("7") == "7");
  CHECK(eval("0.25 * 4") == "1.0");
  CHECK(eval(".5 + 1") == "1.5");
  CHECK(eval("c + a") == "6.5");
  CHECK(Expression("a * b + a * c").columns() == std::vector<std::string>{"a", "b", "c"});
  CHECK(Expression("`x y` + _z9").columns() == std::vector<std::string>{"x y", "_z9"});
}

// Each mistake is reported at the byte where it is (the size for an early end).
TEST_CASE("Expression: syntax errors carry their offset", "[nodes][table][expression]") {
  auto e = syntax_error("units * ");
  CHECK(e.message == "expected a number, a column name or '(', got the end of the expression");
  CHECK(e.offset == 8);
  e = syntax_error("units price");
  CHECK(e.message == "expected an operator (+ - * /) or the end of the expression, got 'price'");
  CHECK(e.offset == 6);
  e = syntax_error("(a + b");
  CHECK(e.message == "expected ')' to close the '(' at byte 0, got the end of the expression");
  CHECK(e.offset == 6);
  e = syntax_error("a + (b * 2))");
  CHECK(e.message == "expected an operator (+ - * /) or the end of the expression, got ')'");
  CHECK(e.offset == 11);
  e = syntax_error("a # b");
  CHECK(e.message == "expected an operator (+ - * /) or the end of the expression, got '#'");
  CHECK(e.offset == 2);
  e = syntax_error("a * $b");
  CHECK(e.message == "expected a number, a column name or '(', got '$'");
  CHECK(e.offset == 4);
  e = syntax_error("a + +b");
  CHECK(e.offset == 4);
  e = syntax_error("   ");
  CHECK(e.message == "the expression is empty");
  CHECK(e.offset == 3);
  e = syntax_error("1 + . * 2");
  CHECK(e.message == "expected a digit before or after '.'");
  CHECK(e.offset == 4);
  e = syntax_error("2 * 99999999999999999999");
  CHECK(e.message == "the integer '99999999999999999999' is out of range (int64)");
  CHECK(e.offset == 4);
  e = syntax_error("a + `b c");
  CHECK(e.message == "a column name opened with ` is not closed");
  CHECK(e.offset == 4);
  e = syntax_error("1.2.3");
  CHECK(e.offset == 3);
  CHECK(syntax_error("a * (b - 1)").message == "(no error)");
}

// Nesting is bounded (the parser recurses on parentheses and unary minus).
TEST_CASE("Expression: nesting deeper than the limit is a syntax error",
          "[nodes][table][expression]") {
  const int limit = dagflow::detail::kMaxExpressionDepth;
  const std::string ok = std::string(static_cast<std::size_t>(limit), '(') + "1" +
                         std::string(static_cast<std::size_t>(limit), ')');
  CHECK(syntax_error(ok.c_str()).message == "(no error)");
  const std::string deep = "1 + " + std::string(static_cast<std::size_t>(limit) + 1, '(') + "1";
  const SyntaxError e = syntax_error(deep.c_str());
  CHECK(e.message == "the expression nests deeper than 64 levels");
  CHECK(e.offset == 4 + static_cast<std::size_t>(limit));
  const std::string minus = std::string(static_cast<std::size_t>(limit) + 1, '-') + "1";
  CHECK(syntax_error(minus.c_str()).offset == static_cast<std::size_t>(limit));
  // A long flat chain is no nesting: evaluated with an explicit stack.
  std::string chain = "a";
  for (int i = 0; i < 10000; ++i) chain += " + a";
  CHECK(eval(chain.c_str()) == "20002");
}
