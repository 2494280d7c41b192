#include <dagflow/util/file_read.hpp>
// (the header this file implements first)

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <dagflow/util/posix_io.hpp>

namespace dagflow::util {

namespace {

using Reason = ReadFileError::Reason;

std::string_view file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

[[noreturn]] void fail(Reason reason, int err) {
  const std::string_view step = reason == Reason::kCannotOpen ? "cannot open" : "cannot read";
  throw ReadFileError(reason, err, fmt::format("{}: {}", step, errno_text(err)));
}

// Refuses what is not a regular file or is over `max_bytes`, from a stat result.
void check_stat(const struct stat& st, std::uint64_t max_bytes) {
  if (!S_ISREG(st.st_mode)) {
    throw ReadFileError(Reason::kNotRegular, S_ISDIR(st.st_mode) ? EISDIR : 0,
                        fmt::format("not a regular file ({})", file_kind(st.st_mode)));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    throw ReadFileError(
        Reason::kTooLarge, 0,
        fmt::format("file is {} bytes, over the limit of {} bytes", size, max_bytes), size);
  }
}

}  // namespace

ReadFileError::ReadFileError(Reason reason, int error, const std::string& what,
                             std::optional<std::uint64_t> size)
    : std::runtime_error(what), reason_(reason), error_(error), size_(size) {}

RegularFile open_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  // c_str() would cut the path at the NUL and open another file.
  if (path.native().find('\0') != std::string::npos) fail(Reason::kCannotOpen, EINVAL);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(Reason::kCannotOpen, errno);
  check_stat(st, max_bytes);
  RegularFile file{UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK))};
  if (!file.fd) fail(Reason::kCannotOpen, errno);
  if (::fstat(file.fd.get(), &st) != 0) fail(Reason::kCannotRead, errno);
  check_stat(st, max_bytes);
  file.size = static_cast<std::uint64_t>(st.st_size);
  return file;
}

std::uint64_t read_to_end(int fd, const std::function<void(std::string_view)>& sink,
                          std::uint64_t max_bytes) {
  char buffer[65536];
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      // EAGAIN: O_NONBLOCK is still set; a regular file should never say it, but it is no error.
      if (errno == EINTR || errno == EAGAIN) continue;
      fail(Reason::kCannotRead, errno);
    }
    if (n == 0) return total;
    const auto got = static_cast<std::uint64_t>(n);
    // The file may have grown since it was opened: never hand on more than the limit.
    if (got > max_bytes - total) {
      throw ReadFileError(Reason::kTooLarge, 0,
                          fmt::format("file grew past the limit of {} bytes", max_bytes));
    }
    total += got;
    sink(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

std::string read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  const RegularFile file = open_regular_file(path, max_bytes);
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(file.size));
  read_to_end(
      file.fd.get(), [&bytes](std::string_view piece) { bytes.append(piece); }, max_bytes);
  return bytes;
}

}  // namespace dagflow::util
