#include <dagflow/util/unique_fd.hpp>
// (the header under test first)

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

#include <catch2/catch.hpp>

namespace {

// Whether `fd` names an open descriptor of this process.
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

}  // namespace

// The descriptor is closed exactly once, by its last owner.
TEST_CASE("UniqueFd: closes what it owns when it goes, and only then", "[util][fd]") {
  int raw = -1;
  {
    dagflow::util::UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    raw = fd.get();
    REQUIRE(fd);
    dagflow::util::UniqueFd moved = std::move(fd);
    CHECK_FALSE(fd);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    CHECK(moved.get() == raw);
    CHECK(is_open(raw));
  }
  CHECK_FALSE(is_open(raw));
}

// reset, release and close hand the descriptor on or end it, each leaving the owner empty.
TEST_CASE("UniqueFd: reset, release and close leave it empty", "[util][fd]") {
  dagflow::util::UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int first = fd.get();
  fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  CHECK_FALSE(is_open(first));

  const int released = fd.release();
  CHECK_FALSE(fd);
  CHECK(is_open(released));
  ::close(released);

  fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int closed = fd.get();
  CHECK(fd.close() == 0);
  CHECK_FALSE(fd);
  CHECK_FALSE(is_open(closed));
  CHECK(fd.close() == 0);  // nothing to close
}

// Moving into an owner closes what it held before.
TEST_CASE("UniqueFd: move assignment closes the old descriptor", "[util][fd]") {
  dagflow::util::UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  dagflow::util::UniqueFd b(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int old = a.get();
  const int kept = b.get();
  a = std::move(b);
  CHECK_FALSE(is_open(old));
  CHECK(a.get() == kept);
}
