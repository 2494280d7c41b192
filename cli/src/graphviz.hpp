// Graphviz for `dagflow graph --format svg`: finds `dot` on PATH and pipes DOT text through
// `dot -Tsvg` (no shell involved).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace dagflow::cli {

/// Where a command named `program` would be found on PATH (as execvp searches it: the first
/// executable regular file in PATH's directories, an empty entry meaning the working directory;
/// "/usr/bin:/bin" when PATH is unset), or an empty path when there is none.
[[nodiscard]] std::filesystem::path find_on_path(std::string_view program);

/// Graphviz's `dot` found on PATH. Throws CommandError "graphviz 'dot' not found: install
/// graphviz or use --format dot" when there is none.
[[nodiscard]] std::filesystem::path find_graphviz_dot();

/// `dot_text` rendered as SVG by `program -Tsvg` (`program` from find_graphviz_dot()), fed
/// through a pipe; dot's own messages go to stderr. Throws CommandError when it cannot be
/// started or fails.
[[nodiscard]] std::string dot_to_svg(const std::filesystem::path& program,
                                     std::string_view dot_text);

}  // namespace dagflow::cli
