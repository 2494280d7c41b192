// map, map_reduce and reduce over a TextSource (read_lines, read_chunks): blocks streamed through
// a bounded window, per-block results keyed by the block's bytes. Not API; included by
// chunking_impl.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/engine/streaming.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/serialization.hpp>

namespace dagflow::detail {

/// What stream_blocks calls for each block of its range.
struct BlockCalls {
  void* context = nullptr;
  /// In parallel, on compute workers: the block's bytes (valid during the call). Must not throw
  /// an item's failure: keep it for done(), which knows the item's index.
  void (*work)(void* context, std::size_t block, std::string_view bytes) = nullptr;
  /// One block at a time, in block order, after its work(): what follows from it in order.
  void (*done)(void* context, std::size_t block) = nullptr;
};

/// Reads the blocks [first, last) of `source` in order on a thread of their own and hands them to
/// calls.work and then calls.done, with at most about twice as many blocks as workers read and
/// not yet done. Throws dagflow::Error when the file cannot be read or is no longer the one the
/// blocks were found in; rethrows what a call threw. Call from inside a task.
void stream_blocks(const TextSource& source, std::size_t first, std::size_t last,
                   const BlockCalls& calls);

/// The most blocks one stream has held at once (read, not yet done), over all streams since the
/// previous call: how tests and benchmarks check the bound.
[[nodiscard]] std::size_t take_stream_peak_blocks() noexcept;

/// The items of a block: the block itself (read_chunks), or its lines without their newlines (and
/// without a \r before one).
template <class F>
void for_each_item(const TextSource& source, std::string_view block, F&& f) {
  if (source.chunk_bytes != 0) {
    f(block);
    return;
  }
  while (!block.empty()) {
    const std::size_t nl = block.find('\n');
    std::string_view line = block.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
  }
}

/// How many items a block has (see for_each_item).
[[nodiscard]] std::size_t items_in_block(const TextSource& source, std::string_view block);

/// The key of a block's entry in the block cache: what computes it (`what`, the running op's
/// identity, `salt`), how the block is cut into items, and its bytes.
[[nodiscard]] Hash128 stream_block_key(std::string_view what, const BlockCache& cache,
                                       const Hash128& salt, const TextSource& source,
                                       std::string_view block);

/// The value stored under `key` in the block cache, when it is there and loads: a damaged entry
/// is a miss (the recomputed one replaces it).
template <class X>
std::optional<X> load_entry(const BlockCache& cache, const Hash128& key) {
  std::optional<std::string> bytes = cache.get(key, type_fingerprint<X>());
  if (!bytes) return std::nullopt;
  try {
    return from_bytes<X>(*bytes);
  } catch (const Error&) {
    return std::nullopt;
  }
}

/// A stored node of a BlockTree that does not load (checksum-valid bytes of another shape): the
/// stream is folded again without looking nodes up.
struct DamagedTreeEntry {};

/// A block's result as it waits for its turn in block order.
template <class X>
struct StreamSlot {
  std::optional<X> result{};
  std::string stored{};  // a hit's entry, not loaded yet (stream_each's lazy_hits)
  std::size_t items = 0;
  bool cached = false;
  Hash128 key{};
  std::exception_ptr error{};
  std::size_t failed_item = 0;  // in the block
};

// The blocks [first, last) this rank streams: all, or (across ranks) its share.
inline BlockShare stream_share(const TextSource& source, const RankSplit* split) {
  const std::size_t blocks = source.ends.size();
  return split == nullptr ? BlockShare{0, blocks}
                          : split_share(blocks, split->rank(), split->size());
}

/// A block's failure, thrown in block order: an ItemFailure for item `index` of the stream, or, a
/// DamagedTreeEntry, as it is.
[[noreturn]] inline void throw_block_error(const std::exception_ptr& error, std::size_t index) {
  try {
    std::rethrow_exception(error);
  } catch (const DamagedTreeEntry&) {
    throw;
  } catch (...) {
    throw ItemFailure(index, error);
  }
}

/// Fills `slot` from its entry in ctx.cache, if there is one (as bytes, with ctx.lazy_hits) and
/// it loads.
template <class X, class Context>
bool take_hit(const Context& ctx, StreamSlot<X>& slot) {
  if (ctx.cache == nullptr) return false;
  if (ctx.lazy_hits) {
    std::optional<std::string> stored = ctx.cache->get(slot.key, type_fingerprint<X>());
    if (!stored) return false;
    slot.stored = std::move(*stored);
  } else {
    slot.result = load_entry<X>(*ctx.cache, slot.key);
    if (!slot.result) return false;
  }
  slot.cached = true;
  return true;
}

/// Streams the blocks of `share`: work(bytes, slot) computes a block's result into slot.result
/// (unless the block cache has it), then, in parallel and in any order, ready(block, slot) may
/// take it, and done(slot) sees the slots in block order. Entries are stored per block as `X`
/// under stream_block_key(what, ...) (slot.key), when `salt` is set. With `lazy_hits`, a block
/// found in the cache comes as its entry's bytes (slot.stored), to load when needed.
template <class X, class Work, class Ready, class Done>
void stream_each(const TextSource& source, BlockShare share, std::string_view what,
                 const std::optional<Hash128>& salt, const Work& work, const Ready& ready,
                 const Done& done, bool lazy_hits = false) {
  const BlockCache* cache = salt ? current_block_cache() : nullptr;
  std::vector<StreamSlot<X>> slots(share.last - share.first);
  std::vector<Hash128> keys;
  std::size_t items_done = 0;
  std::size_t items_cached = 0;
  struct Context {
    const TextSource& source;
    BlockShare share;
    std::string_view what;
    const std::optional<Hash128>& salt;
    const BlockCache* cache;
    std::vector<StreamSlot<X>>& slots;
    const Work& work;
    const Ready& ready;
    const Done& done;
    std::vector<Hash128>& keys;
    std::size_t& items_done;
    std::size_t& items_cached;
    bool lazy_hits;
  } context{source, share, what, salt,       cache,        slots,    work,
            ready,  done,  keys, items_done, items_cached, lazy_hits};
  BlockCalls calls;
  calls.context = &context;
  calls.work = [](void* c, std::size_t block, std::string_view bytes) {
    auto& ctx = *static_cast<Context*>(c);
    StreamSlot<X>& slot = ctx.slots[block - ctx.share.first];
    slot.items = items_in_block(ctx.source, bytes);
    if (ctx.cache != nullptr)
      slot.key = stream_block_key(ctx.what, *ctx.cache, *ctx.salt, ctx.source, bytes);
    if (!take_hit(ctx, slot)) {
      try {
        ctx.work(bytes, slot);
      } catch (const ItemFailure& f) {
        slot.error = f.error;
        slot.failed_item = f.index;
        return;
      } catch (...) {
        slot.error = std::current_exception();
        return;
      }
      if (ctx.cache != nullptr)
        ctx.cache->put(slot.key, type_fingerprint<X>(), to_bytes(*slot.result));
    }
    try {
      ctx.ready(block, slot);
    } catch (...) {
      slot.error = std::current_exception();
    }
  };
  calls.done = [](void* c, std::size_t block) {
    auto& ctx = *static_cast<Context*>(c);
    StreamSlot<X>& slot = ctx.slots[block - ctx.share.first];
    if (slot.error) throw_block_error(slot.error, ctx.items_done + slot.failed_item);
    if (ctx.cache != nullptr) ctx.keys.push_back(slot.key);
    if (slot.cached) ctx.items_cached += slot.items;
    ctx.done(slot);
    ctx.items_done += slot.items;
    slot.result.reset();
    slot.stored = std::string();
  };
  stream_blocks(source, share.first, share.last, calls);
  count_map_items(items_done - items_cached, items_cached, keys);
}

/// map over a TextSource: every item's result, in file order; this rank's blocks, then (across
/// ranks) the others' from them.
template <class R, class Call>
std::vector<R> stream_map(const TextSource& source, std::size_t chunk_size, const Call& call,
                          const std::optional<Hash128>& salt) {
  constexpr bool kSendable = Serializable<std::vector<R>> && copyable_v<R>;
  const RankSplit* split = nullptr;
  if constexpr (kSendable) split = current_split();
  std::vector<R> out;
  const auto work = [&](std::string_view bytes, StreamSlot<std::vector<R>>& slot) {
    std::vector<std::string_view> items;
    items.reserve(slot.items);
    for_each_item(source, bytes, [&](std::string_view item) { items.push_back(item); });
    std::vector<R>& results = slot.result.emplace(items.size());
    for_each_chunk(items.size(), chunk_size, [&](std::size_t begin, std::size_t end) {
      std::size_t i = begin;
      try {
        for (; i < end; ++i) results[i] = call(items[i]);
      } catch (...) {
        throw_item_failure(i);
      }
    });
  };
  const auto done = [&](StreamSlot<std::vector<R>>& slot) {
    std::move(slot.result->begin(), slot.result->end(), std::back_inserter(out));
  };
  std::optional<Hash128> block_salt;
  if constexpr (kSendable) block_salt = salt;
  stream_each<std::vector<R>>(
      source, stream_share(source, split), "dagflow-stream-map-1", block_salt, work,
      [](std::size_t, StreamSlot<std::vector<R>>&) {}, done);
  if constexpr (kSendable) {
    if (split != nullptr) {
      std::vector<std::string> shares = split->exchange(to_bytes(out));
      std::vector<R> all;
      for (std::size_t r = 0; r < shares.size(); ++r) {
        if (r == split->rank()) {
          std::move(out.begin(), out.end(), std::back_inserter(all));
        } else {
          std::vector<R> part = from_bytes<std::vector<R>>(shares[r]);
          std::move(part.begin(), part.end(), std::back_inserter(all));
        }
      }
      return all;
    }
  }
  return out;
}

/// The partial results of a reduce whose op may combine them in any order
/// (ChunkOptions::any_order), merged into one running total as they come, always as
/// op(total, result): one thread at a time merges (outside the lock), and a thread that finds it
/// busy leaves its result for it and goes back to work, as a serial stage of a pipeline would.
/// The total stays the left operand, so an op that adds a small result into a large total (a map
/// of counts) never copies the total into the small one.
template <class U>
class RunningTotal {
 public:
  /// Merges `value` into the total. Thread-safe; a throwing op loses the total (the run fails).
  template <class Op>
  void add(U value, const Op& op) {
    std::unique_lock lock(mutex_);
    while (merging_ && left_.size() >= kMaxLeft) {
      // The merger is behind: rather than wait for it (or hold more partials), merge one of the
      // results left for it into this one, outside the lock.
      U other = std::move(left_.back());
      left_.pop_back();
      lock.unlock();
      value = combine(op, std::move(other), std::move(value));
      lock.lock();
    }
    if (merging_) {
      left_.push_back(std::move(value));
      return;
    }
    merging_ = true;
    std::optional<U> total = std::exchange(total_, std::nullopt);
    try {
      for (;;) {
        lock.unlock();
        total = total ? combine(op, std::move(*total), std::move(value)) : std::move(value);
        lock.lock();
        if (left_.empty()) break;
        value = std::move(left_.back());
        left_.pop_back();
      }
    } catch (...) {
      if (!lock.owns_lock()) lock.lock();
      merging_ = false;
      throw;
    }
    total_ = std::move(total);
    merging_ = false;
  }

