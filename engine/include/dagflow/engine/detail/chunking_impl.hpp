// The template bodies of chunking.hpp: the argument checks behind map's and reduce's
// static_asserts, map's per-block disk entries, and reduce's fixed block tree. Not API; include
// <dagflow/engine/chunking.hpp>.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/engine/detail/fused_items.hpp>
#include <dagflow/engine/detail/streaming_impl.hpp>
#include <dagflow/engine/streaming.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/serialization.hpp>

namespace dagflow {

namespace detail {

// A type whose items map and reduce read through its ListAdapter.
template <class C>
concept HasListAdapter = requires(const C& c) {
  typename ListAdapter<C>::item;
  { ListAdapter<C>::items(c) } -> std::same_as<const std::vector<typename ListAdapter<C>::item>&>;
};

// What map and reduce accept as input: its items' type, and the value their task receives.
template <class Input>
struct MapInput {
  static constexpr bool supported = false;
  using item = void;
  using value = void;
};
template <class T, class A>
struct MapInput<std::vector<T, A>> {
  static constexpr bool supported = std::is_same_v<A, std::allocator<T>>;
  using item = T;
  using value = std::vector<T, A>;
};
template <class T>
struct MapInput<Delayed<std::vector<T>>> {
  static constexpr bool supported = true;
  using item = T;
  using value = std::vector<T>;
};
template <HasListAdapter C>
struct MapInput<C> {
  static constexpr bool supported = true;
  using item = typename ListAdapter<C>::item;
  using value = C;
};
template <HasListAdapter C>
struct MapInput<Delayed<C>> : MapInput<C> {};
template <>
struct MapInput<TextSource> {  // read_lines, read_chunks: streamed (streaming_impl.hpp)
  static constexpr bool supported = true;
  using item = std::string_view;
  using value = TextSource;
};
template <>
struct MapInput<Delayed<TextSource>> : MapInput<TextSource> {};
template <class Input>
using map_item_t = typename MapInput<handle_t<Input>>::item;
template <class Input>
using map_value_t = typename MapInput<handle_t<Input>>::value;

// The maps that make a Mapped handle's items, as their task bodies, the nearest first (see
// ChainMatch); empty for any other input. Map bodies with further arguments end a chain.
template <class... Bodies>
struct MapChain {};
inline constexpr std::size_t kMaxMapChain = 8;  // bounds the composed functions' instantiations
template <class Input>
struct ChainOf {
  using type = MapChain<>;
};
template <class T, class Chain>
struct ChainOf<Mapped<T, Chain>> {
  using type = Chain;
};
template <class Input>
using chain_of_t = typename ChainOf<std::remove_cvref_t<Input>>::type;
// The chain of a map with body `Body` over an input with chain `Before`.
template <class Body, class Before>
struct ChainAfter {
  using type = MapChain<>;
};
template <class Body, class... Before>
struct ChainAfter<Body, MapChain<Before...>> {
  using type =
      std::conditional_t<(sizeof...(Before) < kMaxMapChain), MapChain<Body, Before...>, MapChain<>>;
};

// The items of a task's input, read in place.
template <class T>
const std::vector<T>& items_of(const std::vector<T>& items) {
  return items;
}
template <HasListAdapter C>
const auto& items_of(const C& input) {
  return ListAdapter<C>::items(input);
}

// map's results over an input of type In: as an In when its ListAdapter can make one.
template <class In, class R>
auto map_result(std::vector<R>&& results) {
  if constexpr (requires { ListAdapter<In>::from_results(std::move(results)); }) {
    return ListAdapter<In>::from_results(std::move(results));
  } else {
    return std::move(results);
  }
}
template <class In, class R>
using map_result_t = decltype(map_result<In, R>(std::declval<std::vector<R>>()));

template <class Fn, class Input, class... A>
struct MapCheck {
  using T = map_item_t<Input>;
  static constexpr bool input_ok = MapInput<handle_t<Input>>::supported;
  static constexpr bool invocable =
      input_ok && std::is_invocable_v<const Fn&, const T&, const A&...>;
  using R = std::remove_cvref_t<
      typename std::conditional_t<invocable, std::invoke_result<const Fn&, const T&, const A&...>,
                                  std::type_identity<int>>::type>;
  static constexpr bool returns_value = !std::is_void_v<R>;
  static constexpr bool not_bool = !std::is_same_v<R, bool>;
  static constexpr bool storable =
      !returns_value || (std::is_default_constructible_v<R> && std::is_move_assignable_v<R>);
  static constexpr bool ok = input_ok && invocable && returns_value && not_bool && storable;
};

template <class Fn, class U, class Input>
struct ReduceCheck {
  using T = map_item_t<Input>;
  static constexpr bool input_ok = MapInput<handle_t<Input>>::supported;
  static constexpr bool init_copyable = copyable_v<U>;
  // Checked only once the earlier conditions hold, so that one mistake gives one message.
  static constexpr bool starts_from_item =
      !input_ok || !init_copyable || std::is_constructible_v<U, const T&>;
  static constexpr bool invocable = !input_ok || !init_copyable ||
                                    (std::is_invocable_r_v<U, const Fn&, U, const T&> &&
                                     std::is_invocable_r_v<U, const Fn&, U, U> &&
                                     std::is_invocable_r_v<U, const Fn&, const U&, U>);
  static constexpr bool ok = input_ok && starts_from_item && invocable && init_copyable;
};

template <class Fn, class Combine, class U, class Input>
struct MapReduceCheck {
  using T = map_item_t<Input>;
  static constexpr bool input_ok = MapInput<handle_t<Input>>::supported;
  static constexpr bool init_copyable = copyable_v<U>;
  static constexpr bool invocable = !input_ok || std::is_invocable_v<const Fn&, const T&>;
  using R = std::remove_cvref_t<
      typename std::conditional_t<input_ok && invocable, std::invoke_result<const Fn&, const T&>,
                                  std::type_identity<int>>::type>;
  static constexpr bool returns_value = !std::is_void_v<R>;
  // Checked only once the earlier conditions hold, so that one mistake gives one message.
  static constexpr bool before = input_ok && init_copyable && invocable && returns_value;
  static constexpr bool starts_from_result = !before || std::is_constructible_v<U, R>;
  static constexpr bool combines =
      !before || (std::is_invocable_r_v<U, const Combine&, U, R> &&
                  std::is_invocable_r_v<U, const Combine&, U, U> &&
                  std::is_invocable_r_v<U, const Combine&, const U&, U>);
  static constexpr bool ok = before && starts_from_result && combines;
};

// The items [begin, end) of n whose blocks rank `rank` of `size` computes (split_share).
struct ItemRange {
  std::size_t begin;
  std::size_t end;
};
constexpr ItemRange share_items(std::size_t n, std::size_t rank, std::size_t size) noexcept {
  const std::size_t per_block = block_items(n);
  const BlockShare share = split_share((n + per_block - 1) / per_block, rank, size);
  return {std::min(n, share.first * per_block), std::min(n, share.last * per_block)};
}
// The items this rank computes: all of them, or (across ranks) its share.
inline ItemRange rank_items(std::size_t n, const RankSplit* split) {
  return split == nullptr ? ItemRange{0, n} : share_items(n, split->rank(), split->size());
}

// Across ranks: sends this rank's results (its range of `out`) to the others and fills in theirs.
template <class R>
void exchange_results(std::vector<R>& out, const RankSplit& split) {
  const std::size_t n = out.size();
  const auto at = [&out](std::size_t i) { return out.begin() + static_cast<std::ptrdiff_t>(i); };
  const ItemRange mine = rank_items(n, &split);
  std::vector<std::string> shares =
      split.exchange(to_bytes(std::vector<R>(at(mine.begin), at(mine.end))));
  for (std::size_t r = 0; r < shares.size(); ++r) {
    if (r == split.rank()) continue;
    const ItemRange theirs = share_items(n, r, split.size());
    std::vector<R> part = from_bytes<std::vector<R>>(shares[r]);
    if (part.size() != theirs.end - theirs.begin) {
      throw Error("rank " + std::to_string(r) + " sent a share of map results of the wrong size");
    }
    std::move(part.begin(), part.end(), at(theirs.begin));
  }
}

// map_items with a block cache: the blocks of `range` are taken from their disk entries, and
// those missing are computed (run_items) and stored.
template <class R, class Items, class RunItems>
void map_blocks(const Items& items, ItemRange range, const Hash128& salt, const BlockCache& cache,
                std::vector<R>& out, const RunItems& run_items) {
  const std::size_t n = items.size();
  const std::size_t per_block = block_items(n);
  const std::size_t first = range.begin / per_block;
  const std::size_t blocks = (range.end - range.begin + per_block - 1) / per_block;
  const std::uint64_t fingerprint = type_fingerprint<std::vector<R>>();
  std::vector<Hash128> keys(blocks);
  std::vector<std::size_t> missing;
  std::size_t cached_items = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t begin = (first + b) * per_block;
    const std::size_t end = std::min(n, begin + per_block);
    Hasher h;
    h.add(std::string_view("dagflow-map-block-2")).add(cache.op_identity().low);
    h.add(cache.op_identity().high).add(salt.low).add(salt.high);
    h.add(std::uint64_t{end - begin});
    items.hash_items(begin, end, h);
    keys[b] = h.digest();
    std::optional<std::vector<R>> part = load_entry<std::vector<R>>(cache, keys[b]);
    if (!part || part->size() != end - begin) {  // the recomputed block replaces it
      missing.push_back(b);
      continue;
    }
    std::move(part->begin(), part->end(), out.begin() + static_cast<std::ptrdiff_t>(begin));
    cached_items += end - begin;
  }
  for_each_chunk(missing.size(), 0, [&](std::size_t first_missing, std::size_t last_missing) {
    for (std::size_t m = first_missing; m < last_missing; ++m) {
      const std::size_t begin = (first + missing[m]) * per_block;
      const std::size_t end = std::min(n, begin + per_block);
      run_items(begin, end);
      const std::vector<R> part(out.begin() + static_cast<std::ptrdiff_t>(begin),
                                out.begin() + static_cast<std::ptrdiff_t>(end));
      cache.put(keys[missing[m]], fingerprint, to_bytes(part));
    }
  });
  count_map_items(range.end - range.begin - cached_items, cached_items, keys);
}

// Applies `call` (as call(const T&) -> R) to every item (ListItems or SourcedItems), in input
// order, in chunks sized at run time. When the running task has a block cache (a keyed task with
// a disk cache), results are stored per block (block_items: boundaries from the item count
// only), keyed by the op's identity, `salt` and the block's items: after one item changes, only
// its block runs again. `salt` stands for whatever else decides the results (further arguments
// of the call). Across ranks, each computes its share of the blocks and the shares are exchanged
// (when R can be sent; otherwise every rank computes every item).
template <class R, class Items, class Call>
std::vector<R> map_items(const Items& items, std::size_t chunk_size, const Call& call,
                         const Hash128& salt = {}, bool use_block_cache = true) {
  const std::size_t n = items.size();
  std::vector<R> out(n);
  auto run_items = [&](std::size_t begin, std::size_t end) {
    items.each(begin, end, [&](std::size_t i, const auto& x) { out[i] = call(x); });
  };
  const RankSplit* split = nullptr;
  if constexpr (Serializable<std::vector<R>> && copyable_v<R>) {
    if (n > 0) split = current_split();
  }
  const ItemRange mine = rank_items(n, split);
  bool done = false;
  if constexpr (Serializable<std::vector<R>> && copyable_v<R>) {
    const BlockCache* cache = use_block_cache ? current_block_cache() : nullptr;
    std::optional<Hash128> block_salt;
    if (cache != nullptr && mine.begin < mine.end) block_salt = items.block_salt(salt);
    if (block_salt) {
      map_blocks<R>(items, mine, *block_salt, *cache, out, run_items);
      done = true;
    }
  }
  if (!done) {
    for_each_chunk(mine.end - mine.begin, chunk_size, [&](std::size_t begin, std::size_t end) {
      run_items(mine.begin + begin, mine.begin + end);
    });
    count_map_items(mine.end - mine.begin, 0);
  }
  if constexpr (Serializable<std::vector<R>> && copyable_v<R>) {
    if (split != nullptr) exchange_results(out, *split);
  }
  return out;
}

// What an extra argument of map arrives as in the task body (as Graph::delayed passes it).
template <class A>
struct ExtraValue {
  using type = std::decay_t<A>;
};
template <class U>
struct ExtraValue<Delayed<U>> {
  using type = U;
};
template <class U>
struct ExtraValue<std::vector<Delayed<U>>> {
  using type = std::vector<U>;
};
template <class A>
using extra_value_t = typename ExtraValue<handle_t<A>>::type;

// The task body of map: fn(item, extras...) for every item of an In. The extras (values of the
// task's further arguments) decide results too, so they join the per-block keys, as does the salt.
template <class F, class In, class... A>
struct MapBody {
  F fn;
  std::size_t chunk_size;
  Hash128 salt;
  using Input = In;
  using T = typename MapInput<In>::item;
  using R = std::remove_cvref_t<std::invoke_result_t<const F&, const T&, const A&...>>;

