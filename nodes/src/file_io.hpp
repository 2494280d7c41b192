// Whole-file reads and atomic writes for the node library (the file ops, read_csv, read_pnm,
// write_pnm...): util's plumbing, with dagflow::Error messages that name the file as the user gave
// it, and the ops' rule on where files may be written. Thread-safe: no state of its own.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow::detail {

/// The whole regular file at `path` (symlinks followed). Throws Error "cannot read 'SHOWN':
/// REASON" when it cannot be opened or read ("No such file or directory", "Is a directory") or is
/// not a regular file (a FIFO or device could block or never end: "not a regular file").
[[nodiscard]] std::string read_file(const std::filesystem::path& path, std::string_view shown);

/// Writes `bytes` to `ctx.output_path(path)` atomically: into a temp file in the same directory
/// (created with O_EXCL | O_NOFOLLOW), then renamed over the target, so readers see the old file
/// or the new one and a symlink at the target is replaced, never followed. Missing parent
/// directories are created. Unless ctx.allow_outside, the directories are opened one by one
/// below the pipeline's directory with O_NOFOLLOW, so a symlink swapped in after the check cannot
/// redirect the write. Returns the file as a path Value (shown as `shown`). Throws the
/// CapabilityError of output_path for a path outside the pipeline's directory, and Error "cannot
/// write 'SHOWN': REASON" when writing fails.
Value write_file_atomically(const OpContext& ctx, const std::filesystem::path& path,
                            std::string_view shown, std::string_view bytes);

}  // namespace dagflow::detail
