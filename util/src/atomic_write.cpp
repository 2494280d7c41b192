#include <dagflow/util/atomic_write.hpp>
// (the header this file implements first)

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <limits>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include <dagflow/util/posix_io.hpp>
#include <dagflow/util/unique_fd.hpp>

namespace dagflow::util {

namespace {

// O_EXCL retries when a temp name is taken (a pid reused across PID namespaces sharing a
// directory, or a stale file of a killed writer).
constexpr int kMaxTempAttempts = 16;

// Process-wide (per library that links util), so two writers in one process never pick the
// same name; the prefixes keep the libraries' names apart, and O_EXCL catches the rest.
std::atomic<std::uint64_t> g_temp_counter{0};

[[noreturn]] void fail(int err, const char* step) {
  throw std::system_error(err, std::generic_category(), step);
}

}  // namespace

void write_file_atomically_at(int dir_fd, const std::string& name,
                              std::span<const std::string_view> parts,
                              const AtomicWriteOptions& options) {
  std::string temp;
  UniqueFd file;
  for (int attempt = 0; attempt < kMaxTempAttempts && !file; ++attempt) {
    temp = fmt::format("{}{}-{}", options.temp_prefix, ::getpid(),
                       g_temp_counter.fetch_add(1, std::memory_order_relaxed));
    file.reset(::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        options.mode));
    if (!file && errno != EEXIST) break;
  }
  if (!file) fail(errno, "creating a temp file failed");

  const char* step = nullptr;
  for (const std::string_view part : parts) {
    if (!write_all(file.get(), part)) {
      step = "writing failed";
      break;
    }
  }
  // The data must be on disk before the rename can be: otherwise a power loss may leave the new
  // name holding missing data.
  if (step == nullptr && options.durable && ::fsync(file.get()) != 0) {
    step = "syncing the temp file failed";
  }
  if (step == nullptr && file.close() != 0) step = "closing failed";
  // rename replaces a symlink at `name` instead of following it.
  if (step == nullptr && ::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) {
    step = "renaming the temp file into place failed";
  }
  if (step != nullptr) {
    const int err = errno;
    file.reset();
    ::unlinkat(dir_fd, temp.c_str(), 0);
    fail(err, step);
  }
  // The rename itself is durable only once the directory is: the file is whole and in place
  // already, so a failure here leaves it (it is as good as a non-durable write's) and reports.
  if (options.durable && ::fsync(dir_fd) != 0) fail(errno, "syncing the directory failed");
}

void write_file_atomically_at(int dir_fd, const std::string& name, std::string_view bytes,
                              const AtomicWriteOptions& options) {
  write_file_atomically_at(dir_fd, name, std::span<const std::string_view>(&bytes, 1), options);
}

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

pid_t temp_file_writer(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return 0;
  name.remove_prefix(prefix.size());
  const std::size_t dash = name.find('-');
  if (dash == std::string_view::npos) return 0;
  const std::string_view pid = name.substr(0, dash);
  if (!all_digits(pid) || pid.size() > 9 || !all_digits(name.substr(dash + 1))) return 0;
  long value = 0;
  for (const char c : pid) value = value * 10 + (c - '0');
  if (value <= 0 || value > std::numeric_limits<pid_t>::max()) return 0;
  return static_cast<pid_t>(value);
}

bool writer_has_died(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

std::size_t remove_dead_writers_temps(int dir_fd, std::string_view prefix) {
  std::size_t removed = 0;
  const pid_t self = ::getpid();
  for (const std::string& name : names_in_dir(dir_fd)) {
    const pid_t writer = temp_file_writer(name, prefix);
    if (writer == 0 || writer == self || !writer_has_died(writer)) continue;
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0) ++removed;
  }
  return removed;
}

}  // namespace dagflow::util
