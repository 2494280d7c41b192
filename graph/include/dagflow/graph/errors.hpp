// The exceptions dagflow throws at run time. Misuse detected while a graph is built throws
// std::invalid_argument instead (see Graph::delayed).
// Thread-safety: exceptions are immutable once thrown; read them from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace dagflow {

/// Base of every run-time failure dagflow reports.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The graph cannot be run as asked (for example a move-only result that two tasks both want to
/// consume by value).
class GraphError : public Error {
 public:
  using Error::Error;
};

/// A task failed. `what()` is "task '<label>' failed: <original message>" (for map and reduce:
/// "task '<label>' failed at item <i>: <original message>"); the original exception, whatever its
/// type, is kept and can be rethrown with `std::rethrow_exception(e.original())`.
class TaskError : public Error {
 public:
  TaskError(std::string label, std::uint32_t node, std::exception_ptr original,
            std::optional<std::size_t> item = std::nullopt);

  /// For map and reduce tasks: the index of the input item that failed.
  [[nodiscard]] std::optional<std::size_t> item() const noexcept { return item_; }

  /// The failed task's label (the op name for `dagflow::op` tasks).
  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  /// The failed task's node id in its Graph.
  [[nodiscard]] std::uint32_t node() const noexcept { return node_; }
  /// The exception the task threw.
  [[nodiscard]] std::exception_ptr original() const noexcept { return original_; }

 private:
  std::string label_;
  std::uint32_t node_;
  std::exception_ptr original_;
  std::optional<std::size_t> item_;
};

// ---- implementation -----------------------------------------------------------------------------

namespace detail {
/// The message of any exception: what() for a std::exception, a fixed text otherwise.
[[nodiscard]] std::string message_of(const std::exception_ptr& error);
}  // namespace detail

}  // namespace dagflow
