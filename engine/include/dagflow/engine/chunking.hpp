// map and reduce: data-parallel tasks that choose their own chunk sizes. Each is one task (one
// graph node) however many items it has; inside it, items run in chunks on every worker, and the
// result never depends on chunk sizes or thread counts (see reduce).
// Thread-safety: like Graph::delayed, call them from the thread that builds the graph.
//
//   std::vector<double> xs = {1, 2, 3};
//   auto ys = dagflow::map(g, [](double x) { return x * x; }, std::move(xs));  // Delayed<vector>
//   auto total = dagflow::reduce(g, std::plus<>{}, 0.0, ys);                   // Delayed<double>
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/hashing.hpp>

namespace dagflow {

/// Options of map and reduce.
struct ChunkOptions {
  /// The task's label; empty (default) = "map(<op name>)" for a dagflow::op, else "map#<id>"
  /// (likewise "reduce...").
  std::string label{};
  /// Items per chunk; 0 (default) = automatic: sizes adapt at run time to the measured cost of
  /// items. A fixed size is for experiments: it changes only how work is scheduled, never the
  /// result.
  std::size_t chunk_size = 0;
  /// map and map_reduce only: a value standing for whatever else decides the results that the
  /// op's name and version do not say (default none). It is mixed into the task's content key
  /// and into the keys of a map's per-block disk entries, so a different salt never reuses a
  /// block.
  Hash128 salt{};
  /// reduce and map_reduce only: the op is commutative and exact — integer sums, word counts, set
  /// unions, maxima — so partial results may be combined in whatever order they are ready (default
  /// false). Over a streamed file (read_lines, read_chunks) without a disk cache, and in one
  /// process, the blocks' results are then merged into one running total as they come, rather
  /// than in the fixed tree, whose upper merges join two large partial results (for word counts:
  /// fewer merges of large maps, and one partial result per worker alive instead of a tree's).
  /// Elsewhere the tree is kept. Never set it for floating-point sums: their last bits would then
  /// depend on timing.
  bool any_order = false;
};

/// Lets map and reduce read their items from a type C other than std::vector (a dynamically typed
/// value that holds a list, say) in place, without a conversion task or a copy. Specialise it in
/// namespace dagflow:
///
///   template <> struct ListAdapter<Value> {
///     using item = Value;
///     // The items; called inside the task, so a C that holds no list can throw to fail it.
///     static const std::vector<Value>& items(const Value& v) { return v.as_list(); }
///     // Optional: map's results as a C (without it, map over a C returns a std::vector<R>).
///     static Value from_results(std::vector<Value>&& rs) { return Value(std::move(rs)); }
///   };
///
/// map and reduce then take a C or a Delayed<C> as input wherever they take a std::vector<T>.
template <class C>
struct ListAdapter {};

/// What map returns: a Delayed<T> whose type also names the maps that make its items, so that a
/// map, reduce or map_reduce reading it runs their functions composed into one inlined loop,
/// `f(h(x))` per item, when a run fuses the chain (ExecutorOptions::fuse_maps): as fast as
/// map_reduce of the composed function written by hand. It goes wherever a Delayed<T> goes.
/// Stored as a Delayed<T> (or a Mapped of other maps) it still fuses, reading the chain through
/// its maps a batch of items at a time: the same results, a little slower.
template <class T, class Chain>
class Mapped : public Delayed<T> {
 public:
  Mapped() = default;
  /// Any task of type T: the chain is checked against the maps a run fuses, never trusted.
  Mapped(Delayed<T> task)  // NOLINT(google-explicit-constructor): converts like its base
      : Delayed<T>(std::move(task)) {}
};

/// A task that applies `fn` to every item of `input` and returns the results in input order, as
/// a `Delayed<std::vector<R>>` (a Mapped, which is one). `input` is a `std::vector<T>` (moved into
/// the graph when passed as an rvalue, copied otherwise) or a `Delayed<std::vector<T>>` (its size
/// known only at run time), or a type with a ListAdapter (the result is then the adapter's
/// from_results type when it has one), or a file source (read_lines, read_chunks: items are
/// std::string_views, and results of a type R with a ListAdapter come back as R's from_results).
/// `fn` is called as `fn(const T&)`, possibly from several threads at once; it may be a
/// `dagflow::op`. An item that throws fails the task with a TaskError naming its index; no new
/// chunk starts after that. One graph node and one output allocation, however many items; each
/// item's result is written in place, in input order.
template <class F, class Input>
[[nodiscard]] auto map(Graph& g, F&& fn, Input&& input, ChunkOptions options = {});

/// map with further arguments passed to every item after it: `fn(item, extra...)`. Each extra is
/// whatever Graph::delayed accepts (a `Delayed<A>` becomes a dependency of the map task and is
/// passed as `const A&`; a literal is copied into the task), optionally followed by ChunkOptions:
///
///   auto scaled = dagflow::map(g, [](double x, double k) { return x * k; }, xs, factor);
///
/// With a disk cache, the extras' values (when Hashable) are mixed into the per-block keys, so a
/// changed extra reruns every block; extras that are not Hashable turn per-block entries off.
template <class F, class Input, class... Args>
requires(sizeof...(Args) > 0 && !(sizeof...(Args) == 1 &&
                                  (std::is_same_v<std::remove_cvref_t<Args>, ChunkOptions> && ...)))
    [[nodiscard]] auto map(Graph& g, F&& fn, Input&& input, Args&&... args);

/// A task that combines all items of `input` with the associative `op` and returns
/// `op(init, x0 · x1 · ... · xn-1)` as a `Delayed<U>` (`init` when there are no items; `init` is
/// used exactly once, so it need not be an identity). Blocks of items are folded in parallel and
/// their results combined in a tree that depends only on the number of items, so the result is
/// bit-identical for every thread count and every run. `op` is called as `op(U, const T&)` and
/// `op(U, U)`, and U must be constructible from a `const T&` (reduce a map to change the type).
/// `op` combines partial results too (`op(U, U)` merges two blocks' results), so it must be one
/// associative operation: a fold such as `acc + x * x` would square the partial sums as well —
/// use map_reduce for that.
template <class Op, class U, class Input>
[[nodiscard]] auto reduce(Graph& g, Op&& op, U init, Input&& input, ChunkOptions options = {});

/// `reduce(g, combine, init, map(g, fn, input))` in one task, without the intermediate vector of
/// fn's results: each block folds `combine(acc, fn(x))` over its items as they come (the first
/// item's `fn(x)` starts it), then block results are combined in reduce's fixed tree, so the
/// result has the same bits as that reduce of that map. fn is called as `fn(const T&)` returning
/// R, combine as `combine(U, R)` and `combine(U, U)` returning U (U constructible from R).
///
///   // the sum of squares; reduce(g, [](double acc, double x) { return acc + x * x; }, 0.0, xs)
///   // would be wrong: the op also combines block results, squaring those too
///   auto ss = dagflow::map_reduce(g, [](double x) { return x * x; }, std::plus<>{}, 0.0, xs);
///
/// The task has a content key (disk cache) when fn and combine are both dagflow::ops.
///
/// A combine with no natural init (one that merges a list of partial results, say) can say
/// itself what no items give, with a member `U no_items() const`: init is then not used at all
/// (pass `U{}`): no items give `combine.no_items()`, otherwise the combined results alone.
template <class F, class Combine, class U, class Input>
[[nodiscard]] auto map_reduce(Graph& g, F&& fn, Combine&& combine, U init, Input&& input,
                              ChunkOptions options = {});

}  // namespace dagflow

// ---- implementation -----------------------------------------------------------------------------

#include <dagflow/engine/detail/chunking_impl.hpp>
