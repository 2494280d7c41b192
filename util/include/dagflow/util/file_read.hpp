// Reading a whole regular file without being tricked into blocking or reading forever: a FIFO,
// a device or a directory is refused before it is read (a FIFO could wait for a writer, /dev/zero
// never ends), and a size limit is enforced before and while reading. Thread-safe: no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <dagflow/util/unique_fd.hpp>

namespace dagflow::util {

/// No size limit.
inline constexpr std::uint64_t kNoSizeLimit = std::numeric_limits<std::uint64_t>::max();

/// Why a file could not be read. what() is the reason alone, for the caller to put after the
/// file's name: "cannot open: No such file or directory", "cannot read: Input/output error",
/// "not a regular file (a FIFO)", "file is 2000 bytes, over the limit of 1024 bytes".
class ReadFileError : public std::runtime_error {
 public:
  enum class Reason : std::uint8_t {
    kCannotOpen,  ///< stat or open failed (also: the path contains a NUL byte, EINVAL)
    kCannotRead,  ///< fstat or read failed
    kNotRegular,  ///< a directory, FIFO, device or socket
    kTooLarge,    ///< over the caller's size limit
  };

  /// `what` is the whole message; `error` and `size` as reported by error() and size().
  ReadFileError(Reason reason, int error, const std::string& what,
                std::optional<std::uint64_t> size = std::nullopt);

  [[nodiscard]] Reason reason() const noexcept { return reason_; }
  /// The errno of kCannotOpen and kCannotRead; EISDIR for a directory (kNotRegular); else 0.
  [[nodiscard]] int error() const noexcept { return error_; }
  /// For kTooLarge: the size the file had when opened, or nullopt when it grew past the limit
  /// while it was read.
  [[nodiscard]] std::optional<std::uint64_t> size() const noexcept { return size_; }

 private:
  Reason reason_;
  int error_;
  std::optional<std::uint64_t> size_;
};

/// A regular file open for reading, and its size when it was opened.
struct RegularFile {
  UniqueFd fd;
  std::uint64_t size = 0;
};

/// Opens `path` (symlinks followed) for reading, close-on-exec. It is stat'ed first, so that
/// what is not a regular file is refused without being opened, and fstat'ed after the open
/// (O_NONBLOCK, so that a FIFO swapped in meanwhile cannot block it) in case it changed. Throws
/// ReadFileError: kCannotOpen, kCannotRead (fstat), kNotRegular, or kTooLarge when it is over
/// `max_bytes`.
[[nodiscard]] RegularFile open_regular_file(const std::filesystem::path& path,
                                            std::uint64_t max_bytes = kNoSizeLimit);

/// Reads `fd` to its end, handing each piece read (at most 64 KiB) to `sink`; retries after
/// EINTR. Throws ReadFileError kCannotRead when a read fails, kTooLarge (size nullopt) before
/// more than `max_bytes` in all would be handed on. Returns the number of bytes read.
std::uint64_t read_to_end(int fd, const std::function<void(std::string_view)>& sink,
                          std::uint64_t max_bytes = kNoSizeLimit);

/// The whole regular file at `path` (open_regular_file, then read_to_end). Throws ReadFileError.
/// O(size); memory: the file's size.
[[nodiscard]] std::string read_regular_file(const std::filesystem::path& path,
                                            std::uint64_t max_bytes = kNoSizeLimit);

}  // namespace dagflow::util
