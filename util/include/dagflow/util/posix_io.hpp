// Small POSIX file helpers shared by the disk store and the file-writing ops. Not API.
#pragma once

#include <string_view>

namespace dagflow::util {

/// Writes all of `bytes` to `fd`, retrying after EINTR and short writes; false with errno set on
/// failure (a write that makes no progress, such as EFBIG past RLIMIT_FSIZE, ends in EIO).
[[nodiscard]] bool write_all(int fd, std::string_view bytes) noexcept;

}  // namespace dagflow::util