  /// Once every add has returned: the total, none when no result came.
  std::optional<U> take() && { return std::move(total_); }

 private:
  // op(a, b), whose arguments (a result merged in, ~a map of counts to free) end with this call,
  // outside the lock, and not where the moved-from variables are next assigned, under it.
  template <class Op>
  static U combine(const Op& op, U a, U b) {
    return op(std::move(a), std::move(b));
  }

  // Results a busy merger may have waiting: each one is a partial result alive in memory.
  static constexpr std::size_t kMaxLeft = 2;

  std::mutex mutex_;
  std::optional<U> total_;
  std::vector<U> left_;   // results left for the merging thread
  bool merging_ = false;  // a thread is merging into the total (which it holds)
};

/// The partial results of a reduce over blocks, combined into the tree reduce uses (aligned pairs
/// of equal subtrees: (k, k+1), then (k..k+1, k+2..k+3), ...) as they come, in any order and from
/// any thread: the total has the bits of reduce over the block results however the blocks' work
/// was scheduled, and the merges run in parallel, each on the thread that brought its second
/// half.
///
/// With a block cache, each node has a key made of its blocks' keys, and every node of
/// kStoredLevel or more (8 blocks or more) is stored under it: after an append, the blocks before
/// it come from a few large entries, found without loading the blocks or the smaller nodes under
/// them, and only the merges along the tail are done again.
template <class U>
class BlockTree {
 public:
  static constexpr std::size_t kStoredLevel = 3;

