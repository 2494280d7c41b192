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

CacheStats DiskCache::stats(std::span<const Hash128> keys) const {
  CacheStats out;
  for (const Hash128& key : keys) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(store_->entry_path(key), ec);
    if (ec) continue;
    ++out.entries;
    out.bytes += static_cast<std::size_t>(size);
  }
  return out;
}

bool DiskCache::contains(const Hash128& key) const { return store_->contains(key); }

std::size_t DiskCache::erase(std::span<const Hash128> keys) {
  std::size_t removed = 0;
  for (const Hash128& key : keys) {
    if (store_->erase(key)) ++removed;
  }
  return removed;
}

std::optional<std::string> DiskCache::load_bytes(const Hash128& key, std::uint64_t fingerprint) {
  return store_->get(key, fingerprint);
}

bool DiskCache::store_bytes(const Hash128& key, std::uint64_t fingerprint, std::string_view bytes) {
  return store_->put(key, fingerprint, bytes);
}

const std::filesystem::path& DiskCache::path() const noexcept { return store_->root(); }

namespace detail {
DiskCache adopt_store(std::unique_ptr<DiskStore> store) { return DiskCache(std::move(store)); }
DiskStore& store_of(DiskCache& cache) noexcept { return *cache.store_; }
}  // namespace detail

}  // namespace dagflow