  // The item function's state and the salt are the map's (chunk_size changes no result).
  bool hash_state(Hasher& h) const {
    h.add(salt.low).add(salt.high);
    return hash_callable_state(fn, h);
  }

  auto operator()(const In& input, const A&... extras) const {
    if constexpr (std::is_same_v<In, TextSource>) {
      const auto call = [&](const T& x) { return std::invoke(fn, x, extras...); };
      // Results that are themselves a dynamic value (a pipeline's) come back as one of them.
      return map_result<R>(stream_map<R>(input, chunk_size, call, salt_with(extras...)));
    } else {
      return in_memory(ListItems<T>{items_of(input)}, extras...);
    }
  }

  // The map over items in memory: read in place (ListItems), or made by the maps fused before it
  // (SourcedItems, ComposedItems).
  template <class Items>
  auto in_memory(const Items& items, const A&... extras) const {
    const auto call = [&](const T& x) { return std::invoke(fn, x, extras...); };
    const std::optional<Hash128> block_salt = salt_with(extras...);
    return map_result<In>(map_items<R>(items, chunk_size, call, block_salt.value_or(Hash128{}),
                                       block_salt.has_value()));
  }

  // The map with its items made by the map fused before it (FusionVTable::invoke_fused): the
  // same result as operator() over that map's result.
  auto fused(const FusedItems<T>& items, const A&... extras) const {
    const auto call = [&](const T& x) { return std::invoke(fn, x, extras...); };
    std::optional<Hash128> block_salt = salt_with(extras...);
    if (const TextSource* file = items.stream()) {
      if (block_salt) block_salt = fused_maps_salt(items, *block_salt);
      return map_result<In>(stream_map<R>(
          *file, chunk_size, [&](std::string_view x) { return call(items.apply(x)); }, block_salt));
    }
    return in_memory(SourcedItems<T>{items}, extras...);
  }

