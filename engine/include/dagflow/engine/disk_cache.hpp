// DiskCache: the persistent cache of an ExecutorOptions::cache_dir, opened to look at it and keep
// it tidy without running anything (what `dagflow cache` does).
//
//   if (auto cache = dagflow::DiskCache::open(".dagflow/cache")) {
//     std::printf("%zu entries\n", cache->stats().entries);
//     cache->prune(std::uint64_t{1} << 30);          // keep at most 1 GiB
//     cache->erase(std::array{*dagflow::task_keys(g)[t.id()]});  // forget one task's result
//   }
//
// Thread-safety: every member may be called from several threads at once, and beside Executors
// (in this or other processes) that use the same directory: they then recompute what was removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/serialization.hpp>

namespace dagflow {

/// What a cache holds (DiskCache::stats and prune, Executor::memory_cache_stats).
struct CacheStats {
  std::size_t entries = 0;  ///< results (memory) or entry files (disk)
  std::size_t bytes = 0;    ///< their ValueSize (memory) or file sizes, headers included (disk)
};

class DiskCache;
namespace detail {
class DiskStore;
/// The Executor's way in: a DiskCache over a store it opened, and the store of a DiskCache.
/// Not API.
[[nodiscard]] DiskCache adopt_store(std::unique_ptr<DiskStore> store);
[[nodiscard]] DiskStore& store_of(DiskCache& cache) noexcept;
}  // namespace detail

/// A disk cache directory: one file per result, named by the task's content key (task_keys).
class DiskCache {
 public:
  /// The cache in `dir` (relative paths resolve against the working directory), or empty when
  /// there is nothing at `dir`: never creates it. A directory without entries opens as an empty
  /// cache. Throws std::invalid_argument, naming the path and the reason, for a directory the
  /// Executor would refuse (a symlink, not a directory, world-writable, owned by another user).
  [[nodiscard]] static std::optional<DiskCache> open(const std::filesystem::path& dir);

  /// Entries and their bytes (a scan of the directory).
  [[nodiscard]] CacheStats stats() const;
  /// The entries of `keys` that are present, and their bytes (each key counted once it is
  /// given; a stat per key).
  [[nodiscard]] CacheStats stats(std::span<const Hash128> keys) const;
  /// Removes the least recently used entries (by last hit or write) until at most `max_bytes`
  /// remain, and returns what remains.
  CacheStats prune(std::uint64_t max_bytes);
  /// Removes every entry.
  void clear();
  /// True when an entry for `key` is there and its header is intact and names `key` (its payload
  /// is verified only when a run reads it).
  [[nodiscard]] bool contains(const Hash128& key) const;
  /// Removes the entries of `keys` (as task_keys gives them); returns how many it removed.
  std::size_t erase(std::span<const Hash128> keys);

  /// The value of type T stored under `key` (by a run, or by store()), or nullopt when there is
  /// none, it is damaged (then removed, with a warning) or it holds another type. O(entry).
  template <Serializable T>
  [[nodiscard]] std::optional<T> load(const Hash128& key);
  /// Stores `value` under `key` atomically, as a run stores a task's result; false (with a
  /// warning) when it could not be written. For results a front end keeps beside the tasks'
  /// (a pipeline keeps the bytes of the files its writers wrote).
  template <Serializable T>
  bool store(const Hash128& key, const T& value);

  /// The directory, as given to open (lexically normalised).
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

  DiskCache(DiskCache&&) noexcept;
  DiskCache& operator=(DiskCache&&) noexcept;
  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;
  ~DiskCache();

 private:
  friend DiskCache detail::adopt_store(std::unique_ptr<detail::DiskStore> store);
  friend detail::DiskStore& detail::store_of(DiskCache& cache) noexcept;
  explicit DiskCache(std::unique_ptr<detail::DiskStore> store);
  [[nodiscard]] std::optional<std::string> load_bytes(const Hash128& key,
                                                      std::uint64_t fingerprint);
  bool store_bytes(const Hash128& key, std::uint64_t fingerprint, std::string_view bytes);
  std::unique_ptr<detail::DiskStore> store_;
};

// ---- implementation -----------------------------------------------------------------------------

template <Serializable T>
std::optional<T> DiskCache::load(const Hash128& key) {
  std::optional<std::string> bytes = load_bytes(key, type_fingerprint<T>());
  if (!bytes) return std::nullopt;
  try {
    return from_bytes<T>(*bytes);
  } catch (const Error&) {
    return std::nullopt;  // bytes that do not load are a miss, as in a run
  }
}

template <Serializable T>
bool DiskCache::store(const Hash128& key, const T& value) {
  return store_bytes(key, type_fingerprint<T>(), to_bytes(value));
}

}  // namespace dagflow
