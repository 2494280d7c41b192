#include <cerrno>
#include <stdexcept>
#include <sys/stat.h>

#include <fmt/format.h>

#include <dagflow/engine/disk_cache.hpp>

#include "disk_store.hpp"

namespace dagflow {

namespace {
CacheStats stats_of(const detail::DiskUsage& u) {
  return CacheStats{u.entries, static_cast<std::size_t>(u.bytes)};
}
}  // namespace

std::optional<DiskCache> DiskCache::open(const std::filesystem::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  return DiskCache(std::make_unique<detail::DiskStore>(dir, nullptr, detail::DiskStore::kOpenOnly));
}

DiskCache::DiskCache(std::unique_ptr<detail::DiskStore> store) : store_(std::move(store)) {}
DiskCache::DiskCache(DiskCache&&) noexcept = default;
DiskCache& DiskCache::operator=(DiskCache&&) noexcept = default;
DiskCache::~DiskCache() = default;

CacheStats DiskCache::stats() const { return stats_of(store_->usage()); }

CacheStats DiskCache::prune(std::uint64_t max_bytes) { return stats_of(store_->prune(max_bytes)); }

void DiskCache::clear() { (void)store_->prune(0); }

bool DiskCache::contains(const Hash128& key) const { return store_->contains(key); }

std::size_t DiskCache::erase(std::span<const Hash128> keys) {
  std::size_t removed = 0;
  for (const Hash128& key : keys) {
    if (store_->erase(key)) ++removed;
  }
  return removed;
}

const std::filesystem::path& DiskCache::path() const noexcept { return store_->root(); }

namespace detail {
DiskCache adopt_store(std::unique_ptr<DiskStore> store) { return DiskCache(std::move(store)); }
DiskStore& store_of(DiskCache& cache) noexcept { return *cache.store_; }
}  // namespace detail

}  // namespace dagflow
