// A pipeline's share of a cache directory, as its run record names it: what `dagflow cache
// stats|list|clear FILE` show and do. Cache entries are content-addressed and shared (identical
// work of two pipelines is done and kept once), so one pipeline's entries are the ones its record
// names, and clearing them spares those another pipeline's record names too.
//
//   auto cache = dagflow::DiskCache::open(dagflow::default_cache_dir_in(dir));
//   dagflow::PipelineCacheUse use = dagflow::pipeline_cache_use(*cache, "/abs/wordcount.yaml");
//   dagflow::clear_pipeline_cache(*cache, "/abs/wordcount.yaml");
//
// Both work from the record alone: a pipeline that no longer loads can still be cleared.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <dagflow/engine/disk_cache.hpp>

namespace dagflow {

/// One node of the record.
struct RecordedNodeUse {
  std::string id;
  std::string op;
  /// Its result's entry is in the cache.
  bool cached = false;
  /// Its entries present in the cache: its result, a map's blocks, a writer's kept file bytes.
  CacheStats entries{};
};

/// What a pipeline's record names in a cache.
struct PipelineCacheUse {
  /// The record file (Pipeline::record_file).
  std::filesystem::path record{};
  /// The record exists and reads; when false, nothing else is filled.
  bool recorded = false;
  /// Its nodes, by id.
  std::vector<RecordedNodeUse> nodes{};
  /// The entries it names that are present (each counted once).
  CacheStats entries{};
  /// Of those, the ones another pipeline's record names too (clear spares them).
  CacheStats shared{};
};

/// The absolute path that identifies a pipeline file's record (lexically normalised).
[[nodiscard]] std::filesystem::path pipeline_record_name(const std::filesystem::path& file);

/// What the record of `pipeline_file` (as pipeline_record_name gives it) names in `cache`.
[[nodiscard]] PipelineCacheUse pipeline_cache_use(const DiskCache& cache,
                                                  const std::filesystem::path& pipeline_file);

/// Removes the entries the record of `pipeline_file` names that no other pipeline's record in
/// `cache` names, then the record itself; returns what it removed (entries and bytes).
CacheStats clear_pipeline_cache(DiskCache& cache, const std::filesystem::path& pipeline_file);

}  // namespace dagflow
