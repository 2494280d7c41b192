#include <dagflow/util/large_allocator.hpp>

// Tests of the per-run array allocator: large arrays are mapped (the largest on a huge-page
// boundary) and reused once freed, small ones come from operator new, and all hold what is
// written to them.
#include <algorithm>
#include <cstdint>
#include <new>
#include <numeric>

#include <catch2/catch.hpp>

namespace util = dagflow::util;

TEST_CASE("LargeAllocator: large arrays are mapped aligned, small ones allocated", "[util]") {
  const std::size_t count = GENERATE(std::size_t{10}, util::kKeptBytes / sizeof(std::uint32_t) + 3,
                                     util::kHugeBytes / sizeof(std::uint32_t),
                                     util::kHugeBytes / sizeof(std::uint32_t) * 3 + 7);
  util::LargeVector<std::uint32_t> values(count);
  CHECK(std::all_of(values.begin(), values.end(), [](std::uint32_t v) { return v == 0; }));
  std::iota(values.begin(), values.end(), std::uint32_t{1});
  CHECK(values.back() == count);
  if (count * sizeof(std::uint32_t) >= util::kHugeBytes) {
    CHECK(reinterpret_cast<std::uintptr_t>(values.data()) % (std::size_t{2} << 20) == 0);
  }
  values.resize(count * 2);  // grows through a second mapping, keeping the contents
  CHECK(values[count - 1] == count);
  CHECK(values.back() == 0);
}

TEST_CASE("LargeAllocator: a refused mapping is std::bad_alloc", "[util]") {
  util::LargeAllocator<std::byte> allocator;
  CHECK_THROWS_AS((void)allocator.allocate(std::size_t{1} << 62), std::bad_alloc);
}

TEST_CASE("LargeAllocator: a freed mapping is reused for the same size, never while in use",
          "[util]") {
  util::LargeAllocator<std::byte> allocator;
  const std::size_t bytes = GENERATE(util::kKeptBytes * 3, util::kHugeBytes * 2);
  std::byte* first = allocator.allocate(bytes);
  std::byte* second = allocator.allocate(bytes);
  CHECK(first != second);
  first[0] = std::byte{1};
  second[bytes - 1] = std::byte{2};
  allocator.deallocate(first, bytes);
  std::byte* again = allocator.allocate(bytes);
  CHECK(again == first);  // the spare, faulted in already
  CHECK(second[bytes - 1] == std::byte{2});
  allocator.deallocate(again, bytes);
  allocator.deallocate(second, bytes);
}
