// One run (or dry run) of a pipeline: the spec turned into a Graph, planned against the last run's
// record, executed, and recorded. Pipeline::run and Pipeline::dry_run are its front.
#pragma once

#include <dagflow/pipeline/pipeline.hpp>

namespace dagflow::detail {

/// The absolute path that names the pipeline's record (the file's directory and name).
[[nodiscard]] std::filesystem::path pipeline_file_of(const PipelineSpec& spec);

/// Runs (or, with `dry`, plans) `spec` as Pipeline::run and Pipeline::dry_run document.
[[nodiscard]] PipelineResult execute_pipeline(const PipelineSpec& spec, const OpRegistry& ops,
                                              const LoadOptions& load, ExecutorOptions options,
                                              const RunRequest& request, bool dry);

}  // namespace dagflow::detail
