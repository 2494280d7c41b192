#include "disk_store.hpp"

// Tests of the on-disk entry store behind the disk cache: entries round-trip byte for byte, a
// damaged or foreign entry is a miss (never a wrong value), concurrent writers of one key from
// threads and processes leave one good entry, a failed or killed write leaves nothing behind,
// and unsafe roots are refused. Disk trouble and crashes are simulated in forked children
// (RLIMIT_FSIZE, SIGKILL), never in this process.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/hashing.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::Hash128;
using dagflow::detail::DiskStore;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using dagflow::test::write_file;

constexpr std::uint64_t kType = 0x7e57'7e57'7e57'7e57ULL;
constexpr std::size_t kHeaderBytes = 64;

// Collects the store's warnings; usable from several threads.
class Warnings {
 public:
  DiskStore::Warn sink() {
    return [this](const std::string& message) {
      const std::lock_guard lock(mutex_);
      messages_.push_back(message);
    };
  }
  [[nodiscard]] std::vector<std::string> messages() {
    const std::lock_guard lock(mutex_);
    return messages_;
  }
  [[nodiscard]] std::size_t count() { return messages().size(); }

 private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

Hash128 key_of(int i) { return dagflow::hash_value(i); }

// Puts a non-empty directory where key's entry belongs (stored once first, so that its shard
// directory exists): it cannot be removed or renamed over, so every read and write meets it.
fs::path block_entry(DiskStore& store, int key) {
  REQUIRE(store.put(key_of(key), kType, "blocked"));
  const fs::path stuck = store.entry_path(key_of(key));
  fs::remove(stuck);
  fs::create_directories(stuck / "inside");
  return stuck;
}

// `size` deterministic bytes that differ from key to key.
std::string payload_for(int key, std::size_t size) {
  std::string s(size, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(key + 1);
  for (char& c : s) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(x >> 56);
  }
  return s;
}

bool holds(const std::optional<std::string>& got, const std::string& want) {
  return got.has_value() && *got == want;
}

// The regular files under `root` whose names satisfy `pred` (symlinks are not followed).
std::vector<fs::path> files_where(const fs::path& root,
                                  const std::function<bool(const std::string&)>& pred) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && pred(e.path().filename().string())) out.push_back(e.path());
  }
  return out;
}
std::size_t count_entries(const fs::path& root) {
  return files_where(root, [](const std::string& n) { return n.ends_with(".entry"); }).size();
}
std::size_t count_temps(const fs::path& root) {
  return files_where(root, [](const std::string& n) { return n.starts_with(".tmp-"); }).size();
}

bool exists_no_follow(const fs::path& p) { return fs::exists(fs::symlink_status(p)); }

// fork(), with stdio flushed first so that a child cannot print the parent's buffered output again.
pid_t fork_child() {
  std::fflush(nullptr);
  return ::fork();
}

