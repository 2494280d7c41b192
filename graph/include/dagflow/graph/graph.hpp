// Graph and Delayed<T>: build a DAG of delayed tasks, Dask style.
//
// A Graph is built from one thread. Once built it may be computed by any number of threads at
// once (Executor::compute only reads it); do not add tasks to it while a compute() runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/detail/task_binding.hpp>

namespace dagflow {

class Graph;
class DelayedBase;

namespace detail {
/// The Graph a handle belongs to. Throws std::invalid_argument for an empty handle or one whose
/// Graph has been destroyed.
std::shared_ptr<GraphState> graph_of(const DelayedBase& d);
}  // namespace detail

/// A handle to a task of a Graph, untyped. Cheap to copy; does not keep the Graph alive.
class DelayedBase {
 public:
  /// The task's id in its Graph (ids are dense, in creation order). kNoNode when empty.
  [[nodiscard]] NodeId id() const noexcept { return id_; }
  /// False for a default-constructed handle.
  [[nodiscard]] bool is_valid() const noexcept { return id_ != kNoNode; }

  static constexpr NodeId kNoNode = UINT32_MAX;

 protected:
  DelayedBase() = default;
  DelayedBase(std::weak_ptr<detail::GraphState> graph, NodeId id)
      : graph_(std::move(graph)), id_(id) {}

 private:
  friend class Graph;
  friend std::shared_ptr<detail::GraphState> detail::graph_of(const DelayedBase& d);

  std::weak_ptr<detail::GraphState> graph_;
  NodeId id_ = kNoNode;
};

/// A task that will produce a `T` when computed: the result of Graph::delayed.
template <class T>
class Delayed : public DelayedBase {
 public:
  using value_type = T;
  Delayed() = default;

 private:
  friend class Graph;
  using DelayedBase::DelayedBase;
};

/// Wraps a callable under a stable name: the task's label, and (with the disk cache) the identity
/// its results are stored under. The name is copied.
///
/// Within one process a name and version stand for one callable: using the same name and version
/// for a different function or callable type throws std::invalid_argument when the task is
/// added. Captured state is not part of an op's identity: the name and version are your promise.
template <class F>
[[nodiscard]] Op<std::decay_t<F>> op(std::string_view name, F&& fn) {
  if (name.empty()) throw std::invalid_argument("dagflow::op: the name must not be empty");
  std::decay_t<F> callable(std::forward<F>(fn));  // a function becomes its pointer here
  const detail::OpIdentity identity = detail::identity_of(callable);
  return Op<std::decay_t<F>>(std::string(name), std::move(callable), identity);
}

/// A DAG of delayed tasks.
///
///   dagflow::Graph g;
///   auto a = g.delayed(square, 3);          // literal arguments are captured by value
///   auto b = g.delayed(add, a, 4);          // a Delayed argument becomes a dependency
///   int r = dagflow::Executor{}.compute(b); // 13
class Graph {
 public:
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  /// Adds a task that calls `fn(args...)` when computed and returns its handle.
  ///
  /// `fn` is a function pointer, a lambda (capturing or not), a functor, or a `dagflow::op`; it is
  /// stored by value and called as const, possibly several times and from any thread. Each
  /// argument is one of:
  /// - a `Delayed<U>`: a dependency; the callable receives its result as `const U&` (shared) or,
  ///   for a by-value parameter, as a `U` (moved out when no one else still needs it);
  /// - a `std::vector<Delayed<U>>`: dependencies, received as a `std::vector<U>`;
  /// - anything else: a literal, copied into the task now and passed as `const L&`.
  /// Type errors are reported by static_assert. Throws std::invalid_argument if a Delayed is empty
  /// or belongs to another (or a destroyed) Graph; the graph is then unchanged.
  template <class F, class... Args>
  [[nodiscard]] auto delayed(F&& fn, Args&&... args);

  /// Names a task in error messages, DOT output and traces (replaces the generated "task#<id>" or
  /// the op name). Throws std::invalid_argument for a handle of another Graph.
  void set_label(const DelayedBase& task, std::string label);

  /// Marks a task impure (it reads or changes the outside world): it runs on every compute() and
  /// neither it nor anything downstream of it is kept by the memory cache. Tasks are otherwise
  /// assumed pure: same inputs, same result. Throws std::invalid_argument for a foreign handle.
  void set_impure(const DelayedBase& task);

  /// The task's label: the one set with set_label, else its op name, else "task#<id>".
  [[nodiscard]] std::string label(NodeId id) const;
  /// The op name of a `dagflow::op` task, else empty.
  [[nodiscard]] std::string_view op_name(NodeId id) const;
  /// The op version of a `dagflow::op` task (0 unless declared), else 0.
  [[nodiscard]] std::uint32_t op_version(NodeId id) const;
  /// The task's dependencies, in argument order (a task used twice appears twice).
  [[nodiscard]] std::span<const NodeId> dependencies(NodeId id) const;
  /// Number of tasks.
  [[nodiscard]] std::size_t size() const noexcept { return state_->size(); }

