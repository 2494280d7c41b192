// The adaptive chunked loop behind map and reduce. Not API.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagflow/graph/hashing.hpp>

namespace dagflow::detail {

/// Thrown (internally) when item `index` of a chunked loop failed with `error`; the Executor turns
/// it into a TaskError that names the item.
class ItemFailure : public std::runtime_error {
 public:
  ItemFailure(std::size_t index, std::exception_ptr error);
  std::size_t index;
  std::exception_ptr error;
};

/// Rethrows the exception in flight as an ItemFailure for `index`. Call from a catch block.
[[noreturn]] void throw_item_failure(std::size_t index);

/// Calls body(context, begin, end) over disjoint ranges covering [0, n), in parallel on the
/// current arena. `fixed_chunk` = 0 picks chunk sizes adaptively from measured chunk times;
/// otherwise every chunk has that many items (the last may be shorter). Ranges only ever change
/// how work is scheduled, never what is computed. If a body throws, no new chunk starts and the
/// failure with the lowest item index is rethrown here once all running chunks have finished.
void run_chunked(std::size_t n, std::size_t fixed_chunk,
                 void (*body)(void* context, std::size_t begin, std::size_t end), void* context);

/// run_chunked with any callable `f(begin, end)`.
template <class F>
void for_each_chunk(std::size_t n, std::size_t fixed_chunk, F&& f) {
  run_chunked(
      n, fixed_chunk,
      [](void* context, std::size_t begin, std::size_t end) {
        (*static_cast<std::remove_reference_t<F>*>(context))(begin, end);
      },
      &f);
}

/// The persistent cache as seen from inside a running task that has a stable identity (an op,
/// with a disk cache configured): lets a map keep one entry per block of items, so that a
/// change to one item reruns one block. Set by the Executor for the duration of the task body.
class BlockCache {
 public:
  /// Hash of the running task's op name and version: the identity part of a block key.
  [[nodiscard]] virtual const Hash128& op_identity() const noexcept = 0;
  [[nodiscard]] virtual std::optional<std::string> get(const Hash128& key,
                                                       std::uint64_t fingerprint) const = 0;
  virtual void put(const Hash128& key, std::uint64_t fingerprint, std::string_view bytes) const = 0;

 protected:
  ~BlockCache() = default;
};

/// The block cache of the task this thread is running, or null.
[[nodiscard]] const BlockCache* current_block_cache() noexcept;

/// Tells the task this thread is running how many map items it computed and how many it took
/// from its block cache (RunStats::items_*, TaskEvent::items_*), and the keys of its block
/// entries (TaskEvent::block_keys). No-op outside a task; throws only std::bad_alloc.
void count_map_items(std::size_t computed, std::size_t cached,
                     std::span<const Hash128> block_keys = {});

/// The ranks of a run across a cluster, as a running map or reduce sees them: each rank computes
/// a contiguous share of the blocks (split_share), then exchange() gives every rank all shares.
/// Set by the Executor for the body of a task marked NodeFlags::kSplitsAcrossRanks.
class RankSplit {
 public:
  [[nodiscard]] virtual std::size_t rank() const noexcept = 0;
  [[nodiscard]] virtual std::size_t size() const noexcept = 0;
  /// Sends this rank's share (bytes) to the others and returns every rank's, by rank, this
  /// one's included. Every rank of the run calls it once per task. Throws when the run is
  /// cancelled or another rank failed the task meanwhile.
  [[nodiscard]] virtual std::vector<std::string> exchange(std::string mine) const = 0;

 protected:
  ~RankSplit() = default;
};

/// The rank split of the task this thread is running, or null (not across ranks).
[[nodiscard]] const RankSplit* current_split() noexcept;

/// The blocks [first, last) of `blocks` that rank `rank` of `size` computes: contiguous shares
/// whose sizes differ by one at most.
struct BlockShare {
  std::size_t first;
  std::size_t last;
};
[[nodiscard]] constexpr BlockShare split_share(std::size_t blocks, std::size_t rank,
                                               std::size_t size) noexcept {
  return {blocks * rank / size, blocks * (rank + 1) / size};
}

/// Items per block for n items: the unit whose boundaries depend on the items alone, never on
/// timing or threads (reduce folds each block left to right, then combines block results in a
/// fixed tree). At most kMaxBlocks blocks, so a million items are not a million of anything.
inline constexpr std::size_t kMaxBlocks = 1024;
[[nodiscard]] constexpr std::size_t block_items(std::size_t n) noexcept {
  return n <= kMaxBlocks ? 1 : (n + kMaxBlocks - 1) / kMaxBlocks;
}

}  // namespace dagflow::detail