  // The salt of per-block entries: the extras join it (none when they cannot be hashed).
  std::optional<Hash128> salt_with(const A&... extras) const {
    if constexpr (sizeof...(A) == 0) {
      return salt;
    } else if constexpr ((Hashable<A> && ...)) {
      Hasher h;
      h.add(salt.low).add(salt.high);
      if (current_block_cache() != nullptr) (h.add(extras), ...);
      return h.digest();
    } else {
      return std::nullopt;  // unknown extras: no per-block entries
    }
  }
};

// Across ranks: sends this rank's block results to the others and fills in theirs, so that
// every rank combines all of them in the same tree.
template <class U>
void exchange_partials(std::vector<std::optional<U>>& partial, const RankSplit& split) {
  const std::size_t blocks = partial.size();
  const BlockShare mine = split_share(blocks, split.rank(), split.size());
  std::vector<U> own;
  own.reserve(mine.last - mine.first);
  for (std::size_t k = mine.first; k < mine.last; ++k) own.push_back(*partial[k]);
  const std::vector<std::string> shares = split.exchange(to_bytes(own));
  for (std::size_t r = 0; r < shares.size(); ++r) {
    if (r == split.rank()) continue;
    const BlockShare theirs = split_share(blocks, r, split.size());
    std::vector<U> part = from_bytes<std::vector<U>>(shares[r]);
    if (part.size() != theirs.last - theirs.first) {
      throw Error("rank " + std::to_string(r) +
                  " sent a share of reduce results of the wrong size");
    }
    for (std::size_t k = theirs.first; k < theirs.last; ++k) {
      partial[k].emplace(std::move(part[k - theirs.first]));
    }
  }
}

// What reduce folds of each item: the item itself (reduce), or the item function's result
// (map_reduce: Item is that function).
struct ItemAsIs {};

// A combining function that knows what no items give (see map_reduce): init is then unused.
template <class Op, class U>
concept HasNoItemsResult = requires(const Op& op) {
  { op.no_items() } -> std::convertible_to<U>;
};

template <class Op, class U, class In, class Item = ItemAsIs>
struct ReduceBody {
  using T = typename MapInput<In>::item;
  static constexpr bool kAsIs = std::is_same_v<Item, ItemAsIs>;
  Op op;
  U init;
  std::size_t chunk_size;
  Item item{};
  // map_reduce: the name and version of `op` when it is a dagflow::op (the task's own name is the
  // item function's); without them the combining function is unknown and the task has no key.
  std::optional<std::pair<std::string, std::uint32_t>> op_name{};
  Hash128 salt{};          // map_reduce: ChunkOptions::salt
  bool any_order = false;  // ChunkOptions::any_order

