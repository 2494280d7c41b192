#include <cstdint>
#include <sys/mman.h>

#include <dagflow/util/large_allocator.hpp>

namespace dagflow::util {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t round_up(std::size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

}  // namespace

void* map_large(std::size_t bytes) {
  const std::size_t size = round_up(bytes);
  // Map one huge page more than needed, then trim both ends to a huge-page boundary: the kernel
  // backs only aligned 2 MiB ranges with huge pages.
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePage - 1) & ~std::uintptr_t{kHugePage - 1};
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t tail = start + size + kHugePage - (aligned + size);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  void* p = reinterpret_cast<void*>(aligned);
  (void)::madvise(p, size, MADV_HUGEPAGE);  // a hint: refused (THP off), the mapping still works
  return p;
}

void unmap_large(void* p, std::size_t bytes) noexcept { ::munmap(p, round_up(bytes)); }

}  // namespace dagflow::util
