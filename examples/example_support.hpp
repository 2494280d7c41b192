// What the example programs share and is not about dagflow: reading options by hand, finding
// the bundled pipelines folder, making a fresh output directory, and joining an MPI job when
// started by mpirun.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <dagflow/dagflow.hpp>
#ifdef DAGFLOW_WITH_MPI
#include <dagflow/mpi.hpp>
#endif

namespace example {

/// The ranks of an MPI job when the program was started by mpirun (and built with dagflow::mpi),
/// else this process alone. Every rank runs the whole program; only rank 0 prints results (the
/// others' stdout goes to /dev/null), so `mpirun -np 2 example` prints what `example` prints.
///
///   example::Ranks ranks(argc, argv);
///   dagflow::Executor ex({.threads = t, .cluster = ranks.cluster()});
class Ranks {
 public:
  Ranks(int& argc, char**& argv) {
#ifdef DAGFLOW_WITH_MPI
    // Only under mpirun: MPI's start without a launcher costs about a second.
    if (dagflow::mpi::Session::launched_by_mpirun()) session_.emplace(argc, argv);
    if (session_ && session_->rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) {
      std::perror("/dev/null");
    }
#else
    (void)argc;
    (void)argv;
#endif
  }

  /// For ExecutorOptions::cluster: null outside an MPI job.
  [[nodiscard]] std::shared_ptr<dagflow::Cluster> cluster() const {
#ifdef DAGFLOW_WITH_MPI
    if (session_) return session_->cluster();
#endif
    return nullptr;
  }

 private:
#ifdef DAGFLOW_WITH_MPI
  std::optional<dagflow::mpi::Session> session_;
#endif
};

/// Prints `message` and the usage text on stderr and exits with 2 (bad usage).
[[noreturn]] inline void usage_error(const char* usage, const std::string& message) {
  std::fprintf(stderr, "%s\n\n%s", message.c_str(), usage);
  std::exit(2);
}

/// The text after the option argv[i] (advancing i past it); a missing one is a usage error.
inline std::string text_option(int argc, char** argv, int& i, const char* usage) {
  if (i + 1 >= argc) usage_error(usage, std::string("missing value after ") + argv[i]);
  return argv[++i];
}

/// The integer after the option argv[i] (advancing i past it), which must lie in [min, max].
inline std::int64_t int_option(int argc, char** argv, int& i, std::int64_t min, std::int64_t max,
                               const char* usage) {
  const std::string option = argv[i];
  const std::string text = text_option(argc, argv, i, usage);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    usage_error(usage, option + " wants an integer from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", got '" + text + "'");
  }
  return value;
}

/// For the examples with no options of their own: reads --help (prints `usage`, exits 0) and
/// --threads N, and, when `positional` is given, at most one further argument into it. Anything
/// else is a usage error. Returns the thread count (0: all cores).
inline std::size_t common_options(int argc, char** argv, const char* usage,
                                  std::string* positional = nullptr) {
  std::int64_t threads = 0;
  bool have_positional = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", usage);
      std::exit(0);
    } else if (a == "--threads") {
      threads = int_option(argc, argv, i, 0, 1024, usage);
    } else if (positional != nullptr && !have_positional && !a.starts_with("-")) {
      *positional = a;
      have_positional = true;
    } else {
      usage_error(usage, "unknown argument '" + std::string(a) + "'");
    }
  }
  return static_cast<std::size_t>(threads);
}

/// The regular files in `dir` whose names end in `suffix`, sorted, hidden ones (.name) left out:
/// what a pipeline's glob of "DIR/*SUFFIX" lists. Throws std::filesystem::filesystem_error.
inline std::vector<std::string> files_in(const std::filesystem::path& dir,
                                         std::string_view suffix) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.ends_with(suffix) && !name.starts_with(".")) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// The bundled examples/pipelines folder: the installed copy next to the installed program
/// (DAGFLOW_INSTALLED_PIPELINES is relative to the program's directory), else the source tree's
/// (DAGFLOW_PIPELINES_DIR). Empty when neither exists.
inline std::filesystem::path pipelines_dir() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed =
        (self.parent_path() / DAGFLOW_INSTALLED_PIPELINES).lexically_normal();
    if (std::filesystem::is_directory(installed, ec)) return installed;
  }
  if (std::filesystem::is_directory(DAGFLOW_PIPELINES_DIR, ec)) return DAGFLOW_PIPELINES_DIR;
  return {};
}

/// A new, empty directory dagflow-NAME-XXXXXX under the system temp dir, announced on stderr
/// (kept afterwards: it holds what the example wrote). Exits with 1 when it cannot be made.
inline std::filesystem::path fresh_output_dir(const std::string& name) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("dagflow-" + name + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror(("cannot create a directory like " + pattern).c_str());
    std::exit(1);
  }
  std::fprintf(stderr, "writing to %s\n", pattern.c_str());
  return pattern;
}

}  // namespace example
