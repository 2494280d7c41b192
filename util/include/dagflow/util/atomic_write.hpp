// Replacing a file atomically: the bytes go to a new temp file beside it, which is then renamed
// over it, so a reader (or a crash) sees the old file or the whole new one, never a part. Shared
// by the disk cache's entries and the ops' output files; which directories may be written is the
// caller's policy. Thread-safe: concurrent writers never share a temp file.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace dagflow::util {

/// How write_file_atomically_at names and creates its temp file.
struct AtomicWriteOptions {
  /// The new file's permissions before the umask. Default 0666: what the umask leaves, as for
  /// any new file; the disk cache asks for 0600.
  mode_t mode = 0666;
  /// The temp file is named "<temp_prefix><pid>-<counter>" (never derived from the target's
  /// name, so it cannot exceed NAME_MAX unless the prefix does). A caller that removes the temp
  /// files of dead writers recognises its own by this prefix.
  std::string_view temp_prefix = ".dagflow-tmp-";
  /// Default false. True: fsync the temp file before the rename and the directory after it, so
  /// the new file survives a power loss or an OS crash once the call returns (two disk flushes).
  bool durable = false;
};

/// Writes `parts`, one after another, as the file `name` in the directory open as `dir_fd`:
/// into a temp file created there with O_CREAT | O_EXCL | O_NOFOLLOW (under a new name when one
/// is taken, a few times), then renamed over `name`, which replaces a symlink at `name` rather
/// than following it. Without options.durable there is no fsync: the rename happens after the last
/// write, so a killed process leaves the old file or the new one, but after a power loss the
/// new name may hold missing data. On failure the temp file is removed and std::system_error is
/// thrown: code() is the errno and what() names the step, "creating a temp file failed",
/// "writing failed", "syncing the temp file failed", "closing failed", "renaming the temp file
/// into place failed" or "syncing the directory failed", then ": " and the errno's text. When
/// only the directory's fsync fails, the new file is in place already (as a non-durable write
/// leaves it) and still counts as a failure.
void write_file_atomically_at(int dir_fd, const std::string& name,
                              std::span<const std::string_view> parts,
                              const AtomicWriteOptions& options = {});

/// write_file_atomically_at with one part.
void write_file_atomically_at(int dir_fd, const std::string& name, std::string_view bytes,
                              const AtomicWriteOptions& options = {});

/// The process that created the temp file `name`, named "<prefix><pid>-<counter>" by
/// write_file_atomically_at; 0 when `name` is not such a name (never 0 or a negative pid, which
/// kill() would take for a process group).
[[nodiscard]] pid_t temp_file_writer(std::string_view name, std::string_view prefix);

/// True when no process `pid` exists any more (kill() says ESRCH; EPERM means it is alive).
[[nodiscard]] bool writer_has_died(pid_t pid);

/// Removes the temp files "<prefix><pid>-<counter>" from the directory open as `dir_fd` whose
/// writer has died (a run killed while writing leaves them); those of live writers, this
/// process's included, stay. Returns how many it removed.
std::size_t remove_dead_writers_temps(int dir_fd, std::string_view prefix);

}  // namespace dagflow::util
