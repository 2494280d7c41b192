#include <dagflow/util/posix_io.hpp>
// (the header under test first)

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <dagflow/util/unique_fd.hpp>

// errno values read as the C library words them.
TEST_CASE("errno_text: the C library's words for an errno value", "[util][errno]") {
  CHECK(dagflow::util::errno_text(ENOENT) == "No such file or directory");
  CHECK(dagflow::util::errno_text(EISDIR) == "Is a directory");
}

// The bytes arrive whole; a descriptor that cannot be written is a failure with errno set.
TEST_CASE("write_all: writes everything, or fails with errno set", "[util][io]") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  dagflow::util::UniqueFd read_end(fds[0]);
  dagflow::util::UniqueFd write_end(fds[1]);
  const std::string bytes(8192, 'x');  // within the pipe's buffer: no reader needed meanwhile
  REQUIRE(dagflow::util::write_all(write_end.get(), bytes));
  std::string got(bytes.size(), '\0');
  REQUIRE(::read(read_end.get(), got.data(), got.size()) == static_cast<ssize_t>(got.size()));
  CHECK(got == bytes);

  // A descriptor that is not open (unlike a pipe without a reader, this raises no SIGPIPE).
  CHECK_FALSE(dagflow::util::write_all(-1, "x"));
  CHECK(errno == EBADF);
  CHECK(dagflow::util::write_all(write_end.get(), ""));  // nothing to write is no failure
}