  /// Blocks [first, first + 2^level): their value, or, not loaded yet, the bytes of their entry
  /// (a hit) or their two halves (below kStoredLevel, made of such).
  struct Node {
    std::size_t first = 0;
    std::size_t level = 0;
    std::optional<U> value{};
    std::string stored{};
    Hash128 key{};
    std::unique_ptr<std::pair<Node, Node>> halves{};
  };

  /// A loaded node as one rank sends it to the others.
  struct Part {
    std::size_t first = 0;
    std::size_t level = 0;
    U value{};
    template <class Archive>
    void serialize(Archive& ar) {
      ar(first, level, value);
    }
  };

  /// `cache`: where nodes are stored (null: none); `lookups`: whether they are looked up too.
  explicit BlockTree(const BlockCache* cache = nullptr, bool lookups = true)
      : cache_(cache), lookups_(lookups) {}

  /// Adds a node: while its sibling is there, merges the two (on this thread, outside the lock)
  /// and goes on with their parent. Thread-safe.
  template <class Op>
  void add(Node node, const Op& op) {
    for (;;) {
      std::optional<Node> sibling = take_sibling_or_keep(node);
      if (!sibling) return;
      node = sibling->first < node.first ? join(std::move(*sibling), std::move(node), op)
                                         : join(std::move(node), std::move(*sibling), op);
    }
  }

