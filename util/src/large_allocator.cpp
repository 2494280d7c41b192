#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <sys/mman.h>
#include <utility>

#include <dagflow/util/large_allocator.hpp>

namespace dagflow::util {

namespace {

constexpr std::size_t kHugePage = kHugeBytes;

// Mappings kept after they are freed, for the next request of the same size: a compute() frees
// its arrays at its end and the next compute of a graph that size asks for the same sizes, and a
// kept mapping costs no faults and no zeroing. At most kSpareBytes in all stay mapped while idle
// (glibc's heap keeps up to that much too); larger arrays are always given back. A run keeps a
// handful of arrays (slots, flow nodes), so kSlots mappings cover a few runs' worth of sizes.
constexpr std::size_t kSpareBytes = std::size_t{64} << 20;
constexpr std::size_t kSlots = 16;

struct Spares {
  struct Mapping {
    void* p = nullptr;
    std::size_t size = 0;
  };
  std::mutex mutex;
  std::array<Mapping, kSlots> kept{};
  std::size_t bytes = 0;

  void* take(std::size_t size) {
    const std::lock_guard lock(mutex);
    for (Mapping& m : kept) {
      if (m.p != nullptr && m.size == size) {
        bytes -= size;
        return std::exchange(m.p, nullptr);
      }
    }
    return nullptr;
  }

  bool keep(void* p, std::size_t size) {
    const std::lock_guard lock(mutex);
    if (size > kSpareBytes - bytes) return false;
    for (Mapping& m : kept) {
      if (m.p == nullptr) {
        m = {p, size};
        bytes += size;
        return true;
      }
    }
    return false;
  }
};

Spares& spares() {
  static auto* const instance = new Spares;  // never destroyed: arrays may be freed during exit
  return *instance;
}

// Sizes are rounded up (to whole huge pages, else to kKeptBytes) so that graphs of about the same
// size share their kept arrays.
std::size_t round_up(std::size_t bytes) {
  const std::size_t grain = bytes >= kHugeBytes ? kHugePage : kKeptBytes;
  return (bytes + grain - 1) & ~(grain - 1);
}

void* map_plain(std::size_t size) {
  void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  return mapped;
}

void* map_huge(std::size_t size) {
  // Map one huge page more than needed, then trim both ends to a huge-page boundary: the kernel
  // backs only aligned 2 MiB ranges with huge pages.
  auto* raw = static_cast<std::byte*>(map_plain(size + kHugePage));
  const std::size_t lead =
      (kHugePage - reinterpret_cast<std::uintptr_t>(raw) % kHugePage) % kHugePage;
  std::byte* aligned = raw + lead;
  if (lead > 0) ::munmap(raw, lead);
  ::munmap(aligned + size, kHugePage - lead);
  (void)::madvise(aligned, size, MADV_HUGEPAGE);  // a hint: refused (THP off), it still works
  return aligned;
}

}  // namespace

void* map_large(std::size_t bytes) {
  const std::size_t size = round_up(bytes);
  if (size < bytes) throw std::bad_alloc();  // overflowed
  if (void* p = spares().take(size)) return p;
  return size >= kHugeBytes ? map_huge(size) : map_plain(size);
}

void unmap_large(void* p, std::size_t bytes) noexcept {
  const std::size_t size = round_up(bytes);
  if (!spares().keep(p, size)) ::munmap(p, size);
}

}  // namespace dagflow::util
