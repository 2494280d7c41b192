// DiskStore: the crash-safe on-disk entry store behind the persistent cache. Opaque byte payloads
// are kept under 128-bit keys, one file per entry, each with a checksummed header; an entry is
// written to a temp file and renamed into place, so a reader sees a whole entry or none, even
// after a crash or a kill -9. Linux only (POSIX file calls).
//
// Thread-safety: every member function may be called from several threads at once, and several
// processes may share one root. Warnings may reach the Warn callback from several threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include <dagflow/graph/hashing.hpp>

namespace dagflow::detail {

/// Counters of one DiskStore since it was opened. Every get() is a hit or a miss; a damaged entry
/// is a miss that is also counted in `damaged`.
struct DiskStoreStats {
  std::size_t hits = 0;             ///< get() calls that returned a payload.
  std::size_t misses = 0;           ///< get() calls that returned nullopt (damaged ones included).
  std::size_t damaged = 0;          ///< Invalid entries found by get() (each detection counts).
  std::size_t writes = 0;           ///< put() calls that stored their entry.
  std::size_t write_failures = 0;   ///< put() calls that returned false.
  std::uint64_t bytes_read = 0;     ///< Entry-file bytes (header and payload) returned by hits.
  std::uint64_t bytes_written = 0;  ///< Entry-file bytes (header and payload) stored by writes.
};

/// What the cache directory holds.
struct DiskUsage {
  std::size_t entries = 0;  ///< entry files
  std::uint64_t bytes = 0;  ///< their sizes, headers included
};

/// A directory of entries: `<root>/<2 hex>/<32 hex>.entry`, where the hex is Hash128::to_hex() of
/// the key. Each entry is a 64-byte little-endian header (magic "DAGFLOW\x01", format version 2,
/// header size, type fingerprint, payload length, XXH3-64 of the payload, the key, XXH3-64 of the
/// header bytes before it) followed by the payload. An entry whose header names another key (its
/// bytes were copied or moved over this key's file) is damaged: a miss, removed and warned about.
/// Writers use `.tmp-<32 hex>-<pid>-<counter>` in the entry's directory; those left by dead
/// processes are removed when a store is opened. Pids are judged in the opener's PID namespace:
/// should stores in other namespaces share the root, one of their temp files may be removed in
/// flight, and that put then fails cleanly (rename finds no file), so entries stay whole.
///
///   dagflow::detail::DiskStore store("/home/me/.cache/dagflow", nullptr);  // warns on stderr
///   store.put(key, kTypeFingerprint, bytes);
///   if (auto hit = store.get(key, kTypeFingerprint)) use(*hit);
class DiskStore {
 public:
  /// Receives each warning (one line, no trailing newline). It must be thread-safe and must not
  /// throw. An empty Warn writes "dagflow: warning: <message>" to stderr.
  using Warn = std::function<void(const std::string&)>;

  /// What a read of one entry found. kOtherFormat: an intact entry of another format version
  /// (another dagflow release wrote it), a quiet miss that removes it.
  enum class Outcome { kHit, kAbsent, kDamaged, kOtherType, kOtherFormat };

  /// How the constructor treats a missing root.
  enum OpenMode { kCreate, kOpenOnly };

  /// How put() makes an entry last (ExecutorOptions::durable_cache).
  enum class Durability {
    kKillSafe,  ///< no fsync: safe against a killed process (see put())
    kDurable,   ///< fsync the entry before its rename and its directory after
  };

  /// Opens the cache root, creating it (mode 0700, missing parents included) when absent (with
  /// kOpenOnly, a missing root is refused like an unusable one), then
  /// removes the temp files left by processes that are no longer alive (a readdir of every entry
  /// directory: O(entries)). Throws std::invalid_argument, naming the path and the reason, when
  /// the root is a symlink, is not a directory, is world-writable, is owned by another user than
  /// the effective uid, or cannot be created or opened. The store keeps the root open, so renaming
  /// the root later does not redirect it. `durability` applies to every put().
  DiskStore(std::filesystem::path root, Warn warn, OpenMode mode = kCreate,
            Durability durability = Durability::kKillSafe);
  DiskStore(const DiskStore&) = delete;
  DiskStore& operator=(const DiskStore&) = delete;
  ~DiskStore();

