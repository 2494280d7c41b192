// LargeAllocator: memory for the big per-run arrays of a compute() (result slots, flow-graph
// nodes, plans), which hold a few hundred bytes per task and live for one run.
//
// glibc's malloc maps an array of more than 32 MiB afresh on every run and hands it back to the
// system when freed, so each run faults every 4 KiB page of it in again: at a million tasks that
// is ~60,000 faults, which (at ~10 us each in a virtual machine) cost more than running the
// tasks. Arrays of at least kLargeBytes are mapped here with transparent huge pages requested
// (2 MiB pages: 512 times fewer faults); where the system has them off, this is an ordinary
// mapping and nothing is lost. Smaller arrays use operator new: glibc learns from their frees to
// keep that much memory in its heap, so later runs reuse it without faulting (mapping them here
// would stop it learning, and oneTBB's small per-node allocations would fault instead).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace dagflow::util {

/// Arrays of at least this many bytes are mapped with huge pages requested (glibc's largest
/// adaptive mmap threshold: below it, malloc keeps freed memory for reuse).
inline constexpr std::size_t kLargeBytes = std::size_t{2} << 20;

/// Maps `bytes` (>= kLargeBytes) on a huge-page boundary, with huge pages requested; a mapping
/// of that size freed earlier may be handed out again (its contents are then not zeroed).
/// Throws std::bad_alloc when the system refuses.
[[nodiscard]] void* map_large(std::size_t bytes);
/// Frees memory from map_large(bytes): kept for reuse (up to 64 MiB in all), else unmapped.
void unmap_large(void* p, std::size_t bytes) noexcept;

/// A standard allocator that takes arrays of at least kLargeBytes from map_large().
template <class T>
struct LargeAllocator {
  using value_type = T;

  LargeAllocator() noexcept = default;
  template <class U>
  explicit LargeAllocator(const LargeAllocator<U>& /*other*/) noexcept {}

  [[nodiscard]] T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kLargeBytes) return static_cast<T*>(map_large(bytes));
    return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kLargeBytes) {
      unmap_large(p, bytes);
    } else {
      ::operator delete (p, std::align_val_t{alignof(T)});
    }
  }

  friend bool operator==(const LargeAllocator&, const LargeAllocator&) noexcept { return true; }
};

/// A vector whose storage, once large, comes from map_large().
template <class T>
using LargeVector = std::vector<T, LargeAllocator<T>>;

}  // namespace dagflow::util
