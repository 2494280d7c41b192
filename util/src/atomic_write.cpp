#include <dagflow/util/atomic_write.hpp>
// (the header this file implements first)

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

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
}

void write_file_atomically_at(int dir_fd, const std::string& name, std::string_view bytes,
                              const AtomicWriteOptions& options) {
  write_file_atomically_at(dir_fd, name, std::span<const std::string_view>(&bytes, 1), options);
}

}  // namespace dagflow::util
