// What the ranks of a pipeline run across ranks (ExecutorOptions::cluster) tell each other.
//
// Every rank builds the same graph and calls compute() at the same points; what a run decides
// outside its tasks must then be the same everywhere too. Each rank sees only the task events of
// the tasks it ran (and of the cache hits it looked up), and a node's body notes what it did
// only where it ran, so after each compute the ranks exchange that news (Executor::all_gather)
// and each one merges it into the same per-node counts. What depends on the file system — the
// last run record, the state of writers' files — is read by rank 0 alone and sent to the others.
// Plain values; the encodings are deterministic, so every rank decodes the same thing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagflow/graph/hashing.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow::detail {

/// What a node's body did in a run: written by the node's one task, read after the run.
struct NodeTrace {
  bool ran = false;  // its body returned (the op ran, or cut-off served the last result)
  bool cut_off = false;
  std::vector<Hash128> input_hashes{};
  std::optional<Hash128> result{};
  std::optional<Value> written{};  // a writer's result: the paths of its files
};

/// What the task events of a run said of one node, summed over its events (across ranks, over
/// the ranks' events: a map's blocks are split among them).
struct NodeCount {
  bool seen = false;    // some event named it
  bool ran = false;     // its body ran (returned or threw) somewhere
  bool failed = false;  // it failed somewhere (after its retries)
  std::size_t items_executed = 0;
  std::size_t items_cached = 0;
  double seconds = 0;
  std::vector<Hash128> blocks{};  // a map's block entries, in item order

  /// Adds `later`'s events to these (a rank's after those of the ranks below it).
  void add(const NodeCount& later);
};

/// One rank's news after a compute: the counts of the nodes it saw events of since its last
/// news, the traces of the bodies that ran on it, and whether its run was asked to stop.
struct RankNews {
  bool cancelled = false;
  std::vector<std::pair<std::uint32_t, NodeCount>> counts{};
  std::vector<std::pair<std::uint32_t, NodeTrace>> traces{};
};

/// What every rank says before a run starts: why its Executor refused the options (empty when
/// it did not), whether its run was asked to stop; and from rank 0, the text of the last run
/// record, when it read one.
struct RunStart {
  std::string refused{};
  bool cancelled = false;
  std::optional<std::string> record{};
};

/// Rank 0's verdict on one writer's files (the file checks of a plan).
struct WriterCheck {
  std::uint32_t node = 0;
  bool refreshed = false;                // its files must be written again: it runs
  std::string problem{};                 // the file missing or changed, for reasons
  std::vector<std::uint32_t> restore{};  // its recorded outputs to restore, by position
  // Only the map blocks that made its lost files run again (their entries were erased): set
  // alone only, never across ranks, where each rank's cache would need the same erasing.
  bool blocks_only = false;
};

[[nodiscard]] std::string encode(const RankNews& news);
[[nodiscard]] std::string encode(const RunStart& start);
[[nodiscard]] std::string encode(const std::vector<WriterCheck>& checks);

// Decoding throws dagflow::Error for bytes no rank of this program encoded.
[[nodiscard]] RankNews decode_news(std::string_view bytes);
[[nodiscard]] RunStart decode_start(std::string_view bytes);
[[nodiscard]] std::vector<WriterCheck> decode_writer_checks(std::string_view bytes);

}  // namespace dagflow::detail