  /// The payload stored under `key` with `type_fingerprint`, or nullopt (a miss). Never throws
  /// for the state of the disk (only std::bad_alloc can escape). An entry that is damaged,
  /// truncated, empty, of another format version, unreadable, a symlink or not a regular file is
  /// a miss counted in `damaged`: it is removed (unless a writer replaced it meanwhile) and
  /// warned about once per key and store (a file or symlink in place of its directory is removed
  /// too). An entry whose intact header names another type fingerprint is a miss as well, warned
  /// about once per key, but it is not counted as damaged and is kept: it is valid for its own
  /// type, and put() replaces it. Reads and checksums the whole file: O(payload).
  [[nodiscard]] std::optional<std::string> get(const Hash128& key, std::uint64_t type_fingerprint);

  /// Stores `payload` under `key` atomically: a unique temp file in the entry's directory
  /// (O_CREAT|O_EXCL, mode 0600), header and payload written, then renamed over the entry.
  /// Returns true when stored. On any failure (no space, file size limit, permissions, read-only
  /// file system, a failed fsync...) warns (the first 8 failures of a store; the rest are only
  /// counted) and returns false, removing the temp file, so no partial file is left. Concurrent
  /// puts of one key, from threads or processes, all succeed and leave one valid entry (the last
  /// rename wins). Never throws for the state of the disk.
  ///
  /// With Durability::kKillSafe (the default) there is no fsync: a killed process cannot leave a
  /// partial entry (the rename happens after the last write, and the page cache survives the
  /// process), and what an OS crash or power loss can leave (a renamed file with missing data)
  /// fails the header or payload checksum, so it is a miss and is recomputed. kDurable syncs the
  /// file before the rename and the directory after it: two disk flushes per entry (bench/cache
  /// measures them), paid by the thread that writes the entry (an I/O thread, or a compute
  /// worker when the I/O threads are far behind).
  bool put(const Hash128& key, std::uint64_t type_fingerprint, std::string_view payload);

  /// True when an entry file for `key` exists with an intact header that names `key` (no
  /// payload check, no warning, nothing removed). O(1).
  [[nodiscard]] bool contains(const Hash128& key) const;
  /// Removes the entry of `key`; true when there was one to remove.
  bool erase(const Hash128& key);

  /// A snapshot of the counters (each read atomically, not all at one instant).
  [[nodiscard]] DiskStoreStats stats() const noexcept;

  /// The root given to the constructor, lexically normalised and without a trailing slash.
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

  /// Entries and their bytes on disk (a scan of the directory).
  [[nodiscard]] DiskUsage usage() const;
  /// Removes least recently used entries (by last hit or write) until at most `max_bytes` remain;
  /// prune(0) clears the cache. Entries being read meanwhile are not disturbed (an open file
  /// survives its removal); temp files of running writers are left alone. Returns what remains.
  DiskUsage prune(std::uint64_t max_bytes);

  /// Where the entry of `key` lives: `<root>/<2 hex>/<32 hex>.entry`.
  [[nodiscard]] std::filesystem::path entry_path(const Hash128& key) const;

 private:
  // `<2 hex>/<32 hex>.entry`, relative to the root.
  static std::string relative_entry_path(const Hash128& key);
  Outcome read_entry(const Hash128& key, std::uint64_t type_fingerprint, std::string& payload,
                     std::string& problem);
  void warn_once(const Hash128& key, const std::string& message);
  void warn(const std::string& message) const;
  bool fail_put(const std::string& message);

  std::filesystem::path root_;
  Warn warn_;
  Durability durability_;
  int root_fd_ = -1;  // the checked root directory, opened O_DIRECTORY|O_NOFOLLOW

  std::atomic<std::size_t> hits_{0};
  std::atomic<std::size_t> misses_{0};
  std::atomic<std::size_t> damaged_{0};
  std::atomic<std::size_t> writes_{0};
  std::atomic<std::size_t> write_failures_{0};
  std::atomic<std::uint64_t> bytes_read_{0};
  std::atomic<std::uint64_t> bytes_written_{0};

  struct KeyHash {
    std::size_t operator()(const Hash128& k) const noexcept {
      return static_cast<std::size_t>(k.low ^ (k.high * 0x9e3779b97f4a7c15ULL));
    }
  };
  std::mutex warned_mutex_;                      // guards warned_; taken only to warn
  std::unordered_set<Hash128, KeyHash> warned_;  // keys already warned about
  bool warned_overflow_ = false;                 // the "too many keys" warning was given
};

}  // namespace dagflow::detail
