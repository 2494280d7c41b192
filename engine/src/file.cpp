#include <dagflow/engine/file.hpp>
// (the header this file implements first)

#include <cstdint>
#include <string_view>

#include <dagflow/util/file_read.hpp>

namespace dagflow {

void Hash<File>::add(Hasher& h, const File& file) {
  // Read as a regular file only: a FIFO or a device named as a File could block key computation
  // or never end; it hashes as unreadable instead, so the task runs and reports it.
  util::RegularFile opened;
  try {
    opened = util::open_regular_file(file.path);
  } catch (const util::ReadFileError&) {
    h.add(std::string_view("dagflow-unreadable-file")).add(file.path.string());
    return;
  }
  h.add(std::string_view("dagflow-file"));
  std::uint64_t size = 0;
  try {
    size = util::read_to_end(
        opened.fd.get(), [&h](std::string_view piece) { h.update(piece.data(), piece.size()); });
  } catch (const util::ReadFileError&) {
    // A read error midway: the bytes read so far and the marker keep the key apart from both
    // the whole file and an unreadable one.
    h.add(std::string_view("dagflow-read-error"));
  }
  h.add(size);  // after the bytes: a length suffix keeps the encoding unambiguous
}

}  // namespace dagflow