  // init, the ops' state and (map_reduce) the combining op's identity change the result, so they
  // are part of the task's content key (chunk_size is not).
  bool hash_state(Hasher& h) const {
    if constexpr (Hashable<U>) {
      h.add(init);
      if constexpr (!kAsIs) {
        if (!op_name || !hash_callable_state(item, h)) return false;
        h.add(op_name->first).add(op_name->second).add(salt.low).add(salt.high);
      }
      return hash_callable_state(op, h);
    } else {
      return false;
    }
  }

  decltype(auto) value_of(const T& x) const {
    if constexpr (kAsIs) {
      return (x);
    } else {
      return std::invoke(item, x);
    }
  }

  // What no items give, and the result from the combined total of all items.
  U no_items() const {
    if constexpr (HasNoItemsResult<Op, U>) return op.no_items();
    return init;
  }
  U finish(U total) const {
    if constexpr (HasNoItemsResult<Op, U>) return total;
    return std::invoke(op, init, std::move(total));
  }

  U operator()(const In& input) const {
    if constexpr (std::is_same_v<In, TextSource>) {
      return stream(
          input, [](std::string_view x) { return x; }, nullptr);
    } else {
      return in_memory(ListItems<T>{items_of(input)});
    }
  }

  // The reduce with its items made by the map fused before it (FusionVTable::invoke_fused): the
  // same bits as operator() over that map's result.
  U fused(const FusedItems<T>& items) const {
    if (const TextSource* file = items.stream()) {
      return stream(
          *file, [&](std::string_view x) { return items.apply(x); }, &items);
    }
    return in_memory(SourcedItems<T>{items});
  }

  // Blocks of a file, streamed: each block's fold is stored per block (keyed by the task's state,
  // the fused maps' if any, and the block's bytes), so an append refolds the tail only.
  // `item_of(x)` is the item a line or chunk of the file stands for.
  template <class ItemOf>
  U stream(const TextSource& source, const ItemOf& item_of, const FusedItems<T>* maps) const {
    std::optional<Hash128> state;
    if (Hasher h; hash_state(h) && (maps == nullptr || maps->hash_maps(h))) state = h.digest();
    std::optional<U> total = stream_fold<U>(
        source, [&](std::string_view x) { return U(value_of(item_of(x))); },
        [&](U acc, std::string_view x) {
          return std::invoke(op, std::move(acc), value_of(item_of(x)));
        },
        [&](U a, U b) { return std::invoke(op, std::move(a), std::move(b)); }, state, any_order);
    return total ? finish(std::move(*total)) : no_items();
  }

  template <class Items>
  U in_memory(const Items& items) const {
    const std::size_t n = items.size();
    if (n == 0) return no_items();
    const std::size_t per_block = block_items(n);
    const std::size_t blocks = (n + per_block - 1) / per_block;
    std::vector<std::optional<U>> partial(blocks);
    // Across ranks, each folds its share of the blocks, then all exchange their block results.
    const RankSplit* split = nullptr;
    if constexpr (Serializable<std::vector<U>> && copyable_v<U> &&
                  std::is_default_constructible_v<U>) {
      split = current_split();
    }
    const BlockShare mine = split == nullptr ? BlockShare{0, blocks}
                                             : split_share(blocks, split->rank(), split->size());
    fold_blocks(items, mine, partial);
    if constexpr (Serializable<std::vector<U>> && copyable_v<U> &&
                  std::is_default_constructible_v<U>) {
      if (split != nullptr) exchange_partials(partial, *split);
    }
    // 2. Block results in a tree fixed by the block count: (k, k + stride) for doubling strides.
    for (std::size_t stride = 1; stride < blocks; stride *= 2) {
      const std::size_t pairs = (blocks + 2 * stride - 1) / (2 * stride);
      for_each_chunk(pairs, 0, [&](std::size_t first_pair, std::size_t last_pair) {
        for (std::size_t p = first_pair; p < last_pair; ++p) {
          const std::size_t k = p * 2 * stride;
          if (k + stride >= blocks) continue;
          try {
            U merged = std::invoke(op, std::move(*partial[k]), std::move(*partial[k + stride]));
            partial[k + stride].reset();
            partial[k].emplace(std::move(merged));
          } catch (...) {
            throw_item_failure((k + stride) * per_block);
          }
        }
      });
    }
    return finish(std::move(*partial[0]));
  }

