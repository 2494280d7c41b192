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
#include <vector>

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
/// "task '<label>' failed at item <i>: <original message>"; for a task given retries: "... failed
/// after <n> attempts: ..."; in a run across ranks (ExecutorOptions::cluster): "task '<label>'
/// failed on rank <r>: ..."); the original exception, whatever its type, is kept and can be
/// rethrown with `std::rethrow_exception(e.original())` (on other ranks than the one it failed
/// on: a dagflow::Error with its message).
class TaskError : public Error {
 public:
  TaskError(std::string label, std::uint32_t node, std::exception_ptr original,
            std::optional<std::size_t> item = std::nullopt, std::size_t attempts = 1,
            std::optional<std::size_t> rank = std::nullopt);

  /// For map and reduce tasks: the index of the input item that failed.
  [[nodiscard]] std::optional<std::size_t> item() const noexcept { return item_; }

  /// The failed task's label (the op name for `dagflow::op` tasks).
  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  /// The failed task's node id in its Graph.
  [[nodiscard]] std::uint32_t node() const noexcept { return node_; }
  /// The exception the task threw (its last attempt's).
  [[nodiscard]] std::exception_ptr original() const noexcept { return original_; }
  /// How many attempts ran (1 + the retries made; see TaskOptions::retries).
  [[nodiscard]] std::size_t attempts() const noexcept { return attempts_; }
  /// The last attempt ran past its timeout (this is a TimeoutError, or a copy of one in
  /// RunError::failures()).
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }
  /// In a run across ranks: the rank the task failed on.
  [[nodiscard]] std::optional<std::size_t> rank() const noexcept { return rank_; }

 protected:
  /// For TimeoutError, which writes its own message.
  TaskError(const std::string& message, std::string label, std::uint32_t node,
            std::exception_ptr original, std::size_t attempts, bool timed_out,
            std::optional<std::size_t> rank);

 private:
  std::string label_;
  std::uint32_t node_;
  std::exception_ptr original_;
  std::optional<std::size_t> item_;
  std::size_t attempts_;
  bool timed_out_ = false;
  std::optional<std::size_t> rank_;
};

/// A task ran past its TaskOptions::timeout (on its last attempt). `what()` is "task '<label>'
/// timed out after <t> ms" (and "(<n> attempts)" with retries; "timed out on rank <r> after"
/// across ranks); original() is a dagflow::Error with the same words.
class TimeoutError : public TaskError {
 public:
  TimeoutError(const std::string& label, std::uint32_t node, std::uint64_t timeout_ms,
               std::size_t attempts = 1, std::optional<std::size_t> rank = std::nullopt);
};

/// A compute() was cancelled (Executor::cancel, or Ctrl-C in the dagflow command): tasks not yet
/// started never started, running ones were asked to stop, and what finished is cached.
class Cancelled : public Error {
 public:
  using Error::Error;
};

/// Tasks failed in a run with ExecutorOptions::keep_going: everything that did not depend on
/// them ran (and was cached). `what()` lists the failures, one per line.
class RunError : public Error {
 public:
  /// `failures` in the order they happened; `not_run` counts the tasks skipped because they
  /// depend on one of them.
  explicit RunError(std::vector<TaskError> failures, std::size_t not_run = 0);

  /// Every task that failed, each naming its task (never empty).
  [[nodiscard]] const std::vector<TaskError>& failures() const noexcept { return failures_; }
  /// Tasks not run because they depend on a failed one.
  [[nodiscard]] std::size_t not_run() const noexcept { return not_run_; }

 private:
  std::vector<TaskError> failures_;
  std::size_t not_run_;
};

// ---- implementation -----------------------------------------------------------------------------

namespace detail {
/// The message of any exception: what() for a std::exception, a fixed text otherwise.
[[nodiscard]] std::string message_of(const std::exception_ptr& error);
}  // namespace detail

}  // namespace dagflow
