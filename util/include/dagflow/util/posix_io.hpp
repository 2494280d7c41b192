// Small POSIX helpers shared by the disk store, the file-writing ops, the loaders and the CLI:
// errno as text, and writes that finish. Thread-safe: no state of their own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dagflow::util {

/// The text of errno value `err`, e.g. "No such file or directory" (thread-safe, unlike
/// strerror).
[[nodiscard]] std::string errno_text(int err);

/// The names in the directory open as `dir_fd`, without "." and ".." (none when it cannot be
/// read). `dir_fd` stays open and is not moved.
[[nodiscard]] std::vector<std::string> names_in_dir(int dir_fd);

/// Writes all of `bytes` to `fd`, retrying after EINTR and short writes; false with errno set on
/// failure (a write that makes no progress, such as EFBIG past RLIMIT_FSIZE, ends in EIO).
[[nodiscard]] bool write_all(int fd, std::string_view bytes) noexcept;

}  // namespace dagflow::util