  // Items are computed by functions (map_reduce's, a fused map's): worth a per-block entry of
  // each block's fold, so that a changed item refolds its block only.
  template <class Items>
  static constexpr bool kBlockEntries =
      (!kAsIs || !std::is_same_v<Items, ListItems<T>>)&&Serializable<U>&& copyable_v<U>;

  // 1. The blocks of this rank's share, each folded left to right, or found in its per-block
  //    entry (kBlockEntries, with a block cache), keyed by the task's state, the fused maps' and
  //    the block's source items.
  template <class Items>
  void fold_blocks(const Items& items, BlockShare mine,
                   std::vector<std::optional<U>>& partial) const {
    const std::size_t n = items.size();
    const std::size_t per_block = block_items(n);
    const BlockCache* cache = nullptr;
    std::optional<Hash128> block_salt;
    if constexpr (kBlockEntries<Items>) {
      cache = current_block_cache();
      if (Hasher h; cache != nullptr && hash_state(h)) block_salt = items.block_salt(h.digest());
    }
    std::vector<Hash128> keys(block_salt ? mine.last - mine.first : 0);
    std::atomic<std::size_t> cached{0};
    const std::size_t blocks_per_chunk =
        chunk_size == 0 ? 0 : std::max<std::size_t>(1, chunk_size / per_block);
    for_each_chunk(mine.last - mine.first, blocks_per_chunk, [&](std::size_t b, std::size_t e) {
      for (std::size_t k = mine.first + b; k < mine.first + e; ++k) {
        const std::size_t begin = k * per_block;
        const std::size_t end = std::min(n, begin + per_block);
        if constexpr (kBlockEntries<Items>) {
          if (block_salt) {
            Hasher h;
            h.add(std::string_view("dagflow-fold-block-1")).add(cache->op_identity().low);
            h.add(cache->op_identity().high).add(block_salt->low).add(block_salt->high);
            h.add(std::uint64_t{end - begin});
            items.hash_items(begin, end, h);
            keys[k - mine.first] = h.digest();
            partial[k] = load_entry<U>(*cache, keys[k - mine.first]);
            if (partial[k]) {
              cached.fetch_add(end - begin, std::memory_order_relaxed);
              continue;
            }
            partial[k].emplace(fold(items, begin, end));
            cache->put(keys[k - mine.first], type_fingerprint<U>(), to_bytes(*partial[k]));
            continue;
          }
        }
        partial[k].emplace(fold(items, begin, end));
      }
    });
    // map_reduce's items, and a fused map's, count as a map's (progress, statistics).
    if constexpr (!kAsIs || !std::is_same_v<Items, ListItems<T>>) {
      const std::size_t folded =
          std::min(n, mine.last * per_block) - std::min(n, mine.first * per_block);
      const std::size_t found = cached.load(std::memory_order_relaxed);
      count_map_items(folded - found, found, keys);
    }
  }

  // One block's fold: its first item starts it.
  template <class Items>
  U fold(const Items& items, std::size_t begin, std::size_t end) const {
    std::optional<U> first;
    items.each(begin, begin + 1, [&](std::size_t, const T& x) { first.emplace(value_of(x)); });
    U acc(std::move(*first));  // a local: kept in a register through the loop
    items.each(begin + 1, end, [&](std::size_t, const T& x) {
      acc = std::invoke(op, std::move(acc), value_of(x));
    });
    return acc;
  }
};

// ---- map fusion (ExecutorOptions::fuse_maps) ------------------------------------------------

// A map as the FusedItems of its results, for the task it is fused into: each item is
// fn(item, extras...) of an item of the map's own input, read in place or made by the map fused
// before it. `Extras` holds the extras as the task's arguments deliver them: references into
// their slots and the payload, or values (a list of dependencies arrives as a new vector).
template <class Body, class Extras>
class MapSource final : public FusedItems<typename Body::R> {
  using In = typename Body::Input;
  using T = typename Body::T;
  using R = typename Body::R;
  static constexpr bool kStreamed = std::is_same_v<In, TextSource>;

 public:
  MapSource(const Body& body, const In* input, std::unique_ptr<FusedSource> upstream,
            const Hash128* identity, Extras extras)
      : body_(body), input_(input), upstream_(std::move(upstream)), extras_(std::move(extras)) {
    if (identity != nullptr) identity_ = *identity;
  }

  [[nodiscard]] const TextSource* stream() const noexcept override {
    if (upstream_) return up().stream();
    if constexpr (kStreamed) {
      return input_;
    } else {
      return nullptr;
    }
  }

  [[nodiscard]] std::size_t size() const override {
    if (upstream_) return up().size();
    if constexpr (kStreamed) {
      return 0;  // streamed: never asked
    } else {
      return items_of(*input_).size();
    }
  }

