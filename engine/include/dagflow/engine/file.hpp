// dagflow::File: a file as a task argument, keyed by its contents rather than its name or time
// stamps. A plain value: copy it and share it between threads freely.
//
//   auto text = g.delayed(dagflow::op("read", read_text), dagflow::File{"input.txt"});
#pragma once

#include <filesystem>
#include <string>

#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/value_size.hpp>

namespace dagflow {

/// A path whose contents, not its name or time stamps, identify it in content keys.
///
/// A task's content key (see task_keys) includes the file's bytes (XXH3, read in full each time
/// keys are computed, i.e. only with a disk cache): editing the file, even twice in one second
/// with the same size, changes the key and reruns what reads it; touching it without changing it
/// does not. A file that cannot be read hashes as such: the task then runs and reports the error.
struct File {
  /// The file; relative paths resolve against the working directory when it is read.
  std::filesystem::path path;
  /// Same path (compared as paths, not by contents).
  friend bool operator==(const File&, const File&) = default;

  /// cereal serialisation: the path as a string (File results persist in the disk cache).
  template <class Archive>
  void save(Archive& ar) const {
    ar(path.string());
  }
  template <class Archive>
  void load(Archive& ar) {
    std::string p;
    ar(p);
    path = p;
  }
};

/// Hashes the file's contents (see File).
template <>
struct Hash<File> {
  /// Adds the file's size and bytes (or a marker and the path when it cannot be read).
  static void add(Hasher& h, const File& file);
};

/// The path's bytes: the memory cache never holds the file's contents.
template <>
struct ValueSize<File> {
  static std::size_t bytes(const File& f) { return sizeof f + f.path.native().capacity(); }
};

}  // namespace dagflow
