// Where map, reduce and map_reduce read their items: in place from their input's list
// (ListItems), or, when the map before them is fused into them (ExecutorOptions::fuse_maps),
// from that map computing them a batch at a time (SourcedItems over a FusedItems), so that its
// result vector is never made, or from the maps' functions composed inline (ComposedItems). Not
// API.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/engine/streaming.hpp>
#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/hashing.hpp>

namespace dagflow::detail {

/// The items of a map fused into the task that reads them: computed on demand, never stored
/// whole. Made by the map's FusionVTable::open for one run of its reader.
template <class T>
class FusedItems : public FusedSource {
 public:
  /// The file the items come from when it is streamed (read_lines, read_chunks); null when they
  /// come from a list in memory, by index.
  [[nodiscard]] virtual const TextSource* stream() const noexcept = 0;
  /// From memory: how many items.
  [[nodiscard]] virtual std::size_t size() const = 0;
  /// From memory: items [begin, begin + count) into out[0 .. count). A failure throws an
  /// ItemFailure naming its item.
  virtual void fill(std::size_t begin, std::size_t count, T* out) const = 0;
  /// Streamed: the item made from one item of the file.
  [[nodiscard]] virtual T apply(std::string_view item) const = 0;
  /// Adds what decides the items besides the source's own items: each fused map's op, state and
  /// further arguments. False when some of it cannot be hashed (the reader keeps no per-block
  /// entries then).
  [[nodiscard]] virtual bool hash_maps(Hasher& h) const = 0;
  /// From memory: adds the source items [begin, end); false when they cannot be hashed.
  [[nodiscard]] virtual bool hash_source(std::size_t begin, std::size_t end, Hasher& h) const = 0;
};

/// The salt of the per-block entries of a task whose items the maps fused before it make: the
/// task's own `salt` joined by those maps' ops, states and arguments; none when some of them
/// cannot be hashed.
template <class T>
std::optional<Hash128> fused_maps_salt(const FusedItems<T>& items, const Hash128& salt) {
  Hasher h;
  h.add(std::string_view("dagflow-fused-maps-1")).add(salt.low).add(salt.high);
  if (!items.hash_maps(h)) return std::nullopt;
  return h.digest();
}

/// Items read in place from a list.
template <class T>
struct ListItems {
  const std::vector<T>& list;

  [[nodiscard]] std::size_t size() const noexcept { return list.size(); }

  /// Calls f(i, item) for the items [begin, end), in order; an exception becomes an
  /// ItemFailure for its item.
  template <class F>
  void each(std::size_t begin, std::size_t end, F&& f) const {
    std::size_t i = begin;
    try {
      for (; i < end; ++i) f(i, list[i]);
    } catch (...) {
      throw_item_failure(i);
    }
  }

  /// The salt of per-block entries (keyed by the items themselves), or none when the items
  /// cannot be hashed.
  [[nodiscard]] std::optional<Hash128> block_salt(const Hash128& salt) const {
    if constexpr (Hashable<T>) {
      return salt;
    } else {
      return std::nullopt;
    }
  }
  /// Adds the items [begin, end) to a block key (only called when block_salt gave one).
  void hash_items(std::size_t begin, std::size_t end, Hasher& h) const {
    if constexpr (Hashable<T>) {
      for (std::size_t i = begin; i < end; ++i) h.add(list[i]);
    }
  }
};

/// Items computed by the map fused before, a batch of them at a time: 32 plain values on the
/// stack, or about 16 KiB of other values on the heap. A small batch matters: a fold is one chain
/// of dependent operations, and the core overlaps it with computing the next batch only when
/// both fit in its out-of-order window (10^8 doubles through map -> map -> reduce: 1.03x the hand-
/// written loop's time with batches of 32, 1.6x with 64, 1.7x with 2048).
template <class T>
struct SourcedItems {
  const FusedItems<T>& source;

  static constexpr bool kOnStack =
      std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T>;
  static constexpr std::size_t kBatch =
      kOnStack ? 32 : std::max<std::size_t>(16, 16384 / sizeof(T));

  [[nodiscard]] std::size_t size() const { return source.size(); }

  template <class F>
  void each(std::size_t begin, std::size_t end, F&& f) const {
    if constexpr (kOnStack) {
      T batch[kBatch];  // NOLINT: uninitialised on purpose, fill() writes what is read
      over_batches(begin, end, f, batch, kBatch);
    } else {
      std::vector<T> batch(std::min(kBatch, end - begin));
      over_batches(begin, end, f, batch.data(), batch.size());
    }
  }

  template <class F>
  void over_batches(std::size_t begin, std::size_t end, F& f, T* batch, std::size_t room) const {
    for (std::size_t from = begin; from < end; from += room) {
      const std::size_t count = std::min(room, end - from);
      source.fill(from, count, batch);
      std::size_t i = from;
      try {
        for (; i < from + count; ++i) f(i, batch[i - from]);
      } catch (...) {
        throw_item_failure(i);
      }
    }
  }

  // Block keys: the fused maps' identities join the salt, and the source's items stand for the
  // items (hashing those would compute them first).
  [[nodiscard]] std::optional<Hash128> block_salt(const Hash128& salt) const {
    if (Hasher unused; !source.hash_source(0, 0, unused)) return std::nullopt;
    return fused_maps_salt(source, salt);
  }
  void hash_items(std::size_t begin, std::size_t end, Hasher& h) const {
    (void)source.hash_source(begin, end, h);
  }
};

/// Items made by fused maps whose functions the reader knows at compile time (ChainMatch): each
/// is `call(list[i])`, the maps composed into one inlined function of the first map's input
/// items, with no batch in between. Block keys are SourcedItems' over the same maps, so the two
/// ways of reading a chain share their per-block entries.
template <class T, class S, class Call>
struct ComposedItems {
  const FusedItems<T>& source;
  const std::vector<S>& list;
  Call call;

  [[nodiscard]] std::size_t size() const noexcept { return list.size(); }

  template <class F>
  void each(std::size_t begin, std::size_t end, F&& f) const {
    ListItems<S>{list}.each(begin, end, [&](std::size_t i, const S& x) { f(i, call(x)); });
  }

  [[nodiscard]] std::optional<Hash128> block_salt(const Hash128& salt) const {
    return SourcedItems<T>{source}.block_salt(salt);
  }
  void hash_items(std::size_t begin, std::size_t end, Hasher& h) const {
    SourcedItems<T>{source}.hash_items(begin, end, h);
  }
};

}  // namespace dagflow::detail