  void fill(std::size_t begin, std::size_t count, R* out) const override {
    const auto put = [&](std::size_t i, const T& x) { out[i - begin] = call(x); };
    if (upstream_) {
      SourcedItems<T>{up()}.each(begin, begin + count, put);
    } else if constexpr (!kStreamed) {
      ListItems<T>{items_of(*input_)}.each(begin, begin + count, put);
    }
  }

  [[nodiscard]] R apply(std::string_view item) const override {
    if constexpr (kStreamed) {
      return call(item);
    } else {
      return call(up().apply(item));
    }
  }

  [[nodiscard]] bool hash_maps(Hasher& h) const override {
    if ((upstream_ && !up().hash_maps(h)) || !identity_) return false;
    h.add(identity_->low).add(identity_->high);
    if (!body_.hash_state(h)) return false;
    return std::apply(
        [&h](const auto&... extra) {
          if constexpr ((Hashable<std::remove_cvref_t<decltype(extra)>> && ...)) {
            (h.add(extra), ...);
            return true;
          } else {
            return false;
          }
        },
        extras_);
  }

  // For ChainMatch: the map fused before this one (null when the items come from input()), this
  // map's own input, and its function of one item.
  [[nodiscard]] const FusedSource* upstream() const noexcept { return upstream_.get(); }
  [[nodiscard]] const In* input() const noexcept { return input_; }
  R call(const T& x) const {
    return std::apply([&](const auto&... extra) { return std::invoke(body_.fn, x, extra...); },
                      extras_);
  }

  [[nodiscard]] bool hash_source(std::size_t begin, std::size_t end, Hasher& h) const override {
    if (upstream_) return up().hash_source(begin, end, h);
    if constexpr (kStreamed) {
      return false;  // a stream keys its blocks by their bytes
    } else {
      const ListItems<T> items{items_of(*input_)};
      if (!items.block_salt(Hash128{})) return false;
      items.hash_items(begin, end, h);
      return true;
    }
  }

 private:
  [[nodiscard]] const FusedItems<T>& up() const {
    return static_cast<const FusedItems<T>&>(*upstream_);
  }

