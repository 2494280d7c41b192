// File ops: glob (a probe), read_json, write_json, write_text.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fnmatch.h>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace fs = std::filesystem;

namespace {

bool has_wildcard(std::string_view part) {
  return part.find_first_of("*?[\\") != std::string_view::npos;
}

bool is_hidden(const std::string& name) { return !name.empty() && name.front() == '.'; }

std::string join_shown(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  if (prefix.back() == '/') return prefix + name;
  return prefix + "/" + name;
}

// Matches a pattern split into components against the file system, one directory at a time.
class GlobWalker {
 public:
  GlobWalker(std::vector<std::string> parts, std::string pattern)
      : parts_(std::move(parts)), pattern_(std::move(pattern)) {}

  void walk(const fs::path& dir, const std::string& shown, std::size_t index) {
    // Several `**` reach the same directory at the same component in many ways: walking each
    // (directory, component) once keeps the walk polynomial (it was exponential in the `**`).
    if (!walked_.emplace(dir.native(), index).second) return;
    const std::string& part = parts_[index];
    const bool last = index + 1 == parts_.size();
    if (part == "**") {
      if (last) {
        add_all_files(dir, shown);
        return;
      }
      walk(dir, shown, index + 1);  // ** also matches no directory at all
      for (const auto& [name, is_real_dir] : list(dir, shown)) {
        if (is_real_dir && !is_hidden(name)) walk(dir / name, join_shown(shown, name), index);
      }
      return;
    }
    if (!has_wildcard(part)) {
      visit(dir / part, join_shown(shown, part), index, last);
      return;
    }
    for (const auto& entry : list(dir, shown)) {
      const std::string& name = entry.first;
      // FNM_PERIOD: as in a shell, a leading '.' must be matched by a '.' in the pattern.
      if (::fnmatch(part.c_str(), name.c_str(), FNM_PERIOD) == 0) {
        visit(dir / name, join_shown(shown, name), index, last);
      }
    }
  }

  // Matches sorted by their shown path, each file once.
  [[nodiscard]] std::vector<PathValue> take_results() {
    std::sort(found_.begin(), found_.end());
    found_.erase(std::unique(found_.begin(), found_.end()), found_.end());
    std::vector<PathValue> paths;
    paths.reserve(found_.size());
    for (auto& [shown, resolved] : found_) {
      paths.push_back(PathValue{std::move(resolved), std::move(shown)});
    }
    return paths;
  }

 private:
  // `path` matched component `index`: a file when it was the last one, else a directory to
  // search further. Symlinks are followed here (the pattern's depth bounds the walk).
  void visit(const fs::path& path, const std::string& shown, std::size_t index, bool last) {
    std::error_code ec;
    if (last) {
      if (fs::is_regular_file(path, ec)) found_.emplace_back(shown, path.lexically_normal());
    } else if (fs::is_directory(path, ec)) {
      walk(path, shown, index + 1);
    }
  }

  // Every regular file below `dir`, at any depth, hidden names and symlinked directories
  // skipped (a symlink loop cannot trap the walk).
  void add_all_files(const fs::path& dir, const std::string& shown) {
    if (!all_added_.insert(dir.native()).second) return;
    for (const auto& [name, is_real_dir] : list(dir, shown)) {
      if (is_hidden(name)) continue;
      const fs::path path = dir / name;
      if (is_real_dir) {
        add_all_files(path, join_shown(shown, name));
      } else {
        visit(path, join_shown(shown, name), 0, true);
      }
    }
  }

  // The names in `dir` and whether each is a directory (not a symlink to one). A directory that
  // does not exist has no entries; one that cannot be read is an error (a silently shorter list
  // would look like a complete one).
  const std::vector<std::pair<std::string, bool>>& list(const fs::path& dir,
                                                        const std::string& shown) {
    auto [it, fresh] = listings_.try_emplace(dir.native());
    if (fresh) it->second = read_dir(dir, shown);
    return it->second;
  }

