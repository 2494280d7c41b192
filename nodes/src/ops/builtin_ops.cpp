// OpRegistry::builtins and the helpers the built-in ops share (builtin_ops.hpp).
#include "builtin_ops.hpp"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/util/posix_io.hpp>

namespace dagflow {

namespace fs = std::filesystem;

OpRegistry OpRegistry::builtins() {
  // Built once: copying a registry only shares its functions.
  static const OpRegistry kBuiltins = [] {
    OpRegistry ops;
    add_text_ops(ops);
    add_number_ops(ops);
    add_file_ops(ops);
    add_csv_ops(ops);
    add_image_ops(ops);
    add_shell_ops(ops);
    return ops;
  }();
  return kBuiltins;
}

detail::FileArg ValueConvert<detail::FileArg>::from(const Value& v) {
  if (v.kind() == ValueKind::kPath) {
    const PathValue& p = v.as_path();
    return {p.resolved, p.shown.empty() ? p.resolved.string() : p.shown};
  }
  if (v.kind() == ValueKind::kString) return {fs::path(v.as_string()), v.as_string()};
  detail::throw_wrong_kind(type_name(), v);
}

detail::TextOrFile ValueConvert<detail::TextOrFile>::from(const Value& v) {
  if (!accepts(v)) detail::throw_wrong_kind(type_name(), v);
  return {v};
}

detail::Number ValueConvert<detail::Number>::from(const Value& v) {
  if (!v.is_number()) detail::throw_wrong_kind(type_name(), v);
  return {v};
}

namespace detail {

namespace {

// Owns a file descriptor.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// Process-wide, so that two writers in one process never pick the same temp name.
std::atomic<std::uint64_t> g_temp_counter{0};

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
    if (next.get() < 0) {
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
    if (root_fd.get() < 0) {
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
  if (fd.get() < 0) {
    throw_write_error(shown,
                      fmt::format("cannot open directory {}: {}", dir.string(), errno_text(errno)));
  }
  return fd;
}

}  // namespace

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string read_file(const OpContext& ctx, const FileArg& file) {
  if (has_nul(file.path)) {
    throw Error(fmt::format("cannot read '{}': the path contains a NUL byte", file.shown));
  }
  const fs::path resolved = ctx.input_path(file.path);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
  UniqueFd fd(::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    throw Error(fmt::format("cannot read '{}': {}", file.shown, errno_text(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw Error(fmt::format("cannot read '{}': {}", file.shown, errno_text(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    throw Error(fmt::format("cannot read '{}': {}", file.shown, errno_text(EISDIR)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(fmt::format("cannot read '{}': not a regular file", file.shown));
  }
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw Error(fmt::format("cannot read '{}': {}", file.shown, errno_text(errno)));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  return bytes;
}

Value write_file_atomically(const OpContext& ctx, const FileArg& file, std::string_view bytes) {
  const fs::path target = ctx.output_path(file.path);  // throws when refused
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw_write_error(file.shown, "the path names a directory, not a file");
  }
  const UniqueFd dir = open_parent_dir(ctx, target, file.shown);

  // A name of our own, not derived from `name`, so it never exceeds NAME_MAX.
  const std::string temp = fmt::format(".dagflow-tmp-{}-{}", ::getpid(), g_temp_counter++);
  UniqueFd out(::openat(dir.get(), temp.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
  if (out.get() < 0) throw_write_error(file.shown, errno_text(errno));
  const auto fail = [&](int err) {
    ::unlinkat(dir.get(), temp.c_str(), 0);
    throw_write_error(file.shown, errno_text(err));
  };
  if (!util::write_all(out.get(), bytes)) fail(errno);
  if (::close(out.release()) != 0) fail(errno);
  // rename replaces a symlink at the target instead of following it.
  if (::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) != 0) fail(errno);
  return Value::path(target, file.shown);
}

}  // namespace detail

}  // namespace dagflow
