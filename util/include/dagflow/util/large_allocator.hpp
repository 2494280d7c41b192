// LargeAllocator: memory for the big per-run arrays of a compute() (result slots, flow-graph
// nodes), which hold a few hundred bytes per task and live for one run.
//
// Arrays from malloc are faulted in again on every run once freed: glibc maps anything above its
// mmap threshold (128 KiB to 32 MiB) afresh and hands it back when freed, and trims or discards
// the free pages of its heap. At a million tasks that is ~60,000 faults per run, and at two
// thousand ~100 (~10 us each in a virtual machine: 1% of a run of 50 us tasks). So arrays of at
// least kKeptBytes are mapped here and, once freed, kept for the next run that asks for the same
// size (a compute of a graph that size): a later run faults nothing in. From kHugeBytes on,
// transparent huge pages are requested too (512 times fewer faults on a first run); where the
// system has them off, this is an ordinary mapping and nothing is lost. Smaller arrays use
// operator new.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace dagflow::util {

/// Arrays of at least this many bytes are mapped by map_large() and kept between runs.
inline constexpr std::size_t kKeptBytes = std::size_t{64} << 10;
/// Arrays of at least this many bytes are mapped on a huge-page boundary, huge pages requested.
inline constexpr std::size_t kHugeBytes = std::size_t{2} << 20;

/// Maps `bytes` (rounded up to a multiple of kKeptBytes; from kHugeBytes on a huge-page
/// boundary, with huge pages requested); a mapping of that size freed earlier may be handed out
/// again (its contents are then not zeroed). Throws std::bad_alloc when the system refuses.
[[nodiscard]] void* map_large(std::size_t bytes);
/// Frees memory from map_large(bytes): kept for reuse (up to 64 MiB in all), else unmapped.
void unmap_large(void* p, std::size_t bytes) noexcept;

/// A standard allocator that takes arrays of at least kKeptBytes from map_large().
template <class T>
struct LargeAllocator {
  using value_type = T;

  LargeAllocator() noexcept = default;
  template <class U>
  explicit LargeAllocator(const LargeAllocator<U>& /*other*/) noexcept {}

  [[nodiscard]] T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kKeptBytes) return static_cast<T*>(map_large(bytes));
    return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kKeptBytes) {
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
