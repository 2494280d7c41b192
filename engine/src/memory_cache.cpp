#include "memory_cache.hpp"

#include <algorithm>
#include <mutex>
#include <new>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <dagflow/util/large_allocator.hpp>

namespace dagflow::detail {

GraphCache::EntryLock::EntryLock(Entry& e) noexcept : entry_(e) {
  while (entry_.busy.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
}

namespace {
std::size_t pages_for(std::size_t size, std::size_t per_page) {
  return (size + per_page - 1) / per_page;
}
}  // namespace

GraphCache::GraphCache(MemoryCache& owner, std::weak_ptr<GraphState> graph, std::size_t size)
    : owner_(owner),
      graph_(std::move(graph)),
      size_(size),
      pages_(new std::atomic<Page*>[pages_for(size, kPageEntries)]()) {}

GraphCache::~GraphCache() {
  std::size_t bytes = 0;
  for_each_entry([&](NodeId /*node*/, Entry& e) { bytes += e.bytes; });
  owner_.give_back(bytes);
  for (std::size_t p = 0; p < pages_for(size_, kPageEntries); ++p) delete_page(pages_[p].load());
}

GraphCache::Page* GraphCache::new_page() { return new (util::map_large(sizeof(Page))) Page(); }

void GraphCache::delete_page(Page* page) noexcept {
  if (page == nullptr) return;
  page->~Page();
  util::unmap_large(page, sizeof(Page));
}

GraphCache::Entry* GraphCache::existing(NodeId node) const noexcept {
  Page* page = pages_[node / kPageEntries].load(std::memory_order_acquire);
  return page == nullptr ? nullptr : &page->entries[node % kPageEntries];
}

GraphCache::Entry& GraphCache::entry(NodeId node) {
  std::atomic<Page*>& slot = pages_[node / kPageEntries];
  Page* page = slot.load(std::memory_order_acquire);
  if (page == nullptr) {
    Page* fresh = new_page();
    if (slot.compare_exchange_strong(page, fresh, std::memory_order_acq_rel)) {
      page = fresh;
    } else {  // another worker installed one first: `page` is now that one
      delete_page(fresh);
    }
  }
  return page->entries[node % kPageEntries];
}

template <class Fn>
void GraphCache::for_each_entry(Fn&& fn) const {
  for (std::size_t p = 0; p < pages_for(size_, kPageEntries); ++p) {
    Page* page = pages_[p].load(std::memory_order_acquire);
    if (page == nullptr) continue;
    for (std::size_t i = 0; i < kPageEntries; ++i) {
      fn(static_cast<NodeId>(p * kPageEntries + i), page->entries[i]);
    }
  }
}

KeptValue GraphCache::find(NodeId node, std::uint64_t tick) {
  if (node >= size_) return {};
  Entry* e = existing(node);
  if (e == nullptr) return {};
  const EntryLock lock(*e);
  if (!e->value.empty()) e->last_use = tick;
  return e->value;
}

void GraphCache::insert(NodeId node, const KeptValue& value, std::size_t bytes,
                        std::uint64_t tick) {
  if (node >= size_) {
    owner_.give_back(bytes);
    return;
  }
  Entry& e = entry(node);
  const EntryLock lock(e);
  if (!e.value.empty()) {  // a concurrent run stored the same result first
    owner_.give_back(bytes);
    e.last_use = std::max(e.last_use, tick);
    return;
  }
  e.value = value;
  e.bytes = bytes;
  e.last_use = tick;
  entries_.fetch_add(1, std::memory_order_relaxed);
}

std::size_t GraphCache::drop_locked(Entry& e) noexcept {
  const std::size_t bytes = e.bytes;
  if (!e.value.empty()) entries_.fetch_sub(1, std::memory_order_relaxed);
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
  if (slot == nullptr) {
    // Results of a destroyed graph can never be asked for again: drop them at once rather than
    // at the next run's after_run().
    graph->on_destroy(handle_, [](void* context, std::uint64_t serial) {
      auto& handle = *static_cast<Handle*>(context);
      const std::lock_guard handle_lock(handle.mutex);
      if (handle.cache != nullptr) handle.cache->forget(serial);
    });
  }
  if (slot == nullptr || slot->size() < graph->size()) {
    // A graph only grows while no compute() runs on it, so the old table is not in use: its
    // pages (entries and their bytes) move over to a table with room for the new tasks.
    auto bigger = std::make_shared<GraphCache>(*this, graph, graph->size());
    if (slot != nullptr) {
      for (std::size_t p = 0; p < pages_for(slot->size(), GraphCache::kPageEntries); ++p) {
        bigger->pages_[p].store(slot->pages_[p].exchange(nullptr));
      }
      bigger->entries_.store(slot->entries_.exchange(0));
    }
    slot = std::move(bigger);
  }
  return slot;
}

void MemoryCache::forget(std::uint64_t serial) {
  std::shared_ptr<GraphCache> gone;  // destroyed after the lock is released
  {
    std::lock_guard lock(graphs_mutex_);
    auto it = graphs_.find(serial);
    if (it == graphs_.end()) return;
    gone = std::move(it->second);
    graphs_.erase(it);
  }
}

void MemoryCache::after_run() {
  std::lock_guard lock(graphs_mutex_);
  std::erase_if(graphs_, [](const auto& kv) { return !kv.second->graph_alive(); });
  if (bytes_.load(std::memory_order_relaxed) <= budget_ / 10 * 9) return;

  // Least recently used first, across all graphs, until half the budget is free.
  std::vector<std::tuple<std::uint64_t, GraphCache*, GraphCache::Entry*>> by_age;
  for (auto& graph : graphs_) {
    GraphCache* cache = graph.second.get();
    cache->for_each_entry([&](NodeId /*node*/, GraphCache::Entry& e) {
      const GraphCache::EntryLock entry_lock(e);
      if (!e.value.empty()) by_age.emplace_back(e.last_use, cache, &e);
    });
  }
  std::sort(by_age.begin(), by_age.end());
  for (const auto& [age, cache, e] : by_age) {
    if (bytes_.load(std::memory_order_relaxed) <= budget_ / 2) break;
    const GraphCache::EntryLock entry_lock(*e);
    give_back(cache->drop_locked(*e));
  }
}

MemoryCache::MemoryCache(std::size_t budget_bytes)
    : budget_(budget_bytes), handle_(std::make_shared<Handle>()) {
  handle_->cache = this;
}

MemoryCache::~MemoryCache() {
  const std::lock_guard lock(handle_->mutex);
  handle_->cache = nullptr;
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
