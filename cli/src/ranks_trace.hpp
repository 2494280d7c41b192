// Every rank's Chrome trace as one file (`mpirun -np N dagflow run FILE --trace PATH`): a
// process per rank, named "rank N", each with its worker threads, so that Perfetto or
// chrome://tracing shows the ranks one above the other.
#pragma once

#include <string>
#include <vector>

namespace dagflow::cli {

/// Merges TraceRecorder::chrome_trace() texts, by rank, into one trace-event JSON file: each
/// rank's events in process (pid) rank + 1, with process name and sort-order metadata. Each
/// rank's times count from its own first run: ranks start their runs together, so lanes line
/// up to within the time it takes to start. Throws dagflow::ValueError for a text that is not
/// such a trace.
[[nodiscard]] std::string chrome_trace_of_ranks(const std::vector<std::string>& traces);

}  // namespace dagflow::cli
