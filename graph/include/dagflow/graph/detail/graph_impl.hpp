// The template bodies of graph.hpp: how Graph::delayed binds its arguments and stores a task.
// Not API; include <dagflow/graph/graph.hpp>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/detail/task_binding.hpp>
#include <dagflow/graph/graph.hpp>

namespace dagflow {

namespace detail {

inline const std::shared_ptr<GraphState>& state_of(const Graph& graph) noexcept {
  return graph.state_;
}

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

template <class D>
inline constexpr bool is_order_dependency = std::is_base_of_v<DelayedBase, D>;
template <class H>
inline constexpr bool is_order_dependency<std::vector<H>> = std::is_base_of_v<DelayedBase, H>;

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

template <class F>
Op<std::decay_t<F>> op(std::string_view name, F&& fn) {
  if (name.empty()) throw std::invalid_argument("dagflow::op: the name must not be empty");
  std::decay_t<F> callable(std::forward<F>(fn));  // a function becomes its pointer here
  const detail::OpIdentity identity = detail::identity_of(callable);
  return Op<std::decay_t<F>>(std::string(name), std::move(callable), identity);
}

inline std::size_t Graph::size() const noexcept { return state_->size(); }

template <class A>
void Graph::check_argument(const A& arg) const {
  using Form = detail::bound_t<A>;
  if constexpr (detail::IsDependency<Form>::value) {
    check_owned(arg);
  } else if constexpr (detail::IsDependencyList<Form>::value) {
    for (const auto& d : arg) check_owned(d);
  } else if constexpr (std::is_pointer_v<std::remove_cvref_t<A>>) {
    if (arg == nullptr) {  // a C string (other pointers bind as themselves)
      throw std::invalid_argument("dagflow::Graph::delayed: a C string argument is null");
    }
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
  static_assert(Check::no_void_argument,
                "dagflow::Graph::delayed: a Delayed<void> has no value to pass as an argument; "
                "to run after it, use g.after(task, step)");
  static_assert(Check::invocable || !Check::no_void_argument,
                "dagflow::Graph::delayed: the callable cannot be called (as const) with these "
                "arguments. It receives a literal L as const L&, a Delayed<T> as T or const T&, "
                "and a std::vector<Delayed<T>> as std::vector<T>; take parameters by value or by "
                "const&, and do not use a mutable lambda");
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

template <class... Deps>
void Graph::after(const DelayedBase& task, const Deps&... deps) {
  static_assert((detail::is_order_dependency<Deps> && ...),
                "dagflow::Graph::after: each dependency is a Delayed handle or a std::vector of "
                "Delayed handles");
  check_owned(task);
  std::vector<NodeId> ids;
  const auto collect = [&](const DelayedBase& d) {
    check_owned(d);
    ids.push_back(d.id());
  };
  const auto collect_all = [&](const auto& dep) {
    if constexpr (std::is_base_of_v<DelayedBase, std::remove_cvref_t<decltype(dep)>>) {
      collect(dep);
    } else {
      for (const DelayedBase& d : dep) collect(d);
    }
  };
  (collect_all(deps), ...);
  add_order_edges(task, ids);
}

}  // namespace dagflow
