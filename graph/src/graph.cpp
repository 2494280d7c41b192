#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/graph.hpp>

namespace dagflow {

std::shared_ptr<detail::GraphState> detail::graph_of(const DelayedBase& d) {
  if (!d.is_valid()) throw std::invalid_argument("empty Delayed (default-constructed)");
  std::shared_ptr<detail::GraphState> graph = d.graph_.lock();
  if (graph == nullptr) {
    throw std::invalid_argument(fmt::format("the Graph of task#{} has been destroyed", d.id()));
  }
  return graph;
}

Graph::Graph() : state_(std::make_shared<detail::GraphState>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

void Graph::check_owned(const DelayedBase& d) const {
  if (!d.is_valid())
    throw std::invalid_argument("empty Delayed (default-constructed) used as an argument");
  // Comparing control blocks: an address reused by a newer graph does not fool it.
  const bool same = !d.graph_.owner_before(state_) && !state_.owner_before(d.graph_);
  if (!same) {
    throw std::invalid_argument(fmt::format(
        "task#{} belongs to another Graph (or to one that has been destroyed)", d.id()));
  }
}

void Graph::set_label(const DelayedBase& task, std::string label) {
  check_owned(task);
  state_->set_label(task.id(), std::move(label));
}

void Graph::set_impure(const DelayedBase& task) {
  check_owned(task);
  state_->set_impure(task.id());
}

void Graph::set_refresh(const DelayedBase& task, bool parts_too) {
  check_owned(task);
  state_->set_refresh(task.id(), parts_too);
}

void Graph::set_options(const DelayedBase& task, TaskOptions options) {
  check_owned(task);
  state_->set_options(task.id(), std::move(options));
}

const TaskOptions& Graph::options(const DelayedBase& task) const {
  check_owned(task);
  static const TaskOptions defaults{};
  const TaskOptions* set = state_->options(task.id());
  return set != nullptr ? *set : defaults;
}

void Graph::add_order_edges(const DelayedBase& task, std::span<const NodeId> deps) {
  state_->add_order_edges(task.id(), deps);
}

std::string Graph::label(NodeId id) const {
  if (id >= size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  return state_->label(id);
}

std::string_view Graph::op_name(NodeId id) const {
  if (id >= size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  return state_->op_name(id);
}

std::uint32_t Graph::op_version(NodeId id) const {
  if (id >= size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  return state_->op_version(id);
}

std::span<const NodeId> Graph::dependencies(NodeId id) const {
  if (id >= size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  const detail::NodeRecord& n = state_->node(id);
  return {state_->edges(n), n.edge_count};
}

std::size_t Graph::argument_count(NodeId id) const {
  if (id >= size()) throw std::invalid_argument(fmt::format("no task with id {}", id));
  return state_->argument_edge_count(id);
}

std::string detail::message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "a non-standard exception (not derived from std::exception)";
  }
}

namespace {
// " on rank <r>" in a run across ranks, else nothing.
std::string on_rank(std::optional<std::size_t> rank) {
  return rank ? fmt::format(" on rank {}", *rank) : std::string();
}

std::string task_error_message(const std::string& label, const std::exception_ptr& original,
                               std::optional<std::size_t> item, std::size_t attempts,
                               std::optional<std::size_t> rank) {
  const std::string after =
      on_rank(rank) + (attempts > 1 ? fmt::format(" after {} attempts", attempts) : "");
  return item ? fmt::format("task '{}' failed{} at item {}: {}", label, after, *item,
                            detail::message_of(original))
              : fmt::format("task '{}' failed{}: {}", label, after, detail::message_of(original));
}

std::string timeout_message(const std::string& label, std::uint64_t timeout_ms,
                            std::size_t attempts, std::optional<std::size_t> rank) {
  return attempts > 1
             ? fmt::format("task '{}' timed out{} after {} ms ({} attempts)", label, on_rank(rank),
                           timeout_ms, attempts)
             : fmt::format("task '{}' timed out{} after {} ms", label, on_rank(rank), timeout_ms);
}

std::string run_error_message(const std::vector<TaskError>& failures, std::size_t not_run) {
  std::string message = failures.size() == 1 ? std::string("1 task failed")
                                             : fmt::format("{} tasks failed", failures.size());
  if (not_run > 0) message += fmt::format(" ({} dependent tasks not run)", not_run);
  message += ':';
  for (const TaskError& e : failures) message += fmt::format("\n  {}", e.what());
  return message;
}
}  // namespace

TaskError::TaskError(std::string label, std::uint32_t node, std::exception_ptr original,
                     std::optional<std::size_t> item, std::size_t attempts,
                     std::optional<std::size_t> rank)
    : Error(task_error_message(label, original, item, attempts, rank)),
      label_(std::move(label)),
      node_(node),
      original_(std::move(original)),
      item_(item),
      attempts_(attempts),
      rank_(rank) {}

TaskError::TaskError(const std::string& message, std::string label, std::uint32_t node,
                     std::exception_ptr original, std::size_t attempts, bool timed_out,
                     std::optional<std::size_t> rank)
    : Error(message),
      label_(std::move(label)),
      node_(node),
      original_(std::move(original)),
      attempts_(attempts),
      timed_out_(timed_out),
      rank_(rank) {}

TimeoutError::TimeoutError(const std::string& label, std::uint32_t node, std::uint64_t timeout_ms,
                           std::size_t attempts, std::optional<std::size_t> rank)
    : TaskError(timeout_message(label, timeout_ms, attempts, rank), label, node,
                std::make_exception_ptr(Error(timeout_message(label, timeout_ms, attempts, rank))),
                attempts, true, rank) {}

RunError::RunError(std::vector<TaskError> failures, std::size_t not_run)
    : Error(run_error_message(failures, not_run)),
      failures_(std::move(failures)),
      not_run_(not_run) {}

}  // namespace dagflow
