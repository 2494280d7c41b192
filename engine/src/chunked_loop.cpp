#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include <fmt/format.h>

#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/graph/errors.hpp>

#include "task_scope.hpp"
#include "worker_pool.hpp"

namespace dagflow::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A chunk should run long enough that its scheduling cost (an atomic add and two clock reads,
// tens of ns; a TBB task steal, about a microsecond) is lost in the noise: ~100 us, about 3e5
// cycles, three times oneTBB's rule of thumb for a grain.
constexpr double kTargetChunkSeconds = 100e-6;
// ... but there must stay enough chunks per lane for load balance when item costs are uneven.
constexpr std::size_t kChunksPerLaneLeft = 4;

struct Loop {
  Loop(std::size_t items, std::size_t fixed, void (*fn)(void*, std::size_t, std::size_t), void* ctx,
       std::size_t lane_count, const std::atomic<bool>* cancelled, const ChunkReporter* reports)
      : n(items),
        fixed_chunk(fixed),
        body(fn),
        context(ctx),
        lanes(lane_count),
        run_cancelled(cancelled),
        reporter(reports) {}

  std::size_t n;
  std::size_t fixed_chunk;
  void (*body)(void*, std::size_t, std::size_t);
  void* context;
  std::size_t lanes;
  const std::atomic<bool>* run_cancelled;
  const ChunkReporter* reporter;  // null: nobody watches

  std::atomic<std::size_t> cursor{0};
  std::atomic<std::size_t> chunk{1};
  std::atomic<bool> stop{false};
  std::mutex failure_mutex;
  std::size_t failed_index = SIZE_MAX;
  std::exception_ptr failure;
  std::atomic<int> lanes_done{0};
  std::atomic<std::size_t> chunks_run{0};

  bool should_stop() const {
    return stop.load(std::memory_order_relaxed) ||
           (run_cancelled != nullptr && run_cancelled->load(std::memory_order_relaxed));
  }

  void fail(std::size_t index, std::exception_ptr error) {
    stop.store(true, std::memory_order_relaxed);
    std::lock_guard lock(failure_mutex);
    if (index < failed_index) {
      failed_index = index;
      failure = std::move(error);
    }
  }

  // Grows the chunk toward the target duration (at most doubling, so one slow measurement cannot
  // throw it far off) and shrinks it near the end so every lane still has chunks to take.
  void adapt(std::size_t size, double seconds) {
    const double per_item = std::max(seconds, 1e-9) / static_cast<double>(size);
    const auto ideal = static_cast<std::size_t>(kTargetChunkSeconds / per_item);
    const std::size_t taken = std::min(n, cursor.load(std::memory_order_relaxed));
    const std::size_t balance_cap =
        std::max<std::size_t>(1, (n - taken) / (kChunksPerLaneLeft * lanes));
    chunk.store(std::clamp<std::size_t>(ideal, 1, std::min(2 * size, balance_cap)),
                std::memory_order_relaxed);
  }

  void run_lane() {
    ChunkGroup group(reporter, n);
    while (!should_stop()) {
      const std::size_t size =
          fixed_chunk != 0 ? fixed_chunk : chunk.load(std::memory_order_relaxed);
      const std::size_t begin = cursor.fetch_add(size, std::memory_order_relaxed);
      if (begin >= n) break;
      const std::size_t end = std::min(n, begin + size);
      const auto start = Clock::now();
      try {
        body(context, begin, end);
      } catch (const ItemFailure& f) {
        fail(f.index, f.error);
        break;
      } catch (...) {
        fail(begin, std::current_exception());
        break;
      }
      chunks_run.fetch_add(1, std::memory_order_relaxed);
      const auto finished = Clock::now();
      group.add(start, finished, end - begin);
      if (fixed_chunk == 0) {
        adapt(end - begin, std::chrono::duration<double>(finished - start).count());
      }
    }
  }
};

}  // namespace

ItemFailure::ItemFailure(std::size_t item, std::exception_ptr original)
    : std::runtime_error(fmt::format("item {}: {}", item, message_of(original))),
      index(item),
      error(std::move(original)) {}

const BlockCache* current_block_cache() noexcept {
  return t_current_task != nullptr ? t_current_task->blocks : nullptr;
}

const RankSplit* current_split() noexcept {
  return t_current_task != nullptr ? t_current_task->split : nullptr;
}

void count_map_items(std::size_t computed, std::size_t cached,
                     std::span<const Hash128> block_keys) {
  if (ItemCounts* items = current_items()) {
    items->computed += computed;
    items->cached += cached;
    items->block_keys.insert(items->block_keys.end(), block_keys.begin(), block_keys.end());
  }
}

void throw_item_failure(std::size_t index) { throw ItemFailure(index, std::current_exception()); }

void run_chunked(std::size_t n, std::size_t fixed_chunk,
                 void (*body)(void* context, std::size_t begin, std::size_t end), void* context) {
  if (n == 0) return;
  Loop loop(n, fixed_chunk, body, context, WorkerPool::current_concurrency(),
            current_cancellation(), current_chunk_reporter());
  const std::size_t max_chunks = fixed_chunk != 0 ? (n + fixed_chunk - 1) / fixed_chunk : n;
  loop.lanes = std::min(loop.lanes, max_chunks);
  // Lanes pull chunks from one shared cursor, so a lane that starts late (its thread was busy)
  // simply takes less. The loop struct is published to the lanes with release/acquire (TSan).
  std::atomic<Loop*> published{nullptr};
  published.store(&loop, std::memory_order_release);
  if (loop.lanes <= 1) {
    loop.run_lane();
  } else {
    WorkerPool::parallel_for(
        loop.lanes, 1,
        [](void* ctx, std::size_t begin, std::size_t end) {
          Loop* l = static_cast<std::atomic<Loop*>*>(ctx)->load(std::memory_order_acquire);
          for (std::size_t lane = begin; lane < end; ++lane) l->run_lane();
          l->lanes_done.fetch_add(1, std::memory_order_acq_rel);
        },
        &published);
    (void)loop.lanes_done.load(std::memory_order_acquire);
  }
  if (ItemCounts* items = current_items()) {
    items->chunks += loop.chunks_run.load(std::memory_order_relaxed);
  }
  if (loop.failure) throw ItemFailure(loop.failed_index, loop.failure);
}

}  // namespace dagflow::detail
