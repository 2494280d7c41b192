// OpContext: where an op's relative paths lead, and which files it may write: none outside the
// pipeline's directory unless the run allows it, however the path tries to get out.
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/op_registry.hpp>

#include "file_io.hpp"

namespace dagflow {

namespace fs = std::filesystem;

namespace {

// Longer paths are refused before the file system sees them (PATH_MAX is 4096 with the NUL).
constexpr std::size_t kMaxOutputPathBytes = 4000;

// The names of `p`'s components, without the empty one a trailing '/' adds.
std::vector<std::string> components(const fs::path& p) {
  std::vector<std::string> names;
  for (const fs::path& c : p) {
    if (!c.empty()) names.push_back(c.native());
  }
  return names;
}

// Whether `target` is `root` or below it, component by component (/a/bc is not inside /a/b).
// Both must be canonical: no "." or ".." and no symlinks left.
bool is_within(const fs::path& target, const fs::path& root) {
  const std::vector<std::string> root_names = components(root);
  const std::vector<std::string> target_names = components(target);
  if (target_names.size() < root_names.size()) return false;
  for (std::size_t i = 0; i < root_names.size(); ++i) {
    if (root_names[i] != target_names[i]) return false;
  }
  return true;
}

fs::path base_of(const OpContext& ctx) {
  return ctx.base_dir.empty() ? fs::current_path() : ctx.base_dir;
}

}  // namespace

fs::path OpContext::input_path(const fs::path& path) const {
  if (path.is_absolute()) return path;
  return (base_dir / path).lexically_normal();
}

fs::path OpContext::output_path(const fs::path& path) const {
  const std::string& text = path.native();
  if (text.empty()) throw Error("output path is empty");
  if (text.find('\0') != std::string::npos) {
    throw Error("output path contains a NUL byte");
  }
  if (text.size() > kMaxOutputPathBytes) {
    throw Error(fmt::format("output path is too long ({} bytes; the limit is {})", text.size(),
                            kMaxOutputPathBytes));
  }
  const fs::path base = base_of(*this);
  std::error_code ec;
  // weakly_canonical resolves every symlink in the part that exists and normalises the rest
  // lexically: a symlinked directory pointing elsewhere shows up as what it points to.
  const fs::path root = fs::weakly_canonical(base, ec);
  if (ec) {
    throw Error(
        fmt::format("cannot resolve the pipeline directory {}: {}", base.string(), ec.message()));
  }
  fs::path target = fs::weakly_canonical(path.is_absolute() ? path : base / path, ec);
  if (ec) throw Error(fmt::format("cannot resolve output path '{}': {}", text, ec.message()));
  if (!allow_outside && !is_within(target, root)) {
    throw CapabilityError(
        Capability::kWriteOutside,
        fmt::format("output path '{}' is outside the pipeline directory {}", text, root.string()));
  }
  return target;
}

std::string_view refusal_text(Capability capability) noexcept {
  switch (capability) {
    case Capability::kWriteOutside:
      return "writing outside the pipeline's directory is not allowed";
    case Capability::kRunCommands:
      return "running commands is not allowed";
    case Capability::kLoadPlugins:
      return "loading plugins is not allowed";
  }
  return "not allowed";
}

CapabilityError::CapabilityError(Capability refused, std::string_view context)
    : Error(fmt::format("{}: {}", context, refusal_text(refused))), refused_(refused) {}

Value OpContext::write_file(const fs::path& path, std::string_view bytes,
                            std::string_view shown) const {
  const std::string given = path.string();
  return detail::write_file_atomically(*this, path, shown.empty() ? given : shown, bytes);
}

}  // namespace dagflow
