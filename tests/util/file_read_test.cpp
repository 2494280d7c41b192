#include <dagflow/util/file_read.hpp>
// (the header under test first)

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace {

namespace fs = std::filesystem;
using dagflow::util::read_regular_file;
using dagflow::util::ReadFileError;
using Reason = dagflow::util::ReadFileError::Reason;

// A fresh directory, removed with its contents at the end.
struct TempDir {
  TempDir() {
    std::string p = (fs::temp_directory_path() / "dagflow-util-read-XXXXXX").string();
    path = ::mkdtemp(p.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path path;
};

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The ReadFileError read_regular_file throws for `path` (fails the test when it reads).
ReadFileError read_error(const fs::path& path,
                         std::uint64_t max_bytes = dagflow::util::kNoSizeLimit) {
  try {
    (void)read_regular_file(path, max_bytes);
  } catch (const ReadFileError& e) {
    return e;
  }
  FAIL("read without an error: " << path);
  throw std::logic_error("unreachable");
}

}  // namespace

// Every byte comes back, NULs and all, and a file at the limit is still read.
TEST_CASE("read_regular_file: returns the whole file, up to the limit", "[util][read]") {
  TempDir dir;
  const std::string bytes = std::string("a\0b", 3) + std::string(200000, 'z');
  write_bytes(dir.path / "f", bytes);
  CHECK(read_regular_file(dir.path / "f") == bytes);
  CHECK(read_regular_file(dir.path / "f", bytes.size()) == bytes);
  write_bytes(dir.path / "empty", "");
  CHECK(read_regular_file(dir.path / "empty").empty());
}

// What could block or never end is refused before a byte is read, and says what it is.
TEST_CASE("read_regular_file: refuses directories, FIFOs and devices", "[util][read]") {
  TempDir dir;
  const ReadFileError directory = read_error(dir.path);
  CHECK(directory.reason() == Reason::kNotRegular);
  CHECK(directory.error() == EISDIR);
  CHECK(std::string(directory.what()) == "not a regular file (a directory)");

  REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
  fs::create_symlink(dir.path / "fifo", dir.path / "link");
  for (const char* name : {"fifo", "link"}) {
    const ReadFileError fifo = read_error(dir.path / name);
    CHECK(fifo.reason() == Reason::kNotRegular);
    CHECK(fifo.error() == 0);
    CHECK(std::string(fifo.what()) == "not a regular file (a FIFO)");
  }
  CHECK(std::string(read_error("/dev/zero").what()) == "not a regular file (a character device)");
}

// A missing file, a NUL in the path and a file over the limit each have their reason.
TEST_CASE("read_regular_file: names why it cannot open or read", "[util][read]") {
  TempDir dir;
  const ReadFileError missing = read_error(dir.path / "missing");
  CHECK(missing.reason() == Reason::kCannotOpen);
  CHECK(missing.error() == ENOENT);
  CHECK(std::string(missing.what()) == "cannot open: No such file or directory");

  write_bytes(dir.path / "f", "x");
  const ReadFileError nul = read_error(std::string((dir.path / "f").string() + '\0' + "g"));
  CHECK(nul.reason() == Reason::kCannotOpen);
  CHECK(nul.error() == EINVAL);

  write_bytes(dir.path / "big", std::string(2000, 'x'));
  const ReadFileError big = read_error(dir.path / "big", 1024);
  CHECK(big.reason() == Reason::kTooLarge);
  CHECK(big.size() == std::uint64_t{2000});
  CHECK(std::string(big.what()) == "file is 2000 bytes, over the limit of 1024 bytes");
}

// read_to_end hands on pieces and stops before the limit is passed, as when a file grows.
TEST_CASE("read_to_end: hands on every piece, never past the limit", "[util][read]") {
  TempDir dir;
  write_bytes(dir.path / "f", std::string(100000, 'y'));
  dagflow::util::RegularFile file = dagflow::util::open_regular_file(dir.path / "f");
  CHECK(file.size == 100000);
  std::string got;
  const auto append = [&got](std::string_view piece) { got.append(piece); };
  CHECK(dagflow::util::read_to_end(file.fd.get(), append) == 100000);
  CHECK(got == std::string(100000, 'y'));

  file = dagflow::util::open_regular_file(dir.path / "f");
  got.clear();
  try {
    (void)dagflow::util::read_to_end(file.fd.get(), append, 70000);
    FAIL("read past the limit");
  } catch (const ReadFileError& e) {
    CHECK(e.reason() == Reason::kTooLarge);
    CHECK_FALSE(e.size().has_value());
  }
  CHECK(got.size() <= 70000);
}
