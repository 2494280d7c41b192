// ResultSlot: where one task's result lives during a compute(). Not API.
//
// A slot is written once by its producer and then read by every consumer without copying. The
// producer publishes with a release store and readers acquire it, so the hand-off is visible to
// ThreadSanitizer even though the scheduler (oneTBB) is not instrumented.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include <dagflow/graph/detail/type_traits.hpp>
#include <dagflow/graph/errors.hpp>

namespace dagflow::detail {

class ResultSlot {
 public:
  ResultSlot() = default;
  ResultSlot(const ResultSlot&) = delete;
  ResultSlot& operator=(const ResultSlot&) = delete;
  ~ResultSlot() { destroy_value(); }

  /// Number of readers still to come: one per consuming argument, one per requested target.
  void set_holders(std::int32_t n) noexcept { holders_.store(n, std::memory_order_relaxed); }

  /// Constructs the value from `make()` (guaranteed copy elision: `T` need not be movable).
  /// Called once, by the producing task, which then calls publish().
  template <class T, class Make>
  void emplace(Make&& make) {
    void* where;
    if constexpr (fits_inline<T>) {
      where = inline_;
      ::new (where) T(std::forward<Make>(make)());
    } else {
      where = new T(std::forward<Make>(make)());
    }
    value_ = where;
    destroy_ = &destroy<T>;
  }

  /// Moves the value into storage shared with the memory cache and returns that; from then on
  /// every reader gets a copy (the cache's value is never moved from). Before publish().
  template <class T>
  std::shared_ptr<const void> share() {
    auto shared = std::make_shared<const T>(std::move(*static_cast<T*>(value_)));
    destroy_value();
    value_ = const_cast<T*>(shared.get());
    shared_ = shared;
    return shared;
  }

  /// Points the slot at a value held by the memory cache (a cache hit), then publishes it.
  void adopt(std::shared_ptr<const void> value) noexcept {
    value_ = const_cast<void*>(value.get());
    shared_ = std::move(value);
    publish();
  }

  /// Marks the slot as a requested target's (before the run starts): its value is always worth
  /// keeping, however cheap its task.
  void mark_target() noexcept { target_ = true; }
  [[nodiscard]] bool is_target() const noexcept { return target_; }

  /// Makes the value visible to readers on other threads (release; they acquire).
  void publish() noexcept { ready_.store(true, std::memory_order_release); }

  /// True once the producer has published (acquire: the value is then safe to read).
  [[nodiscard]] bool is_ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  /// The stored value, shared by all readers. Requires is_ready().
  template <class T>
  [[nodiscard]] const T& get() const noexcept {
    (void)is_ready();  // acquire even when the caller checked readiness on another path
    return *static_cast<const T*>(value_);
  }

  /// A value for a reader that wants its own copy: moved when that reader is the only holder
  /// left (no one else can still read it) and the cache does not share it, copied otherwise.
  template <class T>
  [[nodiscard]] T take() {
    (void)is_ready();
    T& value = *static_cast<T*>(value_);
    if (shared_ != nullptr || holders_.load(std::memory_order_acquire) != 1) {
      if constexpr (copyable_v<T>) {
        return value;
      } else {
        throw GraphError(
            "a move-only result is wanted by value by more than one reader: take it by const& "
            "or request it once");
      }
    }
    return std::move(value);
  }

  /// The stored value, untyped (for type-erased helpers that know its type).
  [[nodiscard]] const void* raw_value() const noexcept { return value_; }

  /// True when the calling reader is the only holder left (so take<T>() would move).
  [[nodiscard]] bool is_sole_holder() const noexcept {
    return holders_.load(std::memory_order_acquire) == 1;
  }

  /// A reader is done with the value; the last one frees it at once.
  void release() noexcept {
    if (holders_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_value();
  }

 private:
  static constexpr std::size_t kInlineBytes = 32;

  template <class T>
  static constexpr bool fits_inline =
      sizeof(T) <= kInlineBytes &&
      alignof(T) <= alignof(std::max_align_t) && std::is_nothrow_destructible_v<T>;

  template <class T>
  static void destroy(void* p) noexcept {
    if constexpr (fits_inline<T>) {
      static_cast<T*>(p)->~T();
    } else {
      delete static_cast<T*>(p);
    }
  }

  void destroy_value() noexcept {
    shared_.reset();
    if (destroy_ != nullptr) {
      destroy_(value_);
      destroy_ = nullptr;
      value_ = nullptr;
    }
  }

  std::atomic<bool> ready_{false};
  bool target_ = false;
  std::atomic<std::int32_t> holders_{0};
  void (*destroy_)(void*) noexcept = nullptr;  // null when shared_ owns the value
  void* value_ = nullptr;
  std::shared_ptr<const void> shared_;
  alignas(std::max_align_t) std::byte inline_[kInlineBytes];
};

}  // namespace dagflow::detail
