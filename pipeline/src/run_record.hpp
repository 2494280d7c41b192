// RunRecord: what the last run of one pipeline did, node by node — the memory that lets a re-run
// explain itself (reasons), keep writers' files untouched or restore them (tracked outputs), stop
// at a re-run node whose result did not change (early cut-off), and clear one pipeline's entries
// from a cache shared with others.
//
// One small JSON file per pipeline in `<cache dir>/records/`, named by a hash of the pipeline
// file's absolute path, replaced atomically at the end of every run (a failed one too, for what
// finished): concurrent runs of one pipeline leave the last writer's record, never a torn one.
// A record that cannot be read is treated as absent (everything then looks new: it costs re-runs,
// never a stale result). Not thread-safe: one run owns its RunRecord.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagflow/graph/hashing.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow::detail {

/// A file a writer node wrote, as it was when the run ended.
struct RecordedOutput {
  std::filesystem::path path;  // absolute
  std::string shown;           // as the pipeline names it ("out/top.json")
  Hash128 hash{};              // of its bytes
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // size and mtime unchanged: the bytes are taken as unchanged
  /// The cache entry holding the bytes (to restore the file), unless the op opts out.
  std::optional<Hash128> bytes_key{};
  /// A map's file without kept bytes: the entry of the block whose item made it, so that when
  /// the file is lost only that block runs again (maps of up to 1024 items: one item a block).
  std::optional<Hash128> block{};
};

/// One node's last run.
struct RecordedNode {
  std::string op;
  std::uint32_t version = 0;
  Value::Map args{};
  /// Its content key (the cache entry of its result), when it had one.
  std::optional<Hash128> key{};
  /// Each input's id and key then (for reasons).
  std::vector<std::pair<std::string, std::optional<Hash128>>> inputs{};
  /// The content of each input value its body read, and of its result (for early cut-off).
  std::vector<Hash128> input_hashes{};
  std::optional<Hash128> result{};
  /// A map over a known list: each element as shown and its content hash (for reasons).
  std::vector<std::pair<std::string, Hash128>> items{};
  /// A map: the keys of its per-block entries.
  std::vector<Hash128> blocks{};
  /// A writer: the files it wrote.
  std::vector<RecordedOutput> outputs{};

  /// The cache entries it names: its result, its blocks, its files' kept bytes.
  [[nodiscard]] std::vector<Hash128> entries() const;
};

struct RunRecord {
  std::string pipeline;  // the pipeline file's absolute path
  std::map<std::string, RecordedNode, std::less<>> nodes{};

  /// Every cache entry the record names (RecordedNode::entries of each node).
  [[nodiscard]] std::vector<Hash128> entries() const;
};

/// `<cache_dir>/records`.
[[nodiscard]] std::filesystem::path records_dir(const std::filesystem::path& cache_dir);
/// The record file of the pipeline at `pipeline_file` (absolute) in `cache_dir`.
[[nodiscard]] std::filesystem::path record_path(const std::filesystem::path& cache_dir,
                                                const std::filesystem::path& pipeline_file);

/// The record at `path`; nullopt when there is none or it does not parse (then `problem` says
/// why, for a warning; it stays empty for a missing file).
[[nodiscard]] std::optional<RunRecord> read_record(const std::filesystem::path& path,
                                                   std::string& problem);
/// The text of the record at `path`, unparsed (one rank reads it for all, see across_ranks.hpp);
/// nullopt when there is none or it cannot be read (then `problem` says why; it stays empty for
/// a missing file).
[[nodiscard]] std::optional<std::string> read_record_text(const std::filesystem::path& path,
                                                          std::string& problem);
/// A record's text parsed; nullopt when it does not parse (`problem` says why).
[[nodiscard]] std::optional<RunRecord> parse_record(std::string_view text, std::string& problem);
/// Every readable record in `cache_dir`.
[[nodiscard]] std::vector<RunRecord> read_all_records(const std::filesystem::path& cache_dir);
/// Replaces the record file atomically (mode 0600; the records directory is created 0700),
/// first removing the temp files that writers killed mid-write left in that directory.
/// `durable`: synced before it counts as written, as disk-cache entries are under
/// ExecutorOptions::durable_cache. Throws std::system_error when it cannot be written.
void write_record(const std::filesystem::path& path, const RunRecord& record, bool durable = false);

/// The hex form back into a hash; nullopt unless 32 hex digits.
[[nodiscard]] std::optional<Hash128> hash_from_hex(std::string_view hex);

}  // namespace dagflow::detail
