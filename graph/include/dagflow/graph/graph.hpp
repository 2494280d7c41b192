// Graph, Delayed<T> and op(): build a DAG of delayed tasks, Dask style, for an Executor to run.
//
// Thread-safety: a Graph is built from one thread. Once built it may be computed by any number of
// threads at once (Executor::compute only reads it); do not add tasks to it while a compute()
// runs. Delayed handles and Ops are plain values: copy them and pass them between threads freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <dagflow/graph/detail/op_identity.hpp>
#include <dagflow/graph/task_options.hpp>
#include <dagflow/graph/types.hpp>

namespace dagflow {

class Graph;
class DelayedBase;
template <class F>
class Op;

namespace detail {
class GraphState;
/// The storage behind a Graph, shared with its handles and runs: the engine's way in. Not API.
[[nodiscard]] const std::shared_ptr<GraphState>& state_of(const Graph& graph) noexcept;
/// The Graph a handle belongs to. Throws std::invalid_argument for an empty handle or one whose
/// Graph has been destroyed. Not API.
[[nodiscard]] std::shared_ptr<GraphState> graph_of(const DelayedBase& d);
}  // namespace detail

/// A DAG of delayed tasks. Move-only. Its Delayed handles do not keep it alive: once it is
/// destroyed, using them throws std::invalid_argument.
///
///   dagflow::Graph g;
///   auto a = g.delayed(square, 3);          // literal arguments are captured by value
///   auto b = g.delayed(add, a, 4);          // a Delayed argument becomes a dependency
///   int r = dagflow::Executor{}.compute(b); // 13
class Graph {
 public:
  /// An empty graph.
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  /// Adds a task that calls `fn(args...)` when computed and returns its handle, a `Delayed<R>`
  /// for the callable's result type R. A callable returning void makes a side-effect step (a
  /// `Delayed<void>`): it is impure (see set_impure), so it runs on every compute() that needs it.
  ///
  /// `fn` is a function pointer, a lambda (capturing or not), a functor, or a `dagflow::op`; it is
  /// stored by value and called as const, possibly several times and from any thread. Each
  /// argument is one of:
  /// - a `Delayed<U>`: a dependency; the callable receives its result as `const U&` (shared) or,
  ///   for a by-value parameter, as a `U` (moved out when no one else still needs it);
  /// - a `std::vector<Delayed<U>>`: dependencies, received as a `std::vector<U>`
  ///   (a `Delayed<void>` has no value to pass: order after it with Graph::after instead);
  /// - a string literal or other C string: copied into a `std::string`, passed as
  ///   `const std::string&` (or, to a `const char*` parameter, as its characters);
  /// - anything else: a literal, copied into the task now and passed as `const L&`.
  /// Type errors are reported by static_assert. Throws std::invalid_argument if a Delayed is empty
  /// or belongs to another (or a destroyed) Graph, or a C string is null; the graph is then
  /// unchanged. O(arguments).
  template <class F, class... Args>
  [[nodiscard]] auto delayed(F&& fn, Args&&... args);

  /// Makes `task` run after `deps` without receiving their results: ordering-only dependencies,
  /// for side-effect steps (a task may return void) and for Taskflow-style graphs. Each of
  /// `deps` is a handle or a `std::vector` of handles of this Graph; a dep may be younger than
  /// `task`. A compute() that needs `task` runs its deps first; they do not change its content
  /// key (a pure dep cannot change its result), but a dep that is impure (a void task is) makes
  /// `task` and everything downstream of it impure too. Throws GraphError, with the graph
  /// unchanged, when an edge would close a cycle (`task` among its deps' own dependencies, or
  /// `task` itself); std::invalid_argument for an empty or foreign handle. O(deps) when each dep
  /// is older than `task`; otherwise also O(tasks between them).
  ///
  ///   auto load = g.delayed(load_table);           // void: a side-effect step
  ///   auto report = g.delayed(print_report, 2026);
  ///   g.after(report, load);                       // report runs after load, reads nothing of it
  template <class... Deps>
  void after(const DelayedBase& task, const Deps&... deps);

  /// Names a task in error messages, DOT output and traces (replaces the generated "task#<id>" or
  /// the op name). Throws std::invalid_argument for a handle of another Graph.
  void set_label(const DelayedBase& task, std::string label);

  /// Marks a task impure (it reads or changes the outside world): it runs on every compute() and
  /// neither it nor anything downstream of it is kept by the memory cache. Tasks are otherwise
  /// assumed pure: same inputs, same result. Throws std::invalid_argument for a foreign handle.
  /// O(tasks added after it).
  void set_impure(const DelayedBase& task);

  /// Marks a task to be computed afresh (`make -B` for one task): compute() never takes its
  /// result from a cache, so it runs whenever it is needed, and its result is stored under its
  /// key as usual. Unlike set_impure, it keeps its key and changes nothing downstream (which is
  /// looked up as usual). With `parts_too` (the default), what the task itself looks up while it
  /// runs is recomputed too (a map's per-block entries); without, a map still finds the blocks
  /// whose items are unchanged. Throws std::invalid_argument for a foreign handle. O(1).
  void set_refresh(const DelayedBase& task, bool parts_too = true);