  std::vector<std::pair<std::string, bool>> read_dir(const fs::path& dir,
                                                     const std::string& shown) {
    std::vector<std::pair<std::string, bool>> entries;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
        return entries;
      }
      throw Error(fmt::format("glob '{}': cannot list '{}': {}", pattern_,
                              shown.empty() ? "." : shown, ec.message()));
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      std::error_code type_ec;
      const bool is_dir = it->is_directory(type_ec) && !it->is_symlink(type_ec);
      entries.emplace_back(it->path().filename().string(), is_dir);
    }
    if (ec) {
      throw Error(fmt::format("glob '{}': cannot list '{}': {}", pattern_,
                              shown.empty() ? "." : shown, ec.message()));
    }
    return entries;
  }

  std::vector<std::string> parts_;
  std::string pattern_;
  std::vector<std::pair<std::string, fs::path>> found_;
  std::set<std::pair<std::string, std::size_t>> walked_;  // (directory, component) pairs
  std::set<std::string> all_added_;                       // directories a trailing ** took whole
  std::map<std::string, std::vector<std::pair<std::string, bool>>> listings_;  // each read once
};

// A list of paths (not a Value): the result type `dagflow ops` shows and the loader checks.
std::vector<PathValue> glob(const OpContext& ctx, const std::string& pattern, bool allow_empty) {
  if (pattern.empty()) throw Error("glob: the pattern is empty");
  if (pattern.find('\0') != std::string::npos) {
    throw Error("glob: the pattern contains a NUL byte");
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= pattern.size()) {
    std::size_t end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    if (end > start) parts.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  if (parts.empty()) throw Error("glob: the pattern '/' names no file");
  const bool absolute = pattern.front() == '/';
  const fs::path root = absolute               ? fs::path("/")
                        : ctx.base_dir.empty() ? fs::current_path()
                                               : ctx.base_dir;
  GlobWalker walker(std::move(parts), pattern);
  walker.walk(root, absolute ? "/" : "", 0);
  std::vector<PathValue> found = walker.take_results();
  // No match is almost always a typo in a path or a --set, and an empty list would flow on into
  // empty results and outputs: fail, naming where the pattern was looked for.
  if (found.empty() && !allow_empty) {
    throw Error(fmt::format(
        "glob '{}' matched no file (searched from {}); pass allow_empty: true if none is fine",
        pattern, root.string()));
  }
  return found;
}

Value read_json(const OpContext& ctx, const detail::FileArg& file) {
  const std::string text = detail::read_file(ctx, file);
  try {
    return from_json(text);
  } catch (const ValueError& e) {
    throw ValueError(fmt::format("cannot parse '{}': {}", file.shown, e.what()));
  }
}

}  // namespace

void add_file_ops(OpRegistry& ops) {
  ops.add("glob", &glob,
          "Lists the regular files matching a pattern (relative to the pipeline's directory): "
          "*, ? and [abc] match within a name, ** any number of directories; names starting with "
          "'.' match only an explicit '.'. Returns their paths sorted. No match fails the node "
          "(a typo must not flow on as an empty list) unless allow_empty is true: then [].",
          {arg("pattern"), arg("allow_empty", false)})
      .set_probe()
      .set_io();

  ops.add("read_json", &read_json,
          "Reads a JSON file (a path) and returns its value (integers as ints, other numbers as "
          "doubles).")
      .set_io();

  ops.add("write_json",
          [](const OpContext& ctx, const Value& value, const detail::FileArg& path) {
            return detail::write_file_atomically(ctx, path,
                                                 to_json(value, JsonStyle::kPretty) + "\n");
          },
          "Writes any value as pretty-printed JSON to `path` (inside the pipeline's directory, "
          "replaced atomically) and returns the file's path. Several inputs are written as one "
          "object, input node id -> value.",
          {output_path_arg("path")})
      .set_keyed_inputs()
      .set_writes_files()
      .set_io();

  ops.add("write_text",
          [](const OpContext& ctx, const std::string& text, const detail::FileArg& path) {
            return detail::write_file_atomically(ctx, path, text);
          },
          "Writes a string as it is to `path` (inside the pipeline's directory, replaced "
          "atomically) and returns the file's path.",
          {output_path_arg("path")})
      .set_writes_files()
      .set_io();
}

}  // namespace dagflow
