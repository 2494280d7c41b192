#include "file_io.hpp"

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/util/atomic_write.hpp>
#include <dagflow/util/file_read.hpp>
#include <dagflow/util/posix_io.hpp>
#include <dagflow/util/unique_fd.hpp>

namespace dagflow::detail {

namespace {

namespace fs = std::filesystem;
using util::errno_text;
using util::UniqueFd;

bool has_nul(const fs::path& p) { return p.native().find('\0') != std::string::npos; }

[[noreturn]] void throw_write_error(std::string_view shown, std::string_view reason) {
  throw Error(fmt::format("cannot write '{}': {}", shown, reason));
}

// Opens the directory `rel` below the already open `root_fd`, one component at a time with
// O_NOFOLLOW, creating what is missing: no symlink, even one created after the path was checked,
// can lead the walk out of the root.
UniqueFd open_dir_below(UniqueFd root_fd, const fs::path& rel, std::string_view shown) {
  UniqueFd fd = std::move(root_fd);
  for (const fs::path& component : rel) {
    const std::string& name = component.native();
    if (name.empty() || name == ".") continue;
    if (name == "..") throw_write_error(shown, "the path leaves its directory");
    if (::mkdirat(fd.get(), name.c_str(), 0777) != 0 && errno != EEXIST) {
      throw_write_error(shown,
                        fmt::format("cannot create directory '{}': {}", name, errno_text(errno)));
    }
    UniqueFd next(
        ::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      throw_write_error(shown,
                        fmt::format("cannot open directory '{}': {}", name, errno_text(errno)));
    }
    fd = std::move(next);
  }
  return fd;
}

// The directory that will hold the file `target` (which OpContext::output_path returned), open.
UniqueFd open_parent_dir(const OpContext& ctx, const fs::path& target, std::string_view shown) {
  const fs::path dir = target.parent_path();
  std::error_code ec;
  const fs::path root =
      fs::weakly_canonical(ctx.base_dir.empty() ? fs::current_path() : ctx.base_dir, ec);
  const fs::path rel = ec ? fs::path() : dir.lexically_relative(root);
  const bool inside = !ec && !rel.empty() && *rel.begin() != ".." && rel.is_relative();
  if (inside) {
    UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) {
      throw_write_error(shown, fmt::format("cannot open the pipeline directory {}: {}",
                                           root.string(), errno_text(errno)));
    }
    return open_dir_below(std::move(root_fd), rel, shown);
  }
  // Only reachable with allow_outside (output_path refuses the rest): the user chose to trust
  // these directories, symlinks included.
  fs::create_directories(dir, ec);
  if (ec) {
    throw_write_error(shown,
                      fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    throw_write_error(shown,
                      fmt::format("cannot open directory {}: {}", dir.string(), errno_text(errno)));
  }
  return fd;
}

// A run killed while writing leaves temp files beside the outputs. Each directory written to is
// swept of those whose writer has died, once per process (a directory of a thousand outputs is
// not listed a thousand times). A directory is known by its device, inode and birth time: a
// directory removed and made again often gets the same inode, and is a new one to sweep.
void sweep_dead_temps(int dir_fd) {
  struct statx st {};
  if (::statx(dir_fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &st) != 0) return;
  const bool born = (st.stx_mask & STATX_BTIME) != 0;  // not every file system records it
  const auto key = std::make_tuple(st.stx_dev_major, st.stx_dev_minor, st.stx_ino,
                                   born ? st.stx_btime.tv_sec : 0, born ? st.stx_btime.tv_nsec : 0);
  static std::mutex mutex;
  static std::set<std::remove_const_t<decltype(key)>> swept;
  {
    const std::lock_guard lock(mutex);
    if (!swept.insert(key).second) return;
  }
  (void)util::remove_dead_writers_temps(dir_fd, util::AtomicWriteOptions{}.temp_prefix);
}

}  // namespace

std::string read_file(const fs::path& path, std::string_view shown) {
  if (has_nul(path)) {
    throw Error(fmt::format("cannot read '{}': the path contains a NUL byte", shown));
  }
  try {
    return util::read_regular_file(path);
  } catch (const util::ReadFileError& e) {
    // The errno's words where there is one ("Is a directory" for a directory), as `cat` says it.
    const std::string reason = e.error() != 0 ? errno_text(e.error()) : "not a regular file";
    throw Error(fmt::format("cannot read '{}': {}", shown, reason));
  }
}

Value write_file_atomically(const OpContext& ctx, const fs::path& path, std::string_view shown,
                            std::string_view bytes) {
  const fs::path target = ctx.output_path(path);  // throws when refused
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw_write_error(shown, "the path names a directory, not a file");
  }
  const UniqueFd dir = open_parent_dir(ctx, target, shown);
  sweep_dead_temps(dir.get());
  try {
    util::write_file_atomically_at(dir.get(), name, bytes);
  } catch (const std::system_error& e) {
    throw_write_error(shown, e.code().message());
  }
  return Value::path(target, std::string(shown));
}

}  // namespace dagflow::detail
