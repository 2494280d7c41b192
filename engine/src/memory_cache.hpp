// MemoryCache: task results kept across compute() calls of one Executor, within a byte budget.
//
// Keys are node identity (the graph's serial number and the node id), valid because a graph never
// changes a task once added and impure tasks (and their downstream) are never cached: so keeping
// results costs no hashing of their contents. Each graph gets a table indexed by node id, in
// pages allocated when a first result of theirs is kept (a million-task graph that keeps a few
// results touches a few pages, not 40 MB), with a tiny lock per entry. Pages are kept mappings
// (util::map_large): when a graph goes, the next one takes its pages over without faulting them
// in again (a graph built and computed in a loop would otherwise pay ~16 faults per page per run).
// The budget is reserved in credits of kCreditBytes: the path taken for a kept result has no
// global lock, no hashing and no allocation besides the kept value (and, once per page, the page).
// Admission is decided when a result is produced (kept only if it fits); the least recently used
// entries are evicted between runs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <dagflow/graph/detail/graph_state.hpp>

namespace dagflow::detail {

class MemoryCache;

/// The cached results of one graph: one entry per node id.
class GraphCache {
 public:
  GraphCache(MemoryCache& owner, std::weak_ptr<GraphState> graph, std::size_t size);
  GraphCache(const GraphCache&) = delete;
  GraphCache& operator=(const GraphCache&) = delete;
  ~GraphCache();

  /// The cached value of `node`, marked as used at `tick`; empty when absent.
  KeptValue find(NodeId node, std::uint64_t tick);
  /// Stores a value whose `bytes` were reserved in the budget (given back if already present).
  void insert(NodeId node, const KeptValue& value, std::size_t bytes, std::uint64_t tick);
  [[nodiscard]] std::size_t entries() const noexcept {
    return entries_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool graph_alive() const noexcept { return !graph_.expired(); }

  /// What one entry of the table costs (counted in the budget of each kept result).
  static constexpr std::size_t kEntryBytes = 64;

 private:
  friend class MemoryCache;
  struct Entry {
    std::atomic_flag busy;  // guards the fields below; held for a few instructions
    KeptValue value;
    std::size_t bytes = 0;
    std::uint64_t last_use = 0;
  };
  static_assert(sizeof(Entry) <= kEntryBytes);
  static constexpr std::size_t kPageEntries = 1024;
  struct Page {
    Entry entries[kPageEntries];
  };
  static Page* new_page();
  static void delete_page(Page* page) noexcept;
  /// The entry of `node`, or null when its page was never allocated.
  [[nodiscard]] Entry* existing(NodeId node) const noexcept;
  /// The entry of `node`, allocating its page on first use.
  Entry& entry(NodeId node);
  /// Calls fn(node, entry) for every entry of the allocated pages.
  template <class Fn>
  void for_each_entry(Fn&& fn) const;
  class EntryLock {
   public:
    explicit EntryLock(Entry& e) noexcept;
    ~EntryLock() { entry_.busy.clear(std::memory_order_release); }
    EntryLock(const EntryLock&) = delete;
    EntryLock& operator=(const EntryLock&) = delete;

   private:
    Entry& entry_;
  };
  /// Drops the entry's value; returns the bytes it held. Caller holds the entry's lock.
  std::size_t drop_locked(Entry& e) noexcept;

  MemoryCache& owner_;
  std::weak_ptr<GraphState> graph_;
  std::size_t size_;
  std::unique_ptr<std::atomic<Page*>[]> pages_;
  // On a cache line of its own: every insert and drop writes it, while size_ and pages_ beside
  // it are read by every lookup (sharing a line cost ~100 ns per kept result at 2 threads).
  alignas(64) std::atomic<std::size_t> entries_{0};
};

/// Counts for Executor::memory_cache_stats().
struct MemoryCacheCounts {
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

class MemoryCache {
 public:
  /// What keeping a result costs besides its ValueSize, counted in the budget: its table entry
  /// and, unless it is kept inline (KeptValue), its shared allocation's header and control block.
  static constexpr std::size_t kSharedAllocationBytes = 48;
  [[nodiscard]] static constexpr std::size_t cost(std::size_t value_bytes, bool inline_value) {
    return value_bytes + GraphCache::kEntryBytes + (inline_value ? 0 : kSharedAllocationBytes);
  }
  /// Budget is taken from the shared counter this many bytes at a time (see BudgetCredit).
  static constexpr std::size_t kCreditBytes = std::size_t{64} * 1024;

  explicit MemoryCache(std::size_t budget_bytes);
  ~MemoryCache();
  MemoryCache(const MemoryCache&) = delete;
  MemoryCache& operator=(const MemoryCache&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return budget_ > 0; }
  /// The cache of `graph`, created on first use (or enlarged if the graph grew). Once per run.
  std::shared_ptr<GraphCache> graph_cache(const std::shared_ptr<GraphState>& graph);
  /// A new use tick (recency for LRU). Once per run.
  std::uint64_t next_tick() noexcept { return tick_.fetch_add(1, std::memory_order_relaxed) + 1; }
  /// After a run: forgets graphs that no longer exist and, when the cache is nearly full, evicts
  /// least recently used entries down to half the budget, making room for the next run.
  void after_run();
  /// Drops every result of the graph with this serial (it was destroyed).
  void forget(std::uint64_t serial);
  void clear();
  [[nodiscard]] MemoryCacheCounts counts();

  /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
  bool reserve(std::size_t bytes) noexcept;
  void give_back(std::size_t bytes) noexcept { bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  const std::size_t budget_;
  // What the graphs' destroy listeners reach this cache through: they may outlive it, so they
  // hold a weak reference, and the pointer inside is cleared (under its mutex) when it goes.
  struct Handle {
    std::mutex mutex;
    MemoryCache* cache = nullptr;
  };
  std::shared_ptr<Handle> handle_;
  alignas(64) std::atomic<std::size_t> bytes_{0};  // reserved: kept values plus unspent credits
  alignas(64) std::atomic<std::uint64_t> tick_{0};
  std::mutex graphs_mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<GraphCache>> graphs_;  // by graph serial
};

/// Budget held by one worker while it runs a range of tasks: reserving from it is free, and it
/// refills from the shared counter kCreditBytes at a time. Unspent credit is given back at the end.
class BudgetCredit {
 public:
  explicit BudgetCredit(MemoryCache* cache) noexcept : cache_(cache) {}
  ~BudgetCredit() {
    if (cache_ != nullptr && credit_ > 0) cache_->give_back(credit_);
  }
  BudgetCredit(const BudgetCredit&) = delete;
  BudgetCredit& operator=(const BudgetCredit&) = delete;

  /// Spends `bytes` of credit, refilling first if needed; false when the budget is exhausted.
  bool spend(std::size_t bytes) noexcept {
    if (bytes > credit_) {
      const std::size_t want = std::max(bytes - credit_, MemoryCache::kCreditBytes);
      if (cache_->reserve(want)) {
        credit_ += want;
      } else if (cache_->reserve(bytes - credit_)) {
        credit_ = bytes;
      } else {
        return false;
      }
    }
    credit_ -= bytes;
    return true;
  }

 private:
  MemoryCache* cache_;
  std::size_t credit_ = 0;
};

}  // namespace dagflow::detail