  /// Once every node is in: the right-to-left merge of the nodes left (the largest aligned
  /// subtrees of the blocks), reduce's tree for a count that is no power of two.
  template <class Op>
  std::optional<U> total(const Op& op) && {
    std::vector<Node> left = std::move(*this).in_order();
    if (left.empty()) return std::nullopt;
    U acc = load(std::move(left.back()), op);
    for (std::size_t k = left.size() - 1; k-- > 0;)
      acc = op(load(std::move(left[k]), op), std::move(acc));
    return acc;
  }

  /// Once every node is in: the nodes left, loaded, what a rank sends to the others.
  template <class Op>
  std::vector<Part> parts(const Op& op) && {
    std::vector<Part> out;
    for (Node& n : std::move(*this).in_order())
      out.push_back(Part{n.first, n.level, load(std::move(n), op)});
    return out;
  }

 private:
  // The node's sibling, taken out, when it is waiting; else the node waits (as one step, so
  // that of two siblings exactly one finds the other).
  std::optional<Node> take_sibling_or_keep(Node& node) {
    const std::size_t span = std::size_t{1} << node.level;
    const std::size_t sibling =
        node.first % (2 * span) == 0 ? node.first + span : node.first - span;
    const std::lock_guard lock(mutex_);
    for (std::size_t k = 0; k < waiting_.size(); ++k) {
      if (waiting_[k].first == sibling && waiting_[k].level == node.level) {
        std::optional<Node> found(std::move(waiting_[k]));
        waiting_[k] = std::move(waiting_.back());
        waiting_.pop_back();
        return found;
      }
    }
    waiting_.push_back(std::move(node));
    return std::nullopt;
  }

  // The nodes left, by their first block.
  std::vector<Node> in_order() && {
    std::sort(waiting_.begin(), waiting_.end(),
              [](const Node& a, const Node& b) { return a.first < b.first; });
    return std::move(waiting_);
  }

  // The node over `left` and `right`: found in the cache, kept as its halves (neither is loaded
  // and no entry covers it), or merged (and stored).
  template <class Op>
  Node join(Node left, Node right, const Op& op) const {
    Node parent{.first = left.first, .level = left.level + 1};
    if constexpr (Serializable<U>) {
      if (cache_ != nullptr) {
        Hasher h;
        h.add(std::string_view("dagflow-stream-tree-1")).add(std::uint64_t{parent.level});
        h.add(left.key.low).add(left.key.high).add(right.key.low).add(right.key.high);
        parent.key = h.digest();
        if (!left.value && !right.value && parent.level < kStoredLevel) {
          parent.halves =
              std::make_unique<std::pair<Node, Node>>(std::move(left), std::move(right));
          return parent;
        }
        std::optional<std::string> bytes;
        if (!left.value && !right.value && lookups_)
          bytes = cache_->get(parent.key, type_fingerprint<U>());
        if (bytes) {
          parent.stored = std::move(*bytes);
          return parent;
        }
      }
    }
    parent.value.emplace(op(load(std::move(left), op), load(std::move(right), op)));
    if constexpr (Serializable<U>) {
      if (cache_ != nullptr && parent.level >= kStoredLevel)
        cache_->put(parent.key, type_fingerprint<U>(), to_bytes(*parent.value));
    }
    return parent;
  }

