// What the benchmarks that measure in child processes share: waiting for a child with its CPU
// time and peak RSS (wait4's rusage), a temp dir removed at the end, and the small helpers of
// their tables (printf-style strings, yes/no, the machine's load). Nothing here keeps state
// between calls; a TempDir belongs to the one thread that made it.
#pragma once

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace bench {

/// Every size and RSS the benchmarks print is in MB of 10^6 bytes.
constexpr double kMB = 1e6;

/// User + system seconds in `usage` (all the process's threads).
inline double cpu_seconds(const rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

/// How a child process ended and what it used.
struct ChildExit {
  int status = 0;          // as waitpid() gives it
  double cpu_seconds = 0;  // user + system over the child's whole life, every thread
  double peak_mb = 0;      // ru_maxrss: the high-water mark of its resident set, in MB
  [[nodiscard]] bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

/// Waits for the child `pid` (retrying on EINTR) and returns its status and resource usage.
///
/// The peak is the child's ru_maxrss as wait4() returns it: the kernel's high-water mark of the
/// child's resident set, kept across its whole life, threads included, read after it exited, so
/// nothing it does after measuring can be missed. A forked child (no exec) starts with the pages
/// it shares with its parent counted as its own, so such a parent must stay small; an exec'd
/// child starts afresh. Throws std::runtime_error when wait4 fails.
inline ChildExit wait_for_child(pid_t pid) {
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error("wait4 failed");
  }
  ChildExit exit;
  exit.status = status;
  exit.cpu_seconds = cpu_seconds(usage);
  exit.peak_mb = static_cast<double>(usage.ru_maxrss) * 1024.0 / kMB;  // ru_maxrss is in KiB
  return exit;
}

/// printf into a std::string (up to 511 characters: the cells of a table).
__attribute__((format(printf, 1, 2))) inline std::string format(const char* pattern, ...) {
  char buffer[512];
  std::va_list args;
  va_start(args, pattern);
  std::vsnprintf(buffer, sizeof buffer, pattern, args);
  va_end(args);
  return buffer;
}

/// "yes", or "**no**" in bold so that a missed target stands out in the Markdown table.
inline const char* yes_no(bool b) { return b ? "yes" : "**no**"; }

/// Prints the load average on stdout: other processes' load skews every column alike but adds
/// noise, so each table says how busy the machine was.
inline void print_load() {
  std::FILE* file = std::fopen("/proc/loadavg", "r");
  if (file == nullptr) return;
  double one = 0, five = 0, fifteen = 0;
  if (std::fscanf(file, "%lf %lf %lf", &one, &five, &fifteen) == 3)
    std::printf("load average at the end (1, 5, 15 min): %.2f %.2f %.2f\n", one, five, fifteen);
  std::fclose(file);
}

/// A new directory `<parent>/<prefix>XXXXXX`, removed with everything in it however the program
/// ends (but a signal). Throws std::runtime_error when it cannot be made.
class TempDir {
 public:
  TempDir(const std::filesystem::path& parent, const std::string& prefix) {
    std::string pattern = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot make a temp dir in " + parent.string());
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace bench
