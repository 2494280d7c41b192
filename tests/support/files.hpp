// Whole-file reads and writes for tests, binary and exact: what a test writes is byte for byte
// what the code under test reads, and the other way round. Thread-safe (no shared state).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace dagflow::test {

/// Replaces the contents of the file at `path` with `bytes` (creating the file and any missing
/// parent directories). Throws std::runtime_error naming the path when it cannot.
void write_file(const std::filesystem::path& path, std::string_view bytes);

/// The whole file at `path`, byte for byte. Throws std::runtime_error naming the path when it
/// cannot be opened or read.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace dagflow::test