  /// Sets how a task runs (see TaskOptions): on the I/O threads, holding resources, with
  /// retries and a timeout. Replaces earlier options; does not change the task's key. Throws
  /// std::invalid_argument for a foreign handle or a resource with an empty name. O(1).
  ///
  ///   auto page = g.delayed(dagflow::op("fetch", fetch), url);
  ///   g.set_options(page, {.io = true, .retries = 3, .timeout = std::chrono::seconds(5)});
  void set_options(const DelayedBase& task, TaskOptions options);
  /// The task's options (the defaults unless set_options was called). Valid until the next
  /// change to them. Throws std::invalid_argument for a foreign handle.
  [[nodiscard]] const TaskOptions& options(const DelayedBase& task) const;

  /// The task's label: the one set with set_label, else its op name, else "task#<id>".
  /// Throws std::invalid_argument for an id that is not in the graph (likewise below).
  [[nodiscard]] std::string label(NodeId id) const;
  /// The op name of a `dagflow::op` task, else empty. Valid while the Graph lives.
  [[nodiscard]] std::string_view op_name(NodeId id) const;
  /// The op version of a `dagflow::op` task (0 unless declared), else 0.
  [[nodiscard]] std::uint32_t op_version(NodeId id) const;
  /// The task's dependencies: those it reads, in argument order (a task used twice appears
  /// twice), then its ordering-only ones (after), in the order they were added. Valid until the
  /// next change to the graph.
  [[nodiscard]] std::span<const NodeId> dependencies(NodeId id) const;
  /// How many of dependencies(id) the task reads (the first ones); the rest only order it.
  [[nodiscard]] std::size_t argument_count(NodeId id) const;
  /// Number of tasks.
  [[nodiscard]] std::size_t size() const noexcept;

 private:
  friend const std::shared_ptr<detail::GraphState>& detail::state_of(const Graph& graph) noexcept;

  void check_owned(const DelayedBase& d) const;
  void add_order_edges(const DelayedBase& task, std::span<const NodeId> deps);

  template <class A>
  void check_argument(const A& arg) const;

  std::shared_ptr<detail::GraphState> state_;
};

/// A handle to a task of a Graph, untyped. Cheap to copy; does not keep the Graph alive.
class DelayedBase {
 public:
  /// The task's id in its Graph (ids are dense, in creation order). kNoNode when empty.
  [[nodiscard]] NodeId id() const noexcept { return id_; }
  /// False for a default-constructed handle.
  [[nodiscard]] bool is_valid() const noexcept { return id_ != kNoNode; }

  /// The id of no task (same as dagflow::kNoNode).
  static constexpr NodeId kNoNode = dagflow::kNoNode;

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

/// A task that will produce a `T` when computed: the result of Graph::delayed. Cheap to copy.
/// A `Delayed<void>` (a callable returning void) produces nothing: it can be computed, ordered
/// with Graph::after, but not passed as an argument.
template <class T>
class Delayed : public DelayedBase {
 public:
  using value_type = T;
  /// An empty handle (is_valid() is false); using it as an argument or target throws.
  Delayed() = default;

 private:
  friend class Graph;
  using DelayedBase::DelayedBase;
};

/// Wraps a callable under a stable name: the task's label, and (with the disk cache) the identity
/// its results are stored under. The name is copied; `fn` is moved or copied into the Op.
///
///   auto sq = dagflow::op("square", square).with_version(2);
///   auto t = g.delayed(sq, 3);
///
/// Within one process a name and version stand for one callable: using the same name and version
/// for a different function or callable type throws std::invalid_argument when the task is
/// added. Throws std::invalid_argument for an empty name.
///
/// Captured state never gives a stale result. A function pointer or a callable without state (a
/// captureless lambda) is identified by the name and version alone. A callable with state (a
/// capturing lambda, a functor with members) gets a content key, and so reaches the disk cache,
/// only when it hashes that state: through a `bool hash_state(dagflow::Hasher&) const` member
/// (return false when it cannot) or a dagflow::Hash specialisation for its type. Otherwise its
/// tasks are kept in memory only, and counted in RunStats::not_keyed.
///
///   struct Scaled {
///     long scale;
///     long operator()(long x) const { return x * scale; }
///     bool hash_state(dagflow::Hasher& h) const { h.add(scale); return true; }
///   };
///   auto t = g.delayed(dagflow::op("scaled", Scaled{3}), 10L);  // keyed by "scaled" and 3
template <class F>
[[nodiscard]] Op<std::decay_t<F>> op(std::string_view name, F&& fn);

/// A callable with a stable name, made by dagflow::op. Graph::delayed, map and reduce accept it
/// wherever they accept a plain callable.
template <class F>
class Op {
 public:
  Op(std::string name, F callable, detail::OpIdentity identity)
      : name_(std::move(name)), fn_(std::move(callable)), identity_(identity) {}

  /// Declares the op's version (default 0). Bump it when the function's behaviour changes: its
  /// cached results, and everything computed from them, then stop matching.
  [[nodiscard]] Op with_version(std::uint32_t version) && {
    version_ = version;
    return std::move(*this);
  }

  /// The op's name, as given to dagflow::op.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The op's version (0 unless set with with_version).
  [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
  /// The wrapped callable.
  [[nodiscard]] const F& fn() const noexcept { return fn_; }
  /// Which callable this is: the same for copies of one function or one callable type.
  [[nodiscard]] detail::OpIdentity identity() const noexcept { return identity_; }

 private:
  std::string name_;
  F fn_;
  detail::OpIdentity identity_;
  std::uint32_t version_ = 0;
};

}  // namespace dagflow

// ---- implementation -----------------------------------------------------------------------------

#include <dagflow/graph/detail/graph_impl.hpp>
