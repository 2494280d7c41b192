#include "graphviz.hpp"

#include <cstdlib>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <fmt/format.h>

#include <dagflow/util/process.hpp>

#include "commands.hpp"

namespace dagflow::cli {

namespace fs = std::filesystem;

fs::path find_on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  const std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    std::size_t end = dirs.find(':', begin);
    if (end == std::string_view::npos) end = dirs.size();
    const std::string_view dir = dirs.substr(begin, end - begin);
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    begin = end + 1;
  }
  return {};
}

fs::path find_graphviz_dot() {
  fs::path program = find_on_path("dot");
  if (program.empty()) {
    throw CommandError("graphviz 'dot' not found: install graphviz or use --format dot");
  }
  return program;
}

std::string dot_to_svg(const fs::path& program, std::string_view dot_text) {
  util::ProcessResult result;
  try {
    // dot's own messages go straight to our stderr.
    result = util::run_process(
        {.argv = {"dot", "-Tsvg"}, .program = program, .input = dot_text, .capture_stderr = false});
  } catch (const util::SpawnError& e) {
    throw CommandError(
        fmt::format("graphviz 'dot': cannot start '{}': {}", program.string(), e.code().message()));
  } catch (const std::system_error& e) {
    throw CommandError(fmt::format("graphviz 'dot': {}", e.what()));
  }
  if (result.exit_code != 0) {
    throw CommandError(fmt::format("graphviz '{}' failed ({})", program.string(),
                                   result.signal == 0
                                       ? fmt::format("exit status {}", result.exit_code)
                                       : fmt::format("killed by signal {}", result.signal)));
  }
  return std::move(result.out);
}

}  // namespace dagflow::cli
