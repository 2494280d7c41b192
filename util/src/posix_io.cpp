#include <dagflow/util/posix_io.hpp>
// (the header this file implements first)

#include <cerrno>
#include <cstddef>
#include <dirent.h>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace dagflow::util {

std::string errno_text(int err) { return std::generic_category().message(err); }

std::vector<std::string> names_in_dir(int dir_fd) {
  std::vector<std::string> names;
  // A descriptor of its own: fdopendir takes ownership and reading moves the offset.
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return names;
  }
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

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
