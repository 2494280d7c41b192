// Test helpers: a value that counts its copies, moves and live instances.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include <dagflow/graph/value_size.hpp>

namespace dagflow::test {

struct Counters {
  std::atomic<int> copies{0};
  std::atomic<int> moves{0};
  std::atomic<int> live{0};
  std::atomic<int> peak_live{0};
};

class Counted {
 public:
  Counted(Counters& c, int v, std::size_t bytes = 0) : c_(&c), value(v), payload(bytes) { born(); }
  Counted(const Counted& o) : c_(o.c_), value(o.value), payload(o.payload) {
    ++c_->copies;
    born();
  }
  Counted(Counted&& o) noexcept : c_(o.c_), value(o.value), payload(std::move(o.payload)) {
    ++c_->moves;
    born();
  }
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() { --c_->live; }

 private:
  void born() {
    const int now = ++c_->live;
    int peak = c_->peak_live.load();
    while (now > peak && !c_->peak_live.compare_exchange_weak(peak, now)) {
    }
  }
  Counters* c_;

 public:
  int value;
  std::vector<char> payload;
};

}  // namespace dagflow::test

// Counted is sizeable, so the memory cache may keep it (within its budget).
template <>
struct dagflow::ValueSize<dagflow::test::Counted> {
  static std::size_t bytes(const dagflow::test::Counted& v) {
    return sizeof v + v.payload.capacity();
  }
};
