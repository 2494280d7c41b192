#include <array>
#include <cstdint>
#include <fstream>
#include <string_view>

#include <dagflow/engine/file.hpp>

namespace dagflow {

void Hash<File>::add(Hasher& h, const File& file) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    h.add(std::string_view("dagflow-unreadable-file")).add(file.path.string());
    return;
  }
  h.add(std::string_view("dagflow-file"));
  std::array<char, 64 * 1024> buffer{};
  std::uint64_t size = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    h.update(buffer.data(), got);
    size += got;
  }
  h.add(size);  // after the bytes: a length suffix keeps the encoding unambiguous
}

}  // namespace dagflow