  const Body& body_;
  const In* input_;  // null when the items come from upstream_
  std::unique_ptr<FusedSource> upstream_;
  Extras extras_;
  std::optional<Hash128> identity_;
};

// FusionVTable::open of a map task with payload Payload<Body, B0, B...> (B0: its input).
template <class Body, class B0, class... B, std::size_t... I>
std::unique_ptr<FusedSource> open_indexed(const Payload<Body, B0, B...>& p,
                                          const TaskInputs& inputs,
                                          std::unique_ptr<FusedSource> upstream,
                                          const Hash128* identity,
                                          std::index_sequence<I...> /*unused*/) {
  using In = typename Body::Input;
  using Extras =
      std::tuple<decltype(fetch<param_t<Body, I + 1>>(std::get<I + 1>(p.args), inputs))...>;
  const In* input = upstream ? nullptr : &fetch<const In&>(std::get<0>(p.args), inputs);
  return std::make_unique<MapSource<Body, Extras>>(
      p.fn, input, std::move(upstream), identity,
      Extras(fetch<param_t<Body, I + 1>>(std::get<I + 1>(p.args), inputs)...));
}
template <class Body, class B0, class... B>
std::unique_ptr<FusedSource> open_fused(const void* payload, const TaskInputs& inputs,
                                        std::unique_ptr<FusedSource> upstream,
                                        const Hash128* identity) {
  return open_indexed(*static_cast<const Payload<Body, B0, B...>*>(payload), inputs,
                      std::move(upstream), identity, std::index_sequence_for<B...>{});
}

// Composes fused maps at compile time. `Chain` names, in the type of map's handle (Mapped), the
// bodies of the maps that make a reader's items, the nearest first. When the run fused exactly
// those maps (each without further arguments) down to a list in memory, run() calls
// k(list, call) with call(x) = the maps' functions composed, for the list's items x, and returns
// true; otherwise (another chain, a map with extras, a streamed file) it returns false.
template <class Chain>
struct ChainMatch {
  template <class K>
  static bool run(const FusedSource& /*items*/, const K& /*k*/) {
    return false;
  }
};
template <class Body, class... Rest>
struct ChainMatch<MapChain<Body, Rest...>> {
  template <class K>
  static bool run(const FusedSource& items, const K& k) {
    const auto* map = dynamic_cast<const MapSource<Body, std::tuple<>>*>(&items);
    if (map == nullptr) return false;
    if (const FusedSource* before = map->upstream()) {
      return ChainMatch<MapChain<Rest...>>::run(*before, [&k, map](const auto& list, auto inner) {
        k(list, [map, inner](const auto& x) { return map->call(inner(x)); });
      });
    }
    if constexpr (std::is_same_v<typename Body::Input, TextSource>) {
      return false;  // streamed: its items come one by one from the file
    } else {
      k(items_of(*map->input()), [map](const auto& x) { return map->call(x); });
      return true;
    }
  }
};

// FusionVTable::invoke_fused of a map, reduce or map_reduce whose input is the dependency In,
// made by the maps `Chain` names: composed at compile time when the run fused exactly those
// (ChainMatch), else read through the fused maps (FusedItems).
template <class Body, class Chain, class In, class... B, std::size_t... I>
void invoke_fused_indexed(const Payload<Body, DependencyArg<In>, B...>& p, const TaskInputs& inputs,
                          const FusedSource& items, ResultSlot& out,
                          std::index_sequence<I...> /*unused*/) {
  using Result = stored_result_t<Body, DependencyArg<In>, B...>;
  using T = map_item_t<In>;
  const auto& source = static_cast<const FusedItems<T>&>(items);
  const bool composed = ChainMatch<Chain>::run(source, [&](const auto& list, auto call) {
    using S = typename std::remove_cvref_t<decltype(list)>::value_type;
    const ComposedItems<T, S, decltype(call)> through{source, list, std::move(call)};
    out.emplace<Result>([&]() -> decltype(auto) {
      return p.fn.in_memory(through,
                            fetch<param_t<Body, I + 1>>(std::get<I + 1>(p.args), inputs)...);
    });
  });
  if (composed) return;
  out.emplace<Result>([&]() -> decltype(auto) {
    return p.fn.fused(source, fetch<param_t<Body, I + 1>>(std::get<I + 1>(p.args), inputs)...);
  });
}
template <class Body, class Chain, class B0, class... B>
void invoke_fused(const void* payload, const TaskInputs& inputs, const FusedSource& items,
                  ResultSlot& out) {
  invoke_fused_indexed<Body, Chain>(*static_cast<const Payload<Body, B0, B...>*>(payload), inputs,
                                    items, out, std::index_sequence_for<B...>{});
}

template <class Body>
inline constexpr bool is_map_body = false;
template <class F, class In, class... A>
inline constexpr bool is_map_body<MapBody<F, In, A...>> = true;

// A task can read a fused map when its input is a dependency holding a list (not a file).
template <class B0>
struct FusedReader {
  static constexpr bool ok = false;
  using item = void;
};
template <class In>
struct FusedReader<DependencyArg<In>> {
  static constexpr bool ok = !std::is_same_v<In, TextSource>;
  using item = map_item_t<In>;
};

template <class Body, class Chain, class B0, class... B>
constexpr FusionVTable make_fusion_vtable() {
  FusionVTable table{nullptr, nullptr, nullptr, nullptr};
  if constexpr (is_map_body<Body>) {
    table.produces = &typeid(typename Body::R);
    table.open = &open_fused<Body, B0, B...>;
  }
  if constexpr (FusedReader<B0>::ok) {
    table.consumes = &typeid(typename FusedReader<B0>::item);
    table.invoke_fused = &invoke_fused<Body, Chain, B0, B...>;
  }
  return table;
}
template <class Body, class Chain, class B0, class... B>
inline constexpr FusionVTable kFusionVTable = make_fusion_vtable<Body, Chain, B0, B...>();

// Builds the task: the op name (if any) is kept as "<kind>(<name>)", so that a map of a named op
// has a stable identity of its own.
template <class Body, class F, class Input, class... Extras>
auto add_chunked_task(Graph& g, const char* kind, const F& fn, Body body, Input&& input,
                      const ChunkOptions& options, Extras&&... extras) {
  auto task = [&] {
    if constexpr (is_op<F>) {
      // The map (or reduce) of an op is an op of its own, with the item function's identity and
      // version: the body type also depends on the item type, which must not count as another
      // callable.
      Op<Body> whole(std::string(kind) + "(" + fn.name() + ")", std::move(body), fn.identity());
      return g.delayed(std::move(whole).with_version(fn.version()), std::forward<Input>(input),
                       std::forward<Extras>(extras)...);
    } else {
      return g.delayed(std::move(body), std::forward<Input>(input),
                       std::forward<Extras>(extras)...);
    }
  }();
  if (!options.label.empty()) {
    g.set_label(task, options.label);
  } else if constexpr (!is_op<F>) {
    g.set_label(task, std::string(kind) + "#" + std::to_string(task.id()));
  }
  state_of(g)->set_splits_across_ranks(task.id());
  if constexpr (is_map_body<Body> || FusedReader<bound_t<Input>>::ok) {
    state_of(g)->set_fusion(
        task.id(), &kFusionVTable<Body, chain_of_t<Input>, bound_t<Input>, bound_t<Extras>...>);
  }
  return task;
}

}  // namespace detail

namespace detail {

// map's body: the checks, then the task, with `extras` passed to every item after it.
template <class F, class Input, class... Extras>
auto map_task(Graph& g, F&& fn, Input&& input, const ChunkOptions& options, Extras&&... extras) {
  using Check = MapCheck<callable_t<F>, Input, extra_value_t<Extras>...>;
  static_assert(
      Check::input_ok,
      "dagflow::map: the input must be a std::vector<T> or a Delayed<std::vector<T>> (or a "
      "type with a dagflow::ListAdapter)");
  static_assert(Check::invocable,
                "dagflow::map: the function cannot be called as fn(const T&, const extras&...) "
                "on the input's items");
  static_assert(Check::returns_value,
                "dagflow::map: the function returns void; it must return a value");
  static_assert(Check::not_bool,
                "dagflow::map: a function returning bool would make a std::vector<bool>, whose "
                "packed bits cannot be written from several threads; return char or std::uint8_t");
  static_assert(Check::storable,
                "dagflow::map: results are written in place into a std::vector<R> of the input's "
                "size, so R must be default-constructible and move-assignable (wrap it in "
                "std::optional<R> otherwise)");
  if constexpr (Check::ok) {
    using Fn = callable_t<F>;
    using Body = MapBody<Fn, map_value_t<Input>, extra_value_t<Extras>...>;
    using Chain =
        std::conditional_t<sizeof...(Extras) == 0,
                           typename ChainAfter<Body, chain_of_t<Input>>::type, MapChain<>>;
    Body body{Fn(callable_of(std::forward<F>(fn))), options.chunk_size, options.salt};
    auto task = add_chunked_task(g, "map", fn, std::move(body), std::forward<Input>(input), options,
                                 std::forward<Extras>(extras)...);
    return Mapped<typename decltype(task)::value_type, Chain>(std::move(task));
  } else {
    return InvalidTask{};  // only after a static_assert fired: keeps the error list short
  }
}

template <class F, class Input, class Tuple, std::size_t... I>
auto map_with_options(Graph& g, F&& fn, Input&& input, const ChunkOptions& options, Tuple&& args,
                      std::index_sequence<I...> /*unused*/) {
  return map_task(g, std::forward<F>(fn), std::forward<Input>(input), options,
                  std::get<I>(std::forward<Tuple>(args))...);
}

}  // namespace detail

