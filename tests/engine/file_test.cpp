#include <dagflow/engine/file.hpp>

// Tests of dagflow::File, a path keyed by its contents: equal bytes hash equal wherever they
// are, any edit changes the hash, an unreadable file hashes by its path, and a File survives
// the disk cache's serialisation and has a ValueSize.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/serialization.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::File;
using dagflow::hash_value;
using dagflow::test::TempDir;
using dagflow::test::write_file;

}  // namespace

// The hash is the file's bytes, not its name or time stamps.
TEST_CASE("File: hashes by content, not by name", "[engine][file]") {
  const TempDir dir;
  const fs::path a = dir.write("a.txt", "same bytes");
  const fs::path b = dir.write("sub/b.txt", "same bytes");
  CHECK(hash_value(File{a}) == hash_value(File{b}));
  CHECK(hash_value(File{a}) != hash_value(File{dir.write("c.txt", "other bytes")}));

  const dagflow::Hash128 before = hash_value(File{a});
  write_file(a, "same bytes");  // rewritten, unchanged
  CHECK(hash_value(File{a}) == before);
  write_file(a, "same bytez");  // same size, one byte changed
  CHECK(hash_value(File{a}) != before);
}

// A missing file still hashes, by its path, so the task runs and reports the error itself.
TEST_CASE("File: an unreadable file hashes by its path", "[engine][file]") {
  const TempDir dir;
  const File missing{dir.path() / "missing.txt"};
  const File other_missing{dir.path() / "other.txt"};
  CHECK(hash_value(missing) == hash_value(missing));
  CHECK(hash_value(missing) != hash_value(other_missing));
  CHECK(hash_value(missing) != hash_value(File{dir.write("empty.txt", "")}));
  // Created later, it hashes by content from then on.
  const dagflow::Hash128 unreadable = hash_value(missing);
  write_file(missing.path, "now here");
  CHECK(hash_value(missing) != unreadable);
  CHECK(hash_value(missing) == hash_value(File{dir.write("copy.txt", "now here")}));
}

// Files compare and serialise by path; they are sizeable for the memory cache.
TEST_CASE("File: compares, serialises and sizes by path", "[engine][file]") {
  const File f{"/data/in put.txt"};
  CHECK(f == File{"/data/in put.txt"});
  CHECK_FALSE(f == File{"/data/other.txt"});
  STATIC_REQUIRE(dagflow::Serializable<File>);
  STATIC_REQUIRE(dagflow::Hashable<File>);
  CHECK(dagflow::from_bytes<File>(dagflow::to_bytes(f)) == f);
  CHECK(dagflow::from_bytes<File>(dagflow::to_bytes(File{})).path.empty());
  CHECK(dagflow::ValueSize<File>::bytes(f) == sizeof f + f.path.native().capacity());
}
