// What `dagflow run` tells people after a run, on stderr: a one-line summary and a table of the
// time spent per op.
#pragma once

#include <string>

#include <dagflow/pipeline/pipeline.hpp>

namespace dagflow::cli {

/// One line: "wordcount: 4 nodes, 1 executed, 1 cached, 2 not needed (items: 0 executed, 20
/// cached) in 0.02 s". Skipped nodes were not needed: what they feed came from the cache. After
/// a run that failed or was interrupted, ", 1 failed, 2 not run" follow the cached count. Items
/// are shown only when the pipeline maps an op over a list. No trailing newline.
[[nodiscard]] std::string summary_line(const Pipeline& pipeline, const PipelineResult& result);

/// A table with a row per op, in the order the ops first appear in the pipeline, each line
/// ending in '\n':
///   op            nodes  executed  cached     time  share
///   glob              1         1       0  0.001 s     2%
///   word_count        1         1       0  0.034 s    71%
/// `time` is the time spent in the op's node bodies (summed over workers for a map, so shares
/// may add up to more than 100%); `share` is that time over the run's wall time.
[[nodiscard]] std::string op_table(const PipelineResult& result);

/// Across ranks (PipelineStats::ranks), a line per rank, each ending in '\n':
///   rank 0: 12 tasks executed, 500000 map items, 1.52 s busy
/// ("busy" is the CPU time the rank's process used during the run); "" otherwise.
[[nodiscard]] std::string rank_lines(const PipelineResult& result);

}  // namespace dagflow::cli
