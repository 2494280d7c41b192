// UniqueFd: the one owner of a POSIX file descriptor, which it closes when it goes. A value type:
// one owner at a time, no locking (move it to hand it on).
#pragma once

#include <unistd.h>
#include <utility>

namespace dagflow::util {

/// Owns a file descriptor (or none: -1) and closes it on destruction. Movable, not copyable.
///
///   util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
///   if (!fd) throw std::system_error(errno, std::generic_category(), "cannot open");
///   use(fd.get());  // closed when `fd` goes out of scope
class UniqueFd {
 public:
  /// Takes ownership of `fd` (-1 or any negative value: none).
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  /// Closes the descriptor held, if any (ignoring close()'s result), and takes `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  /// Closes the descriptor held now and returns close()'s result: 0, or -1 with errno set (a
  /// write error can surface only here). Holds none afterwards, whatever the result.
  int close() noexcept { return fd_ >= 0 ? ::close(release()) : 0; }
  /// Gives the descriptor up (-1 if none): the caller closes it.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  /// The descriptor, still owned (-1 if none).
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Whether it holds a descriptor.
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace dagflow::util
