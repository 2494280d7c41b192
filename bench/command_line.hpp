// The command-line checks the benchmarks share: a usage error that exits with 2, positive integers
// and comma-separated lists of them, the default temp dir. Stateless apart from the program's name
// and usage printer.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

/// One benchmark's command line: `program` names it in messages, `usage` prints its usage.
struct CommandLine {
  const char* program;
  void (*usage)(std::FILE*);

  /// Prints "PROGRAM: WHAT ARG" and the usage on stderr, and exits with 2.
  [[noreturn]] void error(const char* what, const char* arg) const {
    std::fprintf(stderr, "%s: %s%s\n", program, what, arg);
    usage(stderr);
    std::exit(2);
  }

  /// The value after the flag argv[i], advancing i to it; error() "missing value after FLAG" when
  /// argv[i] is the last argument.
  const char* value(int argc, char** argv, int& i) const {
    if (i + 1 >= argc) error("missing value after ", argv[i]);
    return argv[++i];
  }

  /// `text` as an integer > 0, else error() "needs a positive integer: FLAG".
  [[nodiscard]] std::uint64_t positive(const char* flag, const std::string& text) const {
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || value == 0 || errno != 0 || text[0] == '-')
      error("needs a positive integer: ", flag);
    return value;
  }

  /// "A,B,C" as positive() integers, in order.
  [[nodiscard]] std::vector<std::uint64_t> positive_list(const char* flag,
                                                         const std::string& text) const {
    std::vector<std::uint64_t> values;
    for (std::size_t at = 0; at <= text.size();) {
      std::size_t comma = text.find(',', at);
      if (comma == std::string::npos) comma = text.size();
      values.push_back(positive(flag, text.substr(at, comma - at)));
      at = comma + 1;
    }
    return values;
  }
};

/// Where a benchmark makes its temp dir unless told: $TMPDIR, else /tmp.
inline std::filesystem::path temp_parent() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

}  // namespace bench
