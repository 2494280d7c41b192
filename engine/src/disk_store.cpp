#include "disk_store.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/types.h>
#include <system_error>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <dagflow/util/atomic_write.hpp>
#include <dagflow/util/posix_io.hpp>
#include <dagflow/util/unique_fd.hpp>

namespace dagflow::detail {

namespace {

using util::errno_text;
using util::UniqueFd;

// Header layout (all little-endian):
//   0  magic "DAGFLOW\x01"        8 bytes
//   8  format version             u32
//  12  header size (64)           u32
//  16  type fingerprint           u64
//  24  payload length             u64
//  32  XXH3-64 of the payload     u64
//  40  the entry's key: low       u64
//  48  the entry's key: high      u64
//  56  XXH3-64 of bytes 0..55     u64
// The key is stored so that an entry answers only for its own key: bytes copied or renamed over
// another key's file are found out, not trusted.
constexpr std::array<unsigned char, 8> kMagic = {'D', 'A', 'G', 'F', 'L', 'O', 'W', 0x01};
// 3: a Value may hold a typed array (its serialised tags 8 and 9).
constexpr std::uint32_t kFormatVersion = 3;
constexpr std::size_t kHeaderSize = 64;
constexpr std::size_t kVersionOffset = 8;
constexpr std::size_t kHeaderSizeOffset = 12;
constexpr std::size_t kTypeOffset = 16;
constexpr std::size_t kLengthOffset = 24;
constexpr std::size_t kPayloadSumOffset = 32;
constexpr std::size_t kKeyLowOffset = 40;
constexpr std::size_t kKeyHighOffset = 48;
constexpr std::size_t kHeaderSumOffset = 56;
using HeaderBytes = std::array<unsigned char, kHeaderSize>;

// Past this many keys warned about, one last warning says that the rest are silenced, so that a
// wrecked cache directory cannot grow the set (or the log) without bound.
constexpr std::size_t kMaxWarnedKeys = 4096;
// Entries that could not be stored are warned about this many times per store, the last time
// saying that the rest are only counted: a full disk or a read-only root fails every write of a
// run, which would otherwise print a line per task.
constexpr std::size_t kMaxWriteWarnings = 8;
// Temp files are named `.tmp-<key hex>-<pid>-<counter>` (see temp_owner).
constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::string_view kEntrySuffix = ".entry";

void store_u32(unsigned char* p, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void store_u64(unsigned char* p, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint32_t load_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
std::uint64_t load_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

HeaderBytes encode_header(const Hash128& key, std::uint64_t type_fingerprint,
                          std::string_view payload) {
  HeaderBytes h{};
  std::memcpy(h.data(), kMagic.data(), kMagic.size());
  store_u32(h.data() + kVersionOffset, kFormatVersion);
  store_u32(h.data() + kHeaderSizeOffset, static_cast<std::uint32_t>(kHeaderSize));
  store_u64(h.data() + kTypeOffset, type_fingerprint);
  store_u64(h.data() + kLengthOffset, payload.size());
  store_u64(h.data() + kPayloadSumOffset, hash64_bytes(payload.data(), payload.size()));
  store_u64(h.data() + kKeyLowOffset, key.low);
  store_u64(h.data() + kKeyHighOffset, key.high);
  store_u64(h.data() + kHeaderSumOffset, hash64_bytes(h.data(), kHeaderSumOffset));
  return h;
}

// An intact entry header of another format version (written by another dagflow release): its
// payload cannot be read here, but nothing is wrong with it.
bool of_other_format(const HeaderBytes& h) {
  return std::memcmp(h.data(), kMagic.data(), kMagic.size()) == 0 &&
         load_u32(h.data() + kVersionOffset) != kFormatVersion &&
         load_u64(h.data() + kHeaderSumOffset) == hash64_bytes(h.data(), kHeaderSumOffset);
}

// What is wrong with an entry header read from the file of `key`, or nothing.
std::optional<std::string> header_problem(const HeaderBytes& h, const Hash128& key) {
  if (std::memcmp(h.data(), kMagic.data(), kMagic.size()) != 0) {
    return "it does not start with the entry magic number";
  }
  const std::uint32_t version = load_u32(h.data() + kVersionOffset);
  if (version != kFormatVersion) {
    return fmt::format("its format version is {}, this build reads {}", version, kFormatVersion);
  }
  const std::uint32_t header_size = load_u32(h.data() + kHeaderSizeOffset);
  if (header_size != kHeaderSize) {
    return fmt::format("its header size is {}, expected {}", header_size, kHeaderSize);
  }
  if (load_u64(h.data() + kHeaderSumOffset) != hash64_bytes(h.data(), kHeaderSumOffset)) {
    return "its header checksum does not match";
  }
  const Hash128 stored_key{load_u64(h.data() + kKeyLowOffset), load_u64(h.data() + kKeyHighOffset)};
  if (stored_key != key) {
    return fmt::format("it holds the entry of key {}, not of its own", stored_key.to_hex());
  }
  return std::nullopt;
}

// Reads up to `size` bytes at `offset`; returns how many (fewer only at end of file), or -1 with
// errno set.
ssize_t read_at(int fd, void* buf, std::size_t size, off_t offset) {
  auto* out = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

bool is_hex(std::string_view s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The writer's pid in a temp name `.tmp-<32 hex>-<pid>-<counter>`, or 0 when `name` is not one.
pid_t temp_owner(std::string_view name) {
  if (!name.starts_with(kTempPrefix)) return 0;
  name.remove_prefix(kTempPrefix.size());
  if (name.size() < 33 || !is_hex(name.substr(0, 32)) || name[32] != '-') return 0;
  return util::temp_file_writer(name.substr(33), "");
}

// Removes `.tmp-*` files whose writer is not alive from the entry directories under `root_fd`.
// A writer that is alive (kill() succeeds or fails with EPERM) keeps its temp file.
void remove_stale_temps(int root_fd) {
  const pid_t self = ::getpid();
  for (const std::string& shard : util::names_in_dir(root_fd)) {
    if (shard.size() != 2 || !is_hex(shard)) continue;
    const UniqueFd dir(
        ::openat(root_fd, shard.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) continue;
    for (const std::string& name : util::names_in_dir(dir.get())) {
      const pid_t owner = temp_owner(name);
      if (owner == 0 || owner == self) continue;
      if (util::writer_has_died(owner)) ::unlinkat(dir.get(), name.c_str(), 0);
    }
  }
}

[[noreturn]] void refuse(const std::filesystem::path& root, std::string_view reason) {
  throw std::invalid_argument(fmt::format("cache root '{}' {}", root.string(), reason));
}

// Creates `root` and its missing parents with mode 0700 (the root itself exactly 0700).
void create_root(const std::filesystem::path& root) {
  struct stat st {};
  if (::lstat(root.c_str(), &st) == 0) return;  // exists: checked when opened
  if (const int err = errno; err != ENOENT) {
    refuse(root, fmt::format("cannot be used: {}", errno_text(err)));
  }
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = root; !p.empty(); p = p.parent_path()) {
    if (::lstat(p.c_str(), &st) == 0) break;
    if (const int err = errno; err != ENOENT) {
      refuse(root, fmt::format("cannot be created: {}", errno_text(err)));
    }
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  bool created = false;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    created = ::mkdir(it->c_str(), 0700) == 0;
    if (const int err = errno; !created && err != EEXIST) {
      refuse(root, fmt::format("cannot be created: mkdir '{}' failed: {}", it->string(),
                               errno_text(err)));
    }
  }
  // mkdir's mode is narrowed by the umask; make the new root exactly 0700.
  if (created && ::chmod(root.c_str(), 0700) != 0) {
    refuse(root, fmt::format("cannot be made private (chmod 0700): {}", errno_text(errno)));
  }
}

// Opens the root without following a final symlink and checks who may write it.
int open_root(const std::filesystem::path& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    struct stat st {};
    if (::lstat(root.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) refuse(root, "is a symlink; give the directory it points to");
      if (!S_ISDIR(st.st_mode)) refuse(root, "is not a directory");
    }
    refuse(root, fmt::format("cannot be opened: {}", errno_text(err)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    refuse(root, fmt::format("cannot be stat'ed: {}", errno_text(errno)));
  }
  const uid_t me = ::geteuid();
  if (st.st_uid != me) {
    refuse(root, fmt::format("is owned by another user (uid {}, not uid {})", st.st_uid, me));
  }
  if ((st.st_mode & S_IWOTH) != 0) {
    refuse(root, fmt::format("is world-writable (mode {:04o}); use a directory only you can write",
                             st.st_mode & 07777));
  }
  return fd.release();
}

std::filesystem::path normalised(std::filesystem::path root) {
  root = root.lexically_normal();
  // "a/b/" names "a/b" itself; keeping the slash would make lstat() follow a symlink "b".
  if (!root.has_filename() && root.has_relative_path()) root = root.parent_path();
  return root;
}

}  // namespace

DiskStore::DiskStore(std::filesystem::path root, Warn warn, OpenMode mode, Durability durability)
    : root_(normalised(std::move(root))), warn_(std::move(warn)), durability_(durability) {
  if (root_.empty()) throw std::invalid_argument("cache root is empty");
  if (mode == kCreate) create_root(root_);
  root_fd_ = open_root(root_);
  try {
    remove_stale_temps(root_fd_);
  } catch (...) {
    ::close(root_fd_);
    throw;
  }
}

DiskStore::~DiskStore() { ::close(root_fd_); }

std::filesystem::path DiskStore::entry_path(const Hash128& key) const {
  return root_ / relative_entry_path(key);
}

std::string DiskStore::relative_entry_path(const Hash128& key) {
  const std::string hex = key.to_hex();
  return hex.substr(0, 2) + "/" + hex + std::string(kEntrySuffix);
}

DiskStoreStats DiskStore::stats() const noexcept {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  return {.hits = hits_.load(kRelaxed),
          .misses = misses_.load(kRelaxed),
          .damaged = damaged_.load(kRelaxed),
          .writes = writes_.load(kRelaxed),
          .write_failures = write_failures_.load(kRelaxed),
          .bytes_read = bytes_read_.load(kRelaxed),
          .bytes_written = bytes_written_.load(kRelaxed)};
}

void DiskStore::warn(const std::string& message) const {
  if (warn_) {
    warn_(message);
  } else {
    fmt::print(stderr, "dagflow: warning: {}\n", message);
  }
}

void DiskStore::warn_once(const Hash128& key, const std::string& message) {
  bool last = false;
  {
    const std::lock_guard lock(warned_mutex_);
    if (warned_.contains(key)) return;
    if (warned_.size() >= kMaxWarnedKeys) {
      if (warned_overflow_) return;
      warned_overflow_ = true;
      last = true;
    } else {
      warned_.insert(key);
    }
  }
  if (last) {
    warn(fmt::format("{} (more than {} invalid cache entries in '{}': no more warnings about them)",
                     message, kMaxWarnedKeys, root_.string()));
  } else {
    warn(message);
  }
}

namespace {

// Removes a bad entry unless a writer has renamed a new one into place since it was looked at
// (`seen`: the file that was read; null when it could not be opened, and then a regular file is
// left alone, as it may be a writer's). The window between the check and the unlink is tiny and
// harmless: at worst a good entry is lost and recomputed. Says what it did in `problem`.
void discard_entry(int dir_fd, const std::string& name, const struct stat* seen,
                   std::string& problem) {
  struct stat now {};
  if (::fstatat(dir_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0) {
    problem += "; it is gone already";
    return;
  }
  const bool replaced = seen != nullptr ? now.st_dev != seen->st_dev || now.st_ino != seen->st_ino
                                        : S_ISREG(now.st_mode);
  if (replaced) {
    problem += "; left it in place";
    return;
  }
  const int flags = S_ISDIR(now.st_mode) ? AT_REMOVEDIR : 0;
  if (::unlinkat(dir_fd, name.c_str(), flags) == 0) {
    problem += "; removed it";
  } else {
    problem += fmt::format("; could not remove it: {}", errno_text(errno));
  }
}

// Reads and checks the open regular file `fd` (of size st.st_size) as the entry of `key`: kHit
// with its payload, kOtherType, or kDamaged with the reason in `problem`.
DiskStore::Outcome read_checked(int fd, const struct stat& st, const Hash128& key,
                                std::uint64_t type_fingerprint, std::string& payload,
                                std::string& problem) {
  using Outcome = DiskStore::Outcome;
  const auto damaged = [&](std::string reason) {
    problem = std::move(reason);
    return Outcome::kDamaged;
  };
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) return damaged("it is empty");
  if (size < kHeaderSize) {
    return damaged(
        fmt::format("it is truncated ({} bytes, the header alone is {})", size, kHeaderSize));
  }
  HeaderBytes h{};
  const ssize_t got = read_at(fd, h.data(), h.size(), 0);
  if (got < 0) return damaged(fmt::format("it cannot be read: {}", errno_text(errno)));
  if (static_cast<std::size_t>(got) != h.size()) return damaged("it shrank while read");
  if (of_other_format(h)) return Outcome::kOtherFormat;
  if (std::optional<std::string> wrong = header_problem(h, key)) return damaged(*wrong);
  const std::uint64_t stored_type = load_u64(h.data() + kTypeOffset);
  if (stored_type != type_fingerprint) {
    problem = fmt::format("holds type fingerprint {:016x}, not the {:016x} asked for", stored_type,
                          type_fingerprint);
    return Outcome::kOtherType;
  }
  const std::uint64_t length = load_u64(h.data() + kLengthOffset);
  if (size - kHeaderSize != length) {
    return damaged(fmt::format("its size is {} bytes, but its header says {} + {}", size,
                               kHeaderSize, length));
  }
  // `length` equals the size of the open regular file, so this allocation is backed by real bytes.
  payload.resize(static_cast<std::size_t>(length));
  const ssize_t read_bytes = read_at(fd, payload.data(), payload.size(), kHeaderSize);
  if (read_bytes < 0) return damaged(fmt::format("it cannot be read: {}", errno_text(errno)));
  if (static_cast<std::size_t>(read_bytes) != payload.size()) {
    return damaged("it shrank while read");
  }
  if (load_u64(h.data() + kPayloadSumOffset) != hash64_bytes(payload.data(), payload.size())) {
    return damaged("its payload checksum does not match");
  }
  return Outcome::kHit;
}

// Opens the entry directory `shard` under `root_fd`; when that fails for another reason than its
// absence, says why in `problem` and removes what stands where the directory belongs (a symlink or
// a file), so that put() can work again.
UniqueFd open_shard(int root_fd, const std::string& shard, DiskStore::Outcome& failure,
                    std::string& problem) {
  using Outcome = DiskStore::Outcome;
  UniqueFd dir(::openat(root_fd, shard.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir) return dir;
  const int err = errno;
  failure = Outcome::kAbsent;
  if (err == ENOENT) return dir;
  failure = Outcome::kDamaged;
  problem = fmt::format("its directory cannot be opened: {}", errno_text(err));
  struct stat st {};
  if (::fstatat(root_fd, shard.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
    problem += ::unlinkat(root_fd, shard.c_str(), 0) == 0 ? "; removed it" : "; left it";
  }
  return dir;
}

}  // namespace

DiskStore::Outcome DiskStore::read_entry(const Hash128& key, std::uint64_t type_fingerprint,
                                         std::string& payload, std::string& problem) {
  const std::string hex = key.to_hex();
  const std::string name = hex + std::string(kEntrySuffix);
  Outcome failure = Outcome::kAbsent;
  const UniqueFd dir = open_shard(root_fd_, hex.substr(0, 2), failure, problem);
  if (!dir) return failure;

  // O_NOFOLLOW: a symlink is never followed; O_NONBLOCK: a FIFO cannot block the open.
  const UniqueFd fd(
      ::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    if (!fd && err == ENOENT) return Outcome::kAbsent;
    problem = !fd ? (err == ELOOP ? std::string("it is a symlink")
                                  : fmt::format("it cannot be opened: {}", errno_text(err)))
                  : fmt::format("it cannot be stat'ed: {}", errno_text(err));
    discard_entry(dir.get(), name, nullptr, problem);
    return Outcome::kDamaged;
  }
  Outcome outcome = Outcome::kDamaged;
  if (!S_ISREG(st.st_mode)) {
    problem = "it is not a regular file";
  } else {
    outcome = read_checked(fd.get(), st, key, type_fingerprint, payload, problem);
  }
  if (outcome == Outcome::kDamaged || outcome == Outcome::kOtherFormat) {
    discard_entry(dir.get(), name, &st, problem);
  }
  // Recency for prune(): a hit makes the entry the most recently used (best effort).
  if (outcome == Outcome::kHit) (void)::futimens(fd.get(), nullptr);
  return outcome;
}

std::optional<std::string> DiskStore::get(const Hash128& key, std::uint64_t type_fingerprint) {
  std::string payload;
  std::string problem;
  switch (read_entry(key, type_fingerprint, payload, problem)) {
    case Outcome::kHit:
      hits_.fetch_add(1, std::memory_order_relaxed);
      bytes_read_.fetch_add(kHeaderSize + payload.size(), std::memory_order_relaxed);
      return std::optional<std::string>(std::move(payload));
    case Outcome::kAbsent:
      break;
    case Outcome::kDamaged:
      damaged_.fetch_add(1, std::memory_order_relaxed);
      warn_once(key, fmt::format("cache entry '{}' is invalid, treated as a miss: {}",
                                 entry_path(key).string(), problem));
      break;
    case Outcome::kOtherType:
      warn_once(key, fmt::format("cache entry '{}' {}, treated as a miss", entry_path(key).string(),
                                 problem));
      break;
    case Outcome::kOtherFormat:  // an upgrade's first run: recomputed without a word
      break;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

bool DiskStore::fail_put(const std::string& message) {
  const std::size_t failures = write_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (failures < kMaxWriteWarnings) {
    warn(message);
  } else if (failures == kMaxWriteWarnings) {
    warn(
        fmt::format("{} ({} cache entries in '{}' could not be stored: no more warnings about "
                    "them; RunStats::disk_write_failures counts them)",
                    message, failures, root_.string()));
  }
  return false;
}

bool DiskStore::put(const Hash128& key, std::uint64_t type_fingerprint, std::string_view payload) {
  const std::string hex = key.to_hex();
  const std::string shard = hex.substr(0, 2);
  const std::string name = hex + std::string(kEntrySuffix);
  const auto failed = [&](std::string_view what, int err) {
    return fail_put(fmt::format("cannot store cache entry '{}': {}: {}", entry_path(key).string(),
                                what, errno_text(err)));
  };

  constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd dir(::openat(root_fd_, shard.c_str(), kDirFlags));
  if (!dir && errno == ENOENT) {
    if (::mkdirat(root_fd_, shard.c_str(), 0700) != 0 && errno != EEXIST) {
      return failed("creating its directory failed", errno);
    }
    dir.reset(::openat(root_fd_, shard.c_str(), kDirFlags));
  }
  if (!dir) return failed("opening its directory failed", errno);

  const HeaderBytes header = encode_header(key, type_fingerprint, payload);
  const std::string_view parts[] = {
      std::string_view(reinterpret_cast<const char*>(header.data()), header.size()), payload};
  const std::string temp_prefix = fmt::format("{}{}-", kTempPrefix, hex);
  try {
    util::write_file_atomically_at(
        dir.get(), name, parts,
        {.mode = 0600, .temp_prefix = temp_prefix, .durable = durability_ == Durability::kDurable});
  } catch (const std::system_error& e) {  // what(): the step that failed and errno's text
    return fail_put(
        fmt::format("cannot store cache entry '{}': {}", entry_path(key).string(), e.what()));
  }
  writes_.fetch_add(1, std::memory_order_relaxed);
  bytes_written_.fetch_add(header.size() + payload.size(), std::memory_order_relaxed);
  return true;
}

namespace {
struct EntryFile {
  std::filesystem::file_time_type last_use;
  std::filesystem::path path;
  std::uint64_t bytes;
};

// Every entry file under `root` (not following symlinks; anything else is left alone).
std::vector<EntryFile> list_entries(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::vector<EntryFile> entries;
  std::error_code ec;
  for (const fs::directory_entry& shard : fs::directory_iterator(root, ec)) {
    if (!shard.is_directory(ec) || shard.is_symlink(ec)) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(shard.path(), ec)) {
      if (file.path().extension() != kEntrySuffix || file.is_symlink(ec) ||
          !file.is_regular_file(ec)) {
        continue;
      }
      entries.push_back(EntryFile{file.last_write_time(ec), file.path(), file.file_size(ec)});
    }
  }
  return entries;
}
}  // namespace

bool DiskStore::contains(const Hash128& key) const {
  const UniqueFd fd(::openat(root_fd_, relative_entry_path(key).c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return false;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  HeaderBytes h{};
  if (read_at(fd.get(), h.data(), h.size(), 0) != static_cast<ssize_t>(h.size())) return false;
  return !header_problem(h, key).has_value();
}

bool DiskStore::erase(const Hash128& key) {
  return ::unlinkat(root_fd_, relative_entry_path(key).c_str(), 0) == 0;
}

DiskUsage DiskStore::usage() const {
  DiskUsage u;
  for (const EntryFile& e : list_entries(root_)) {
    ++u.entries;
    u.bytes += e.bytes;
  }
  return u;
}

DiskUsage DiskStore::prune(std::uint64_t max_bytes) {
  std::vector<EntryFile> entries = list_entries(root_);
  std::sort(entries.begin(), entries.end(),
            [](const EntryFile& a, const EntryFile& b) { return a.last_use < b.last_use; });
  DiskUsage u;
  for (const EntryFile& e : entries) u.bytes += e.bytes;
  u.entries = entries.size();
  std::error_code ec;
  for (const EntryFile& e : entries) {
    if (u.bytes <= max_bytes) break;
    // A reader that already opened the entry keeps its file: unlinking never breaks a get().
    if (std::filesystem::remove(e.path, ec)) {
      u.bytes -= e.bytes;
      --u.entries;
    }
  }
  return u;
}

}  // namespace dagflow::detail
