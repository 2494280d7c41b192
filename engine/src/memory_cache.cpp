#include "memory_cache.hpp"

#include <algorithm>
#include <thread>
#include <tuple>
#include <vector>

namespace dagflow::detail {

GraphCache::EntryLock::EntryLock(Entry& e) noexcept : entry_(e) {
  while (entry_.busy.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
}

GraphCache::GraphCache(MemoryCache& owner, std::weak_ptr<GraphState> graph, std::size_t size)
    : owner_(owner), graph_(std::move(graph)), size_(size), table_(new Entry[size]) {}

GraphCache::~GraphCache() {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < size_; ++i) bytes += table_[i].bytes;
  owner_.give_back(bytes);
}

std::shared_ptr<const void> GraphCache::find(NodeId node, std::uint64_t tick) {
  if (node >= size_) return nullptr;
  Entry& e = table_[node];
  const EntryLock lock(e);
  if (e.value != nullptr) e.last_use = tick;
  return e.value;
}

void GraphCache::insert(NodeId node, std::shared_ptr<const void> value, std::size_t bytes,
                        std::uint64_t tick) {
  if (node >= size_) {
    owner_.give_back(bytes);
    return;
  }
  Entry& e = table_[node];
  const EntryLock lock(e);
  if (e.value != nullptr) {  // a concurrent run stored the same result first
    owner_.give_back(bytes);
    e.last_use = std::max(e.last_use, tick);
    return;
  }
  e.value = std::move(value);
  e.bytes = bytes;
  e.last_use = tick;
  entries_.fetch_add(1, std::memory_order_relaxed);
}

std::size_t GraphCache::drop_locked(Entry& e) noexcept {
  const std::size_t bytes = e.bytes;
  if (e.value != nullptr) entries_.fetch_sub(1, std::memory_order_relaxed);
  e.value.reset();
  e.bytes = 0;
  return bytes;
}

bool MemoryCache::reserve(std::size_t bytes) noexcept {
  std::size_t used = bytes_.load(std::memory_order_relaxed);
  do {
    if (bytes > budget_ || used > budget_ - bytes) return false;
  } while (!bytes_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

std::shared_ptr<GraphCache> MemoryCache::graph_cache(const std::shared_ptr<GraphState>& graph) {
  std::lock_guard lock(graphs_mutex_);
  std::shared_ptr<GraphCache>& slot = graphs_[graph->serial()];
  if (slot == nullptr || slot->size() < graph->size()) {
    // A graph only grows while no compute() runs on it, so the old table is not in use: its
    // entries move over (with their bytes) to a table with room for the new tasks.
    auto bigger = std::make_shared<GraphCache>(*this, graph, graph->size());
    if (slot != nullptr) {
      for (std::size_t i = 0; i < slot->size(); ++i) {
        GraphCache::Entry& from = slot->table_[i];
        const GraphCache::EntryLock from_lock(from);
        if (from.value == nullptr) continue;
        GraphCache::Entry& to = bigger->table_[i];
        to.value = std::move(from.value);
        to.bytes = std::exchange(from.bytes, 0);
        to.last_use = from.last_use;
        bigger->entries_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    slot = std::move(bigger);
  }
  return slot;
}

void MemoryCache::after_run() {
  std::lock_guard lock(graphs_mutex_);
  std::erase_if(graphs_, [](const auto& kv) { return !kv.second->graph_alive(); });
  if (bytes_.load(std::memory_order_relaxed) <= budget_ / 10 * 9) return;

  // Least recently used first, across all graphs, until half the budget is free.
  std::vector<std::tuple<std::uint64_t, GraphCache*, std::size_t>> by_age;
  for (auto& [serial, cache] : graphs_) {
    for (std::size_t i = 0; i < cache->size(); ++i) {
      GraphCache::Entry& e = cache->table_[i];
      const GraphCache::EntryLock entry_lock(e);
      if (e.value != nullptr) by_age.emplace_back(e.last_use, cache.get(), i);
    }
  }
  std::sort(by_age.begin(), by_age.end());
  for (const auto& [age, cache, index] : by_age) {
    if (bytes_.load(std::memory_order_relaxed) <= budget_ / 2) break;
    GraphCache::Entry& e = cache->table_[index];
    const GraphCache::EntryLock entry_lock(e);
    give_back(cache->drop_locked(e));
  }
}

void MemoryCache::clear() {
  std::lock_guard lock(graphs_mutex_);
  graphs_.clear();  // each GraphCache gives its bytes back as it goes
}

MemoryCacheCounts MemoryCache::counts() {
  std::lock_guard lock(graphs_mutex_);
  MemoryCacheCounts c;
  for (auto& [serial, cache] : graphs_) c.entries += cache->entries();
  c.bytes = bytes_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace dagflow::detail