template <class F, class Input>
auto map(Graph& g, F&& fn, Input&& input, ChunkOptions options) {
  return detail::map_task(g, std::forward<F>(fn), std::forward<Input>(input), options);
}

template <class F, class Input, class... Args>
requires(sizeof...(Args) > 0 &&
         !(sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, ChunkOptions> &&
                                    ...))) auto map(Graph& g, F&& fn, Input&& input,
                                                    Args&&... args) {
  constexpr std::size_t n = sizeof...(Args);
  auto all = std::forward_as_tuple(std::forward<Args>(args)...);
  using Last = std::remove_cvref_t<std::tuple_element_t<n - 1, std::tuple<Args...>>>;
  if constexpr (std::is_same_v<Last, ChunkOptions>) {
    const ChunkOptions options = std::get<n - 1>(all);
    return detail::map_with_options(g, std::forward<F>(fn), std::forward<Input>(input), options,
                                    std::move(all), std::make_index_sequence<n - 1>{});
  } else {
    return detail::map_with_options(g, std::forward<F>(fn), std::forward<Input>(input),
                                    ChunkOptions{}, std::move(all), std::make_index_sequence<n>{});
  }
}

template <class Op, class U, class Input>
auto reduce(Graph& g, Op&& op, U init, Input&& input, ChunkOptions options) {
  using Check = detail::ReduceCheck<detail::callable_t<Op>, U, Input>;
  static_assert(Check::input_ok,
                "dagflow::reduce: the input must be a std::vector<T> or a Delayed<std::vector<T>> "
                "(or a type with a dagflow::ListAdapter)");
  static_assert(Check::starts_from_item,
                "dagflow::reduce: each block starts from its first item, so the result type U must "
                "be constructible from the items' type T (map the items first to change type)");
  static_assert(
      Check::invocable,
      "dagflow::reduce: op must be callable as op(U, const T&) and op(U, U), returning U");
  static_assert(Check::init_copyable,
                "dagflow::reduce: init is kept in the graph and used by every run, so U must be "
                "copy-constructible");
  if constexpr (Check::ok) {
    using Fn = detail::callable_t<Op>;
    detail::ReduceBody<Fn, U, detail::map_value_t<Input>> body{
        Fn(detail::callable_of(std::forward<Op>(op))), std::move(init), options.chunk_size};
    body.any_order = options.any_order;
    return detail::add_chunked_task(g, "reduce", op, std::move(body), std::forward<Input>(input),
                                    options);
  } else {
    return detail::InvalidTask{};  // only after a static_assert fired: keeps the error list short
  }
}

template <class F, class Combine, class U, class Input>
auto map_reduce(Graph& g, F&& fn, Combine&& combine, U init, Input&& input, ChunkOptions options) {
  using Check =
      detail::MapReduceCheck<detail::callable_t<F>, detail::callable_t<Combine>, U, Input>;
  static_assert(Check::input_ok,
                "dagflow::map_reduce: the input must be a std::vector<T> or a "
                "Delayed<std::vector<T>> (or a type with a dagflow::ListAdapter)");
  static_assert(Check::init_copyable,
                "dagflow::map_reduce: init is kept in the graph and used by every run, so U must "
                "be copy-constructible");
  static_assert(Check::invocable,
                "dagflow::map_reduce: the function cannot be called as fn(const T&) on the "
                "input's items");
  static_assert(Check::returns_value,
                "dagflow::map_reduce: the function returns void; it must return a value");
  static_assert(Check::starts_from_result,
                "dagflow::map_reduce: each block starts from its first item's result, so U must "
                "be constructible from fn's result type R");
  static_assert(Check::combines,
                "dagflow::map_reduce: combine must be callable as combine(U, R) and "
                "combine(U, U), returning U");
  if constexpr (Check::ok) {
    using Fn = detail::callable_t<F>;
    using C = detail::callable_t<Combine>;
    detail::ReduceBody<C, U, detail::map_value_t<Input>, Fn> body{
        C(detail::callable_of(std::forward<Combine>(combine))), std::move(init), options.chunk_size,
        Fn(detail::callable_of(std::forward<F>(fn)))};
    if constexpr (detail::is_op<Combine>) body.op_name.emplace(combine.name(), combine.version());
    body.salt = options.salt;
    body.any_order = options.any_order;
    return detail::add_chunked_task(g, "map_reduce", fn, std::move(body),
                                    std::forward<Input>(input), options);
  } else {
    return detail::InvalidTask{};  // only after a static_assert fired: keeps the error list short
  }
}

}  // namespace dagflow
