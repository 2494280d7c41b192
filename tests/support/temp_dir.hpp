// TempDir: a fresh private directory for one test, removed with everything in it at scope exit.
// Not thread-safe to share while it is being destroyed; otherwise a plain value of a path.
#pragma once

#include <filesystem>
#include <string_view>

namespace dagflow::test {

/// A new directory of its own under the system temp directory (mode 0700, a unique name
/// "dagflow-test-XXXXXX"), known by its canonical path (no symlink in it, so tests may compare
/// paths that the code under test resolves). The destructor removes it and its contents.
/// Throws std::system_error when it cannot be created.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// Writes `bytes` to the file `name` below the directory (see write_file) and returns its
  /// full path.
  std::filesystem::path write(const std::filesystem::path& name, std::string_view bytes) const;

 private:
  std::filesystem::path path_;
};

}  // namespace dagflow::test
