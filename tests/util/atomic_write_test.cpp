#include <dagflow/util/atomic_write.hpp>
// (the header under test first)

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <dagflow/util/unique_fd.hpp>

namespace {

namespace fs = std::filesystem;
using dagflow::util::write_file_atomically_at;

// A fresh directory, open, removed with its contents at the end.
struct TempDir {
  TempDir() {
    std::string p = (fs::temp_directory_path() / "dagflow-util-write-XXXXXX").string();
    path = ::mkdtemp(p.data());
    fd.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path path;
  dagflow::util::UniqueFd fd;
};

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

// The parts arrive in order as one file, replacing the old one, and no temp file is left.
TEST_CASE("write_file_atomically_at: writes the parts and replaces the file", "[util][write]") {
  TempDir dir;
  write_file_atomically_at(dir.fd.get(), "f", "old");
  const std::string_view parts[] = {"head-", "", "body"};
  write_file_atomically_at(dir.fd.get(), "f", parts);
  CHECK(read_bytes(dir.path / "f") == "head-body");
  CHECK(count_entries(dir.path) == 1);
}

// The mode is the caller's (the disk cache wants 0600), narrowed only by the umask.
TEST_CASE("write_file_atomically_at: creates the file with the mode asked for", "[util][write]") {
  TempDir dir;
  write_file_atomically_at(dir.fd.get(), "private", "x", {.mode = 0600});
  struct stat st {};
  REQUIRE(::stat((dir.path / "private").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

// A symlink at the target is replaced by the file, and what it pointed to is untouched.
TEST_CASE("write_file_atomically_at: replaces a symlink, never follows it", "[util][write]") {
  TempDir dir;
  write_file_atomically_at(dir.fd.get(), "victim", "keep");
  fs::create_symlink(dir.path / "victim", dir.path / "link");
  write_file_atomically_at(dir.fd.get(), "link", "new");
  CHECK_FALSE(fs::is_symlink(dir.path / "link"));
  CHECK(read_bytes(dir.path / "link") == "new");
  CHECK(read_bytes(dir.path / "victim") == "keep");
}

// A failed rename (a directory in the way) names the step, keeps errno and removes the temp file.
TEST_CASE("write_file_atomically_at: a failure names its step and leaves no temp file",
          "[util][write]") {
  TempDir dir;
  fs::create_directory(dir.path / "taken");
  fs::create_directory(dir.path / "taken" / "inside");  // a non-empty directory cannot be replaced
  try {
    write_file_atomically_at(dir.fd.get(), "taken", "x", {.temp_prefix = ".mine-"});
    FAIL("wrote over a directory");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EISDIR);
    CHECK_THAT(e.what(), Catch::StartsWith("renaming the temp file into place failed: "));
  }
  CHECK(count_entries(dir.path) == 1);

  try {
    write_file_atomically_at(-1, "f", "x");
    FAIL("wrote without a directory");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EBADF);
    CHECK_THAT(e.what(), Catch::StartsWith("creating a temp file failed: "));
  }
}

// durable: the file is synced before the rename and its directory after. A directory that cannot
// be synced (a descriptor opened O_PATH, which fsync refuses) proves the second sync is made: the
// same write without `durable` succeeds, and with it the last step fails, the file in place.
TEST_CASE("write_file_atomically_at: a durable write syncs the file and then its directory",
          "[util][write]") {
  TempDir dir;
  write_file_atomically_at(dir.fd.get(), "f", "old", {.durable = true});
  const std::string_view parts[] = {"synced ", "parts"};
  write_file_atomically_at(dir.fd.get(), "f", parts, {.durable = true});
  CHECK(read_bytes(dir.path / "f") == "synced parts");
  CHECK(count_entries(dir.path) == 1);

  const dagflow::util::UniqueFd path_only(
      ::open(dir.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(path_only.get() >= 0);
  write_file_atomically_at(path_only.get(), "g", "not synced");
  CHECK(read_bytes(dir.path / "g") == "not synced");
  try {
    write_file_atomically_at(path_only.get(), "h", "synced", {.durable = true});
    FAIL("synced a directory opened O_PATH");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EBADF);
    CHECK_THAT(e.what(), Catch::StartsWith("syncing the directory failed: "));
  }
  CHECK(read_bytes(dir.path / "h") == "synced");  // whole and in place, only not known durable
  CHECK(count_entries(dir.path) == 3);            // f, g, h: no temp file
}

namespace {
// The pid of a child that has exited and been reaped: a writer that died.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}
}  // namespace

// Temp names parse back to their writer; a killed writer's temp files are removed, a live
// writer's (this process's, pid 1's) and other files stay.
TEST_CASE("remove_dead_writers_temps: removes only the temp files of dead writers",
          "[util][write]") {
  using dagflow::util::temp_file_writer;
  CHECK(temp_file_writer(".dagflow-tmp-123-4", ".dagflow-tmp-") == 123);
  CHECK(temp_file_writer(".dagflow-tmp-0-4", ".dagflow-tmp-") == 0);  // never a process group
  CHECK(temp_file_writer(".dagflow-tmp-12x-4", ".dagflow-tmp-") == 0);
  CHECK(temp_file_writer(".dagflow-tmp-123", ".dagflow-tmp-") == 0);  // no counter
  CHECK(temp_file_writer("out.json", ".dagflow-tmp-") == 0);

  TempDir dir;
  const pid_t dead = dead_pid();
  REQUIRE(dagflow::util::writer_has_died(dead));
  CHECK_FALSE(dagflow::util::writer_has_died(::getpid()));
  const std::string stale = ".dagflow-tmp-" + std::to_string(dead) + "-7";
  const std::string mine = ".dagflow-tmp-" + std::to_string(::getpid()) + "-7";
  for (const std::string& name :
       {stale, mine, std::string(".dagflow-tmp-1-3"), std::string("keep.txt")}) {
    std::ofstream(dir.path / name) << "x";
  }
  CHECK(dagflow::util::remove_dead_writers_temps(dir.fd.get(), ".dagflow-tmp-") == 1);
  CHECK_FALSE(fs::exists(dir.path / stale));
  CHECK(fs::exists(dir.path / mine));
  CHECK(fs::exists(dir.path / ".dagflow-tmp-1-3"));
  CHECK(fs::exists(dir.path / "keep.txt"));
}
