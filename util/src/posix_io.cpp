#include <dagflow/util/posix_io.hpp>
// (the header this file implements first)

#include <cerrno>
#include <cstddef>
#include <system_error>
#include <unistd.h>

namespace dagflow::util {

std::string errno_text(int err) { return std::generic_category().message(err); }

bool write_all(int fd, std::string_view bytes) noexcept {
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace dagflow::util