  /// The storage shared with handles and runs (for the engine).
  [[nodiscard]] const std::shared_ptr<detail::GraphState>& state() const noexcept { return state_; }

 private:
  void check_owned(const DelayedBase& d) const;

  template <class A>
  void check_argument(const A& arg) const;

  std::shared_ptr<detail::GraphState> state_;
};

// ---- implementation -----------------------------------------------------------------------------

namespace detail {

template <class A>
struct IsDependency : std::false_type {};
template <class U>
struct IsDependency<DependencyArg<U>> : std::true_type {};
template <class A>
struct IsDependencyList : std::false_type {};
template <class U>
struct IsDependencyList<DependencyListArg<U>> : std::true_type {};

// Binds one argument: pushes its edges and returns its stored form. `next_edge` counts the node's
// edges so far.
template <class A>
bound_t<A> bind_argument(GraphState& state, A&& arg, std::uint32_t& next_edge) {
  using Form = bound_t<A>;
  if constexpr (IsDependency<Form>::value) {
    state.push_edge(arg.id());
    return Form{next_edge++};
  } else if constexpr (IsDependencyList<Form>::value) {
    const std::uint32_t begin = next_edge;
    for (const auto& d : arg) state.push_edge(d.id());
    next_edge += static_cast<std::uint32_t>(arg.size());
    return Form{begin, static_cast<std::uint32_t>(arg.size())};
  } else {
    return Form{std::forward<A>(arg)};
  }
}

// What a rejected Graph::delayed call returns, so that the static_assert is the only error.
struct InvalidTask {};

template <class F>
decltype(auto) callable_of(F&& fn) {
  if constexpr (is_op<F>) {
    return fn.fn();
  } else {
    return std::forward<F>(fn);
  }
}

}  // namespace detail

template <class A>
void Graph::check_argument(const A& arg) const {
  using Form = detail::bound_t<A>;
  if constexpr (detail::IsDependency<Form>::value) {
    check_owned(arg);
  } else if constexpr (detail::IsDependencyList<Form>::value) {
    for (const auto& d : arg) check_owned(d);
  }
}

template <class F, class... Args>
auto Graph::delayed(F&& fn, Args&&... args) {
  using Check = detail::TaskCheck<F, Args...>;
  static_assert(Check::callable_stored,
                "dagflow::Graph::delayed: the callable must be copy- or move-constructible "
                "(it is stored in the task)");
  static_assert(Check::literals_copyable,
                "dagflow::Graph::delayed: a literal argument is captured by value, so its type "
                "must be copy-constructible (pass a Delayed<T> to share a value instead)");
  static_assert(Check::invocable,
                "dagflow::Graph::delayed: the callable cannot be called (as const) with these "
                "arguments. It receives a literal L as const L&, a Delayed<T> as T or const T&, "
                "and a std::vector<Delayed<T>> as std::vector<T>; take parameters by value or by "
                "const&, and do not use a mutable lambda");
  static_assert(Check::returns_value,
                "dagflow::Graph::delayed: the callable returns void; a task must return a value");
  static_assert(Check::result_movable,
                "dagflow::Graph::delayed: a task's result type must be move-constructible");
  if constexpr (Check::ok) {
    using Fn = typename Check::Fn;
    using T = std::remove_cvref_t<typename Check::R>;
    using P = detail::Payload<Fn, detail::bound_t<Args>...>;

    (check_argument(args), ...);  // throws before anything changes
    std::uint32_t op_name = detail::kNoOp;
    if constexpr (detail::is_op<F>)
      op_name = state_->intern_op(fn.name(), fn.version(), fn.identity());

    void* memory = state_->allocate_payload(sizeof(P), alignof(P));
    P* payload = nullptr;
    try {
      std::uint32_t next_edge = 0;
      // Braced initialisation evaluates the arguments left to right, so edges keep their order.
      payload = ::new (memory)
          P{Fn(detail::callable_of(std::forward<F>(fn))),
            {detail::bind_argument(*state_, std::forward<Args>(args), next_edge)...}};
    } catch (...) {
      state_->abandon_node();
      throw;
    }
    try {
      const NodeId id =
          state_->commit_node(&detail::kTaskVTable<Fn, detail::bound_t<Args>...>, payload, op_name);
      return Delayed<T>(state_, id);
    } catch (...) {
      payload->~P();
      throw;
    }
  } else {
    return detail::InvalidTask{};  // only after a static_assert fired: keeps the error list short
  }
}

}  // namespace dagflow
