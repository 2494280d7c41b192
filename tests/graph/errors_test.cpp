#include <dagflow/graph/errors.hpp>

// Tests of dagflow's run-time exceptions: one std::runtime_error hierarchy that a plain
// catch (const std::exception&) sees, and TaskError's message, fields and original exception.
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

namespace {

// The what() of `error` caught as a std::exception, or "(not caught)".
std::string caught_as_std_exception(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "(not caught)";
}

struct NotAnException {
  int code;
};

}  // namespace

// Every dagflow error is a dagflow::Error, a std::runtime_error and, unambiguously, a
// std::exception.
TEST_CASE("Error: one runtime_error hierarchy that catch (std::exception&) sees",
          "[graph][errors]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, dagflow::Error>);
  STATIC_REQUIRE(std::is_base_of_v<dagflow::Error, dagflow::GraphError>);
  STATIC_REQUIRE(std::is_base_of_v<dagflow::Error, dagflow::TaskError>);
  STATIC_REQUIRE_FALSE(std::is_base_of_v<std::invalid_argument, dagflow::Error>);
  CHECK(caught_as_std_exception(std::make_exception_ptr(dagflow::GraphError("two consumers"))) ==
        "two consumers");
  CHECK(caught_as_std_exception(std::make_exception_ptr(dagflow::TaskError(
            "load", 3, std::make_exception_ptr(std::runtime_error("disk full"))))) ==
        "task 'load' failed: disk full");
}

// what() names the task and repeats the original message; the fields keep the details.
TEST_CASE("TaskError: names the task and keeps the original exception", "[graph][errors]") {
  const dagflow::TaskError e("parse", 7, std::make_exception_ptr(std::out_of_range("bad index 9")));
  CHECK(std::string(e.what()) == "task 'parse' failed: bad index 9");
  CHECK(e.label() == "parse");
  CHECK(e.node() == 7);
  CHECK(e.item() == std::nullopt);
  // The original keeps its own type.
  CHECK_THROWS_AS(std::rethrow_exception(e.original()), std::out_of_range);
  CHECK_THROWS_WITH(std::rethrow_exception(e.original()), "bad index 9");
}

// Map and reduce failures also name the item that failed.
TEST_CASE("TaskError: a failed item is named in the message", "[graph][errors]") {
  const dagflow::TaskError e("square", 2, std::make_exception_ptr(std::runtime_error("overflow")),
                             41);
  CHECK(std::string(e.what()) == "task 'square' failed at item 41: overflow");
  CHECK(e.item() == std::optional<std::size_t>(41));
  const dagflow::TaskError first("square", 2, std::make_exception_ptr(std::runtime_error("x")), 0);
  CHECK(std::string(first.what()) == "task 'square' failed at item 0: x");
}

// An exception that is not a std::exception still gets a message, and is kept as it was.
TEST_CASE("TaskError: a non-standard exception is described, and kept", "[graph][errors]") {
  const dagflow::TaskError e("odd", 0, std::make_exception_ptr(NotAnException{42}));
  CHECK(std::string(e.what()) ==
        "task 'odd' failed: a non-standard exception (not derived from std::exception)");
  try {
    std::rethrow_exception(e.original());
  } catch (const NotAnException& original) {
    CHECK(original.code == 42);
  } catch (...) {
    FAIL("the original exception changed type");
  }
  CHECK(dagflow::detail::message_of(std::make_exception_ptr(std::logic_error("plain"))) == "plain");
}