  // A node's value: its own, merged from its halves, or loaded from its entry (a
  // DamagedTreeEntry when that does not load).
  template <class Op>
  static U load(Node node, const Op& op) {
    if (node.value) return std::move(*node.value);
    if (node.halves) {
      return op(load(std::move(node.halves->first), op), load(std::move(node.halves->second), op));
    }
    if constexpr (Serializable<U>) {
      try {
        return from_bytes<U>(node.stored);
      } catch (const Error&) {
      }
    }
    throw DamagedTreeEntry{};
  }

  const BlockCache* cache_;
  bool lookups_;
  std::mutex mutex_;
  std::vector<Node> waiting_{};  // nodes whose sibling has not come yet
};

// One pass of stream_fold: with `lookups`, blocks and nodes of the tree found in the cache are
// loaded only if needed (see BlockTree); without, every hit is loaded as it is found.
template <class U, class Start, class Fold, class Op>
std::optional<U> stream_fold_pass(const TextSource& source, const Start& start, const Fold& fold,
                                  const Op& op, const std::optional<Hash128>& salt, bool any_order,
                                  bool lookups) {
  constexpr bool kSendable =
      Serializable<std::vector<U>> && copyable_v<U> && std::is_default_constructible_v<U>;
  const RankSplit* split = nullptr;
  if constexpr (kSendable) split = current_split();
  const BlockShare share = stream_share(source, split);
  std::optional<Hash128> block_salt;
  if constexpr (Serializable<U>) block_salt = salt;
  const BlockCache* cache = block_salt ? current_block_cache() : nullptr;
  BlockTree<U> tree(cache, lookups);
  // Where the tree keeps no entries and no rank waits for it, an op that may combine in any
  // order merges every block into one running total instead: fewer merges of large partials.
  RunningTotal<U> running;
  const bool use_running = any_order && cache == nullptr && split == nullptr;
  const auto work = [&](std::string_view bytes, StreamSlot<U>& slot) {
    std::size_t i = 0;
    std::optional<U> acc;
    try {
      for_each_item(source, bytes, [&](std::string_view item) {
        if (acc) {
          acc.emplace(fold(std::move(*acc), item));
        } else {
          acc.emplace(start(item));
        }
        ++i;
      });
    } catch (...) {
      throw_item_failure(i);
    }
    slot.result.emplace(std::move(*acc));
  };
  const auto ready = [&](std::size_t block, StreamSlot<U>& slot) {
    if (use_running) {
      running.add(std::move(*slot.result), op);
      slot.result.reset();
      return;
    }
    typename BlockTree<U>::Node leaf{.first = block, .key = slot.key};
    if (slot.result) {
      leaf.value = std::move(slot.result);
      slot.result.reset();
    } else {
      leaf.stored = std::move(slot.stored);
    }
    tree.add(std::move(leaf), op);
  };
  stream_each<U>(
      source, share, "dagflow-stream-fold-1", block_salt, work, ready, [](StreamSlot<U>&) {},
      lookups);
  if constexpr (kSendable) {
    if (split != nullptr) {
      using Part = typename BlockTree<U>::Part;
      std::vector<std::string> shares = split->exchange(to_bytes(std::move(tree).parts(op)));
      BlockTree<U> all;
      for (std::size_t r = 0; r < shares.size(); ++r) {
        for (Part& p : from_bytes<std::vector<Part>>(shares[r]))
          all.add({.first = p.first, .level = p.level, .value = std::move(p.value)}, op);
      }
      return std::move(all).total(op);
    }
  }
  if (use_running) return std::move(running).take();
  return std::move(tree).total(op);
}

/// reduce (fold = the item as is) or map_reduce over a TextSource: each block folded left to
/// right, block results combined in reduce's tree. `fold(acc, item)`/`start(item)` fold a block;
/// `op` merges block results. Across ranks, each sends what it could not merge alone. With `salt`
/// (and a block cache), blocks and the tree's larger nodes have entries. `any_order`: op may
/// merge block results in any order (ChunkOptions::any_order).
template <class U, class Start, class Fold, class Op>
std::optional<U> stream_fold(const TextSource& source, const Start& start, const Fold& fold,
                             const Op& op, const std::optional<Hash128>& salt, bool any_order) {
  try {
    return stream_fold_pass<U>(source, start, fold, op, salt, any_order, true);
  } catch (const DamagedTreeEntry&) {  // every hit is then loaded as found: a bad one is a miss
    return stream_fold_pass<U>(source, start, fold, op, salt, any_order, false);
  }
}

}  // namespace dagflow::detail
