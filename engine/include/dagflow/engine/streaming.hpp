// read_lines and read_chunks: a text file as the input of map and map_reduce, read in blocks with
// a bound on the blocks in memory, so a file larger than memory goes through in flat memory.
// Thread-safety: like Graph::delayed, call them from the thread that builds the graph.
//
//   auto text = dagflow::read_chunks(g, "big.txt", 4 << 20);  // chunks of ~4 MiB, whole lines
//   auto words = dagflow::map_reduce(
//       g, [](std::string_view chunk) { return count_words(chunk); }, merge, Counts{}, text);
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/value_size.hpp>

namespace dagflow {

/// A text file cut into blocks: the value of a read_lines or read_chunks task, which map,
/// map_reduce and reduce read from in place. Its items are `std::string_view`s into the block
/// being processed, valid during the call only (copy one to keep it).
struct TextSource {
  /// The file (symlinks followed). Relative paths resolve against the working directory.
  std::filesystem::path path;
  /// read_chunks: about how many bytes a chunk has; 0: read_lines.
  std::uint64_t chunk_bytes = 0;
  /// Where each block ends (block i is [ends[i-1], ends[i]), the first starts at 0): every block
  /// but the last ends just after a newline. Found when the task runs.
  std::vector<std::uint64_t> ends{};
  /// The file's size, modification time, inode and device when the blocks were found: the
  /// stream fails if the file no longer has them (it changed while it was read).
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;

  friend bool operator==(const TextSource&, const TextSource&) = default;

  template <class Archive>
  void save(Archive& ar) const {
    ar(path.string(), chunk_bytes, ends, size, mtime_ns, inode, device);
  }
  template <class Archive>
  void load(Archive& ar) {
    std::string p;
    ar(p, chunk_bytes, ends, size, mtime_ns, inode, device);
    path = p;
  }
};

/// A source of the lines of the text file `path`: each item is one line without its newline
/// (nor a `\r` that ends it, so CRLF files read the same; the text after the last newline, if
/// any, is the last line; a final newline adds no empty line). Map
/// items run in parallel; blocks of about 1 MiB of lines are read by a thread of their own, at
/// most about twice as many blocks as workers at once, so memory stays flat whatever the file's
/// size. With a disk cache, a map's results are stored per block, keyed by the block's bytes:
/// after appending to the file only the tail runs again; an edit reruns the blocks it touches
/// (an insertion, those from it on). The task is keyed by the file's size, modification time,
/// inode and device, or by its bytes when it was modified in the last two seconds (a rewrite
/// within one time-stamp tick could otherwise go unseen). A file that cannot be read, or that
/// changes while it is read, fails the task that reads it with a message naming the file.
[[nodiscard]] Delayed<TextSource> read_lines(Graph& g, std::filesystem::path path);

/// A source of chunks of the text file `path`, each `bytes` bytes or a little more: a chunk ends
/// just after the first newline at or past `bytes` (or at the end of the file), so no line is
/// cut and the chunks joined are the file. Each chunk is one map item, read, keyed and cached
/// as read_lines' blocks are. Throws std::invalid_argument when `bytes` is 0.
[[nodiscard]] Delayed<TextSource> read_chunks(Graph& g, std::filesystem::path path,
                                              std::size_t bytes);

/// The key of a read_lines/read_chunks task (see read_lines). Internal: the argument that carries
/// the file's identity into the task's key.
struct TextFile {
  std::filesystem::path path;
  std::uint64_t chunk_bytes = 0;
  friend bool operator==(const TextFile&, const TextFile&) = default;
  template <class Archive>
  void save(Archive& ar) const {
    ar(path.string(), chunk_bytes);
  }
  template <class Archive>
  void load(Archive& ar) {
    std::string p;
    ar(p, chunk_bytes);
    path = p;
  }
};

template <>
struct Hash<TextFile> {
  static void add(Hasher& h, const TextFile& file);
};

template <>
struct Hash<TextSource> {
  static void add(Hasher& h, const TextSource& source);
};

template <>
struct ValueSize<TextSource> {
  static std::size_t bytes(const TextSource& s) {
    return sizeof s + s.path.native().capacity() + s.ends.capacity() * sizeof(std::uint64_t);
  }
};

}  // namespace dagflow