// Runs `body` in a forked child and returns its exit code (128 + signal if it was killed). The
// child leaves with _exit, so no Catch2 or static destructor runs twice.
int run_in_child(const std::function<int()>& body) {
  const pid_t pid = fork_child();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    int code = 100;
    try {
      code = body();
    } catch (...) {
      code = 101;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// In a child process: files may grow to `bytes` at most, and a write past that fails with EFBIG
// instead of killing the process with SIGXFSZ. False when the limit cannot be set.
bool limit_file_size(rlim_t bytes) {
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{};
  ::getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = bytes;
  return ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
}

// The text of the std::invalid_argument thrown when opening `root`, or "(no error)".
std::string refusal(const fs::path& root) {
  return thrown_message<std::invalid_argument>([&] { const DiskStore store(root, nullptr); });
}

// A pid that no process has: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = fork_child();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

// Stored payloads come back byte for byte, and the files the store makes are private.
TEST_CASE("DiskStore: put then get round-trips payloads", "[engine][disk]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "parent" / "cache";  // the parent is missing too
  Warnings warnings;
  DiskStore store(root, warnings.sink());
  CHECK(store.root() == root);
  CHECK(fs::is_directory(tmp.path() / "parent"));
  CHECK((fs::status(root).permissions() & fs::perms::all) == fs::perms::owner_all);

  const std::string small = "hello, disk";
  const std::string empty;
  const std::string big = payload_for(3, 5 << 20);
  CHECK_FALSE(store.get(key_of(1), kType).has_value());  // nothing stored yet: a miss

  REQUIRE(store.put(key_of(1), kType, small));
  REQUIRE(store.put(key_of(2), kType, empty));
  REQUIRE(store.put(key_of(3), kType, big));
  CHECK(holds(store.get(key_of(1), kType), small));
  CHECK(holds(store.get(key_of(2), kType), empty));
  CHECK(holds(store.get(key_of(3), kType), big));

  const std::string hex = key_of(3).to_hex();
  const fs::path entry = root / hex.substr(0, 2) / (hex + ".entry");
  CHECK(store.entry_path(key_of(3)) == entry);
  REQUIRE(fs::is_regular_file(entry));
  CHECK(fs::file_size(entry) == kHeaderBytes + big.size());
  CHECK((fs::status(entry).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(count_entries(root) == 3);
  CHECK(count_temps(root) == 0);

  // A put over an existing entry replaces it; a new store on the same root sees the entries.
  REQUIRE(store.put(key_of(1), kType, "second"));
  CHECK(holds(store.get(key_of(1), kType), "second"));
  DiskStore reopened(root, warnings.sink());
  CHECK(holds(reopened.get(key_of(3), kType), big));

  const auto st = store.stats();
  CHECK(st.hits == 4);
  CHECK(st.misses == 1);
  CHECK(st.damaged == 0);
  CHECK(st.writes == 4);
  CHECK(st.write_failures == 0);
  const std::uint64_t file_bytes = 4 * kHeaderBytes + small.size() + big.size() + 6;
  CHECK(st.bytes_written == file_bytes);
  CHECK(st.bytes_read == file_bytes);
  CHECK(warnings.count() == 0);
}

// Durable puts (ExecutorOptions::durable_cache) store the same entries: read back by any store,
// replacing entries, counted alike, and a failed one (the file size limit) leaves nothing behind.
TEST_CASE("DiskStore: durable puts store the same entries and fail as cleanly", "[engine][disk]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  Warnings warnings;
  DiskStore durable(root, warnings.sink(), DiskStore::kCreate, DiskStore::Durability::kDurable);
  const std::string big = payload_for(4, 1 << 20);
  REQUIRE(durable.put(key_of(1), kType, "first"));
  REQUIRE(durable.put(key_of(1), kType, "second"));
  REQUIRE(durable.put(key_of(2), kType, big));
  CHECK(holds(durable.get(key_of(1), kType), "second"));
  DiskStore plain(root, warnings.sink());
  CHECK(holds(plain.get(key_of(2), kType), big));
  REQUIRE(plain.put(key_of(3), kType, "plain"));
  CHECK(holds(durable.get(key_of(3), kType), "plain"));
  CHECK(durable.stats().writes == 3);
  CHECK(durable.stats().bytes_written == 3 * kHeaderBytes + 5 + 6 + big.size());
  CHECK(count_entries(root) == 3);
  CHECK(count_temps(root) == 0);
  CHECK(warnings.count() == 0);

  const int code = run_in_child([&] {
    Warnings child_warnings;
    DiskStore store(root, child_warnings.sink(), DiskStore::kCreate,
                    DiskStore::Durability::kDurable);
    if (!limit_file_size(16 << 10)) return 64;
    int result = 0;
    if (store.put(key_of(5), kType, big)) result |= 1;
    if (child_warnings.count() != 1 || store.stats().write_failures != 1) result |= 2;
    return result;
  });
  INFO("1: put succeeded, 2: not one warning and one failure, 64: setrlimit failed");
  CHECK(code == 0);
  CHECK(count_entries(root) == 3);
  CHECK(count_temps(root) == 0);
  CHECK_FALSE(durable.get(key_of(5), kType).has_value());
}

// Every kind of damage is a miss that is counted, warned about and removed, and the key works
// again after the next put.
TEST_CASE("DiskStore: damaged entries are misses, removed and replaced", "[engine][disk]") {
  const TempDir tmp;
  Warnings warnings;
  DiskStore store(tmp.path() / "cache", warnings.sink());
  const std::string payload = payload_for(7, 1000);

  // A valid copy of an entry in another store, for the symlink case.
  DiskStore other(tmp.path() / "other", nullptr);
  REQUIRE(other.put(key_of(7), kType, payload));
  const fs::path elsewhere = other.entry_path(key_of(7));

  struct Damage {
    std::string name;
    std::function<void(const fs::path&)> apply;
  };
  std::vector<Damage> damages;
  const auto flip_at = [](std::size_t offset) {
    return [offset](const fs::path& p) {
      std::string bytes = read_file(p);
      bytes.at(offset) = static_cast<char>(bytes.at(offset) ^ 0x20);
      write_file(p, bytes);
    };
  };
  // Magic, version, header size, type, length, payload checksum, key, header checksum, payload.
  constexpr std::size_t kOffsets[] = {0,  7,  8,  11, 12, 16, 23, 24, 31,  32,
                                      39, 40, 47, 48, 55, 56, 63, 64, 564, 1063};
  for (const std::size_t offset : kOffsets) {
    damages.push_back({"flip byte " + std::to_string(offset), flip_at(offset)});
  }
  damages.push_back({"truncate to 0", [](const fs::path& p) { fs::resize_file(p, 0); }});
  damages.push_back(
      {"truncate to half", [](const fs::path& p) { fs::resize_file(p, fs::file_size(p) / 2); }});
  damages.push_back(
      {"truncate inside the header", [](const fs::path& p) { fs::resize_file(p, 20); }});
  damages.push_back(
      {"append a byte", [](const fs::path& p) { write_file(p, read_file(p) + "x"); }});
  damages.push_back({"wrong format version", [](const fs::path& p) {
                       std::string bytes = read_file(p);
                       bytes[8] = 1;  // version 1, little-endian; the checksum is left as it was
                       write_file(p, bytes);
                     }});
  damages.push_back({"another key's valid entry copied over it",
                     [&elsewhere](const fs::path& p) { write_file(p, read_file(elsewhere)); }});
  damages.push_back({"symlink to a valid entry", [&elsewhere](const fs::path& p) {
                       fs::remove(p);
                       fs::create_symlink(elsewhere, p);
                     }});
  damages.push_back({"directory", [](const fs::path& p) {
                       fs::remove(p);
                       fs::create_directory(p);
                     }});
  damages.push_back({"fifo", [](const fs::path& p) {
                       fs::remove(p);
                       REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
                     }});

  int k = 100;
  for (const Damage& d : damages) {
    INFO("damage: " << d.name);
    const Hash128 key = key_of(++k);
    REQUIRE(store.put(key, kType, payload));
    const fs::path entry = store.entry_path(key);
    d.apply(entry);
    const auto before = store.stats();
    const std::size_t warned_before = warnings.count();

    CHECK_FALSE(store.get(key, kType).has_value());
    const auto after = store.stats();
    CHECK(after.damaged == before.damaged + 1);
    CHECK(after.misses == before.misses + 1);
    CHECK(after.hits == before.hits);
    CHECK_FALSE(exists_no_follow(entry));
    REQUIRE(warnings.count() == warned_before + 1);
    CHECK_THAT(warnings.messages().back(), Catch::Contains(entry.string()));

    REQUIRE(store.put(key, kType, payload));
    CHECK(holds(store.get(key, kType), payload));
  }
  CHECK(holds(other.get(key_of(7), kType), payload));  // the symlink's target is untouched
  CHECK(count_temps(store.root()) == 0);
}

// Policy: an intact entry of another format version (another dagflow release wrote it) is a
// quiet miss: not damage, no warning; it is removed and the next put writes it anew.
TEST_CASE("DiskStore: an intact entry of another format version is a quiet miss",
          "[engine][disk]") {
  const TempDir tmp;
  Warnings warnings;
  DiskStore store(tmp.path() / "cache", warnings.sink());
  REQUIRE(store.put(key_of(1), kType, "payload"));
  const fs::path entry = store.entry_path(key_of(1));
  std::string bytes = read_file(entry);
  bytes[8] = 2;  // format version 2 (little-endian), with a header checksum that matches it
  const std::uint64_t sum = dagflow::hash64_bytes(bytes.data(), 56);
  for (std::size_t i = 0; i < 8; ++i) bytes[56 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  write_file(entry, bytes);

  CHECK_FALSE(store.get(key_of(1), kType).has_value());
  CHECK(store.stats().misses == 1);
  CHECK(store.stats().damaged == 0);
  CHECK(warnings.count() == 0);
  CHECK_FALSE(fs::exists(entry));
  REQUIRE(store.put(key_of(1), kType, "payload"));
  CHECK(holds(store.get(key_of(1), kType), "payload"));
}

// Policy: an intact entry written with another type fingerprint is a miss, but not damage: it is
// kept (valid for its own type) and warned about once, and the next put replaces it.
TEST_CASE("DiskStore: another type fingerprint is a miss that keeps the entry", "[engine][disk]") {
  const TempDir tmp;
  Warnings warnings;
  DiskStore store(tmp.path() / "cache", warnings.sink());
  REQUIRE(store.put(key_of(1), kType, "as type A"));

  CHECK_FALSE(store.get(key_of(1), kType + 1).has_value());
  CHECK_FALSE(store.get(key_of(1), kType + 1).has_value());
  CHECK(store.stats().misses == 2);
  CHECK(store.stats().damaged == 0);
  CHECK(fs::is_regular_file(store.entry_path(key_of(1))));
  REQUIRE(warnings.count() == 1);
  CHECK_THAT(warnings.messages()[0], Catch::Contains(store.entry_path(key_of(1)).string()) &&
                                         Catch::Contains("type fingerprint"));
  CHECK(holds(store.get(key_of(1), kType), "as type A"));

  REQUIRE(store.put(key_of(1), kType + 1, "as type B"));
  CHECK(holds(store.get(key_of(1), kType + 1), "as type B"));
  CHECK_FALSE(store.get(key_of(1), kType).has_value());
}

// The warning channel gets one message per damaged key, not one per read, naming the entry.
TEST_CASE("DiskStore: one warning per damaged key, naming its path", "[engine][disk]") {
  const TempDir tmp;
  Warnings warnings;
  DiskStore store(tmp.path() / "cache", warnings.sink());

  // A non-empty directory where an entry belongs cannot be removed, so every read meets it.
  const fs::path stuck = block_entry(store, 1);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(store.get(key_of(1), kType).has_value());
  CHECK(store.stats().damaged == 3);
  CHECK(fs::is_directory(stuck));

  // A key damaged, removed, then damaged again: still one message for it.
  const fs::path flipped = store.entry_path(key_of(2));
  for (int round = 0; round < 2; ++round) {
    REQUIRE(store.put(key_of(2), kType, "two"));
    write_file(flipped, read_file(flipped) + "!");
    CHECK_FALSE(store.get(key_of(2), kType).has_value());
    CHECK_FALSE(store.get(key_of(2), kType).has_value());  // now absent: a plain miss
  }
  CHECK(store.stats().damaged == 5);

  const auto messages = warnings.messages();
  REQUIRE(messages.size() == 2);
  CHECK_THAT(messages[0], Catch::Contains(stuck.string()) && Catch::Contains("regular file"));
  CHECK_THAT(messages[1], Catch::Contains(flipped.string()) && Catch::Contains("size"));
}

// A disk that refuses every write (full, read-only) would warn once per task: the first few
// failures are warned about, the last of them saying that the rest are only counted.
TEST_CASE("DiskStore: failed puts warn a bounded number of times and are all counted",
          "[engine][disk]") {
  const TempDir tmp;
  Warnings warnings;
  DiskStore store(tmp.path() / "cache", warnings.sink());
  block_entry(store, 1);  // the rename over it fails, every time
  for (int i = 0; i < 20; ++i) CHECK_FALSE(store.put(key_of(1), kType, "one"));
  CHECK(store.stats().write_failures == 20);
  const auto messages = warnings.messages();
  REQUIRE(messages.size() == 8);
  for (const std::string& m : messages) CHECK_THAT(m, Catch::Contains("cannot store cache entry"));
  CHECK_THAT(messages.back(), Catch::Contains("no more warnings") &&
                                  Catch::Contains((tmp.path() / "cache").string()));
  CHECK_THAT(messages.front(), !Catch::Contains("no more warnings"));
}

// Threads storing and reading one key at once all succeed, and one entry is left.
TEST_CASE("DiskStore: concurrent puts of one key from threads all succeed and leave one entry",
          "[engine][disk][concurrency]") {
  constexpr int kThreads = 8;
  constexpr int kIterations = 50;
  const TempDir tmp;
  Warnings warnings;
  DiskStore store(tmp.path() / "cache", warnings.sink());
  const std::string payload = payload_for(5, 64 << 10);

  std::atomic<int> failed_puts{0};
  std::atomic<int> misses{0};
  std::atomic<int> wrong_bytes{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kIterations; ++i) {
        if (!store.put(key_of(5), kType, payload)) ++failed_puts;
        // The entry is replaced by rename, never removed: after a put there is always one.
        const auto got = store.get(key_of(5), kType);
        if (!got) {
          ++misses;
        } else if (*got != payload) {
          ++wrong_bytes;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  CHECK(failed_puts == 0);
  CHECK(misses == 0);
  CHECK(wrong_bytes == 0);
  CHECK(count_entries(store.root()) == 1);
  CHECK(count_temps(store.root()) == 0);
  CHECK(store.stats().writes == kThreads * kIterations);
  CHECK(store.stats().damaged == 0);
  CHECK(warnings.count() == 0);
}

// Processes, each with its own store on one root, race on one key: all succeed, one entry stays.
TEST_CASE("DiskStore: concurrent puts of one key from processes all succeed and leave one entry",
          "[engine][disk][concurrency]") {
  constexpr int kProcesses = 4;
  constexpr int kThreads = 2;
  constexpr int kIterations = 20;
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  const std::string payload = payload_for(6, 64 << 10);

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork_child();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        Warnings warnings;
        DiskStore store(root, warnings.sink());
        std::atomic<int> bad{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
          threads.emplace_back([&] {
            for (int i = 0; i < kIterations; ++i) {
              if (!store.put(key_of(6), kType, payload)) bad |= 1;
              const auto got = store.get(key_of(6), kType);
              if (!got) bad |= 2;
              if (got && *got != payload) bad |= 4;
            }
          });
        }
        for (auto& t : threads) t.join();
        code = bad;
        if (warnings.count() != 0) code |= 8;
      } catch (...) {
        code = 100;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("child exit status " << status << " (1: put failed, 2: miss, 4: wrong bytes, 8: warned)");
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(count_entries(root) == 1);
  CHECK(count_temps(root) == 0);
  DiskStore store(root, nullptr);
  CHECK(holds(store.get(key_of(6), kType), payload));
}

// A write that hits the file size limit (as a full disk would) fails cleanly: false, a warning,
// no entry and no temp file, and the key stays a miss.
TEST_CASE("DiskStore: a failed write leaves nothing behind", "[engine][disk]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  const std::string payload = payload_for(9, 256 << 10);

  SECTION("file size limit (EFBIG) in a child process") {
    const int code = run_in_child([&] {
      Warnings warnings;
      DiskStore store(root, warnings.sink());
      if (!limit_file_size(16 << 10)) return 64;
      int result = 0;
      if (store.put(key_of(9), kType, payload)) result |= 1;
      if (count_entries(root) != 0) result |= 2;
      if (count_temps(root) != 0) result |= 4;
      const auto messages = warnings.messages();
      if (messages.size() != 1 ||
          messages[0].find(store.entry_path(key_of(9)).string()) == std::string::npos) {
        result |= 8;
      }
      if (store.stats().write_failures != 1 || store.stats().writes != 0) result |= 16;
      if (store.get(key_of(9), kType).has_value()) result |= 32;
      return result;
    });
    INFO(
        "1: put succeeded, 2: entry left, 4: temp left, 8: bad warning, 16: bad stats, "
        "32: get hit, 64: setrlimit failed");
    CHECK(code == 0);
    CHECK(count_entries(root) == 0);
    CHECK(count_temps(root) == 0);
    DiskStore store(root, nullptr);
    CHECK_FALSE(store.get(key_of(9), kType).has_value());
    CHECK(store.stats().damaged == 0);
    CHECK(store.put(key_of(9), kType, payload));  // without the limit it works
  }

  SECTION("the entry's name is taken by a non-empty directory (rename fails)") {
    Warnings warnings;
    DiskStore store(root, warnings.sink());
    fs::create_directories(store.entry_path(key_of(9)) / "inside");
    CHECK_FALSE(store.put(key_of(9), kType, payload));
    CHECK(store.stats().write_failures == 1);
    REQUIRE(warnings.count() == 1);
    CHECK_THAT(warnings.messages()[0], Catch::Contains(store.entry_path(key_of(9)).string()) &&
                                           Catch::Contains("renaming"));
    CHECK(count_temps(root) == 0);
    CHECK(count_entries(root) == 0);
  }

  SECTION("the entry's directory is replaced by a file: put fails, get repairs it") {
    Warnings warnings;
    DiskStore store(root, warnings.sink());
    const fs::path shard = store.entry_path(key_of(9)).parent_path();
    write_file(shard, "not a directory");
    CHECK_FALSE(store.put(key_of(9), kType, payload));
    CHECK_FALSE(store.get(key_of(9), kType).has_value());
    CHECK(store.stats().damaged == 1);
    CHECK_FALSE(exists_no_follow(shard));
    CHECK(store.put(key_of(9), kType, payload));
    CHECK(holds(store.get(key_of(9), kType), payload));
    CHECK(warnings.count() == 2);  // the failed put and the damaged directory
  }
}

// A writer killed at random points never leaves an entry with wrong bytes, and its temp files are
// removed by the next store opened on the root.
TEST_CASE("DiskStore: kill -9 during writes never leaves a bad entry", "[engine][disk]") {
  constexpr unsigned kSeed = 20240611;
  constexpr int kTrials = 20;
  constexpr int kKeys = 12;
  INFO("seed " << kSeed);
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  const auto size_of = [](int key) { return static_cast<std::size_t>(1 + key * 90'000); };
  // Opened before the children, which inherit it; so nothing cleans up between the trials.
  DiskStore writer(root, nullptr);
  const pid_t parent = ::getpid();

  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> delay_us(0, 25'000);
  int killed = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const pid_t pid = fork_child();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Writes until killed; stops on its own if the test process has gone away.
      for (int i = trial;; ++i) {
        if (::getppid() != parent || i > 100'000) ::_exit(0);
        const int key = i % kKeys;
        writer.put(key_of(key), kType, payload_for(key, size_of(key)));
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++killed;
  }
  CHECK(killed == kTrials);

  // Every entry on disk is one of ours and verifies byte for byte.
  std::map<std::string, int> key_by_file;
  for (int key = 0; key < kKeys; ++key) key_by_file[key_of(key).to_hex() + ".entry"] = key;
  const std::size_t stale_temps = count_temps(root);
  INFO(stale_temps << " temp files left by killed writers");
  DiskStore reader(root, nullptr);
  CHECK(count_temps(root) == 0);
  std::size_t entries = 0;
  for (const fs::path& p :
       files_where(root, [](const std::string& n) { return n.ends_with(".entry"); })) {
    INFO("entry " << p);
    const auto it = key_by_file.find(p.filename().string());
    REQUIRE(it != key_by_file.end());
    const auto got = reader.get(key_of(it->second), kType);
    CHECK(holds(got, payload_for(it->second, size_of(it->second))));
    ++entries;
  }
  CHECK(reader.stats().damaged == 0);
  CHECK(reader.stats().hits == entries);
}

// Roots that others could tamper with, or that are not directories, are refused up front.
TEST_CASE("DiskStore: unsafe roots are refused", "[engine][disk]") {
  const TempDir tmp;
  const fs::path real = tmp.path() / "real";
  fs::create_directory(real);
  fs::permissions(real, fs::perms::owner_all);

  const fs::path link = tmp.path() / "link";
  fs::create_directory_symlink(real, link);
  CHECK_THAT(refusal(link), Catch::Contains(link.string()) && Catch::Contains("symlink"));
  CHECK_THAT(refusal(link.string() + "/"), Catch::Contains("symlink"));

  const fs::path file = tmp.path() / "file";
  write_file(file, "x");
  CHECK_THAT(refusal(file), Catch::Contains(file.string()) && Catch::Contains("not a directory"));
  CHECK_THAT(refusal(file / "sub"),
             Catch::Contains((file / "sub").string()) && Catch::Contains("cannot be used"));

  const fs::path open_to_all = tmp.path() / "open";
  fs::create_directory(open_to_all);
  fs::permissions(open_to_all, fs::perms::all);  // 0777
  CHECK_THAT(refusal(open_to_all),
             Catch::Contains(open_to_all.string()) && Catch::Contains("world-writable"));

  if (::geteuid() == 0) {
    const fs::path foreign = tmp.path() / "foreign";
    fs::create_directory(foreign);
    fs::permissions(foreign, fs::perms::owner_all);
    REQUIRE(::chown(foreign.c_str(), 65534, 65534) == 0);
    CHECK_THAT(refusal(foreign),
               Catch::Contains(foreign.string()) && Catch::Contains("owned by another user"));
  } else {
    WARN("not root: the root owned by another user is not tested");
  }

  CHECK(refusal(real) == "(no error)");  // the directory itself is fine
}

// Opening a store removes the temp files of dead writers and keeps those of live ones.
TEST_CASE("DiskStore: opening removes stale temp files of dead processes", "[engine][disk]") {
  const TempDir tmp;
  const fs::path root = tmp.path() / "cache";
  {
    DiskStore first(root, nullptr);
    REQUIRE(first.put(key_of(1), kType, "kept"));
  }
  const std::string hex = key_of(2).to_hex();
  const fs::path shard = root / hex.substr(0, 2);
  fs::create_directories(shard);
  const auto temp = [&](const std::string& pid) {
    return shard / (".tmp-" + hex + "-" + pid + "-0");
  };
  const fs::path of_dead = temp(std::to_string(dead_pid()));
  const fs::path of_self = temp(std::to_string(::getpid()));
  const fs::path of_init = temp("1");  // pid 1 is always alive
  const fs::path odd = shard / ".tmp-not-one-of-ours";
  for (const fs::path& p : {of_dead, of_self, of_init, odd}) write_file(p, "partial");

  DiskStore store(root, nullptr);
  CHECK_FALSE(fs::exists(of_dead));
  CHECK(fs::exists(of_self));
  CHECK(fs::exists(of_init));
  CHECK(fs::exists(odd));
  CHECK(holds(store.get(key_of(1), kType), "kept"));
}
