// ResultSlot: where one task's result lives during a compute(). Not API.
//
// A slot is written once by its producer and then read by every consumer without copying. The
// producer publishes with a release store and readers acquire it, so the hand-off is visible to
// ThreadSanitizer even though the scheduler (oneTBB) is not instrumented.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include <dagflow/graph/detail/type_traits.hpp>
#include <dagflow/graph/errors.hpp>

namespace dagflow::detail {

/// What the memory cache keeps inside its table: small trivially copyable values (a concept, so
/// that `void` is simply not one).
inline constexpr std::size_t kKeptInlineBytes = 16;
template <class T>
concept InlineKeepable = std::is_trivially_copyable_v<T> &&(sizeof(T) <= kKeptInlineBytes) &&
                         (alignof(T) <= alignof(std::max_align_t));

/// A result as the memory cache keeps it between runs: a small trivially copyable value by its
/// bytes (keeping it allocates nothing), anything else in an allocation shared with the slots
/// that read it. Copying one copies the bytes or shares the allocation. A shared value is never
/// created const: the last slot to hold it may move it out (ResultSlot::take).
class KeptValue {
 public:
  static constexpr std::size_t kInlineBytes = kKeptInlineBytes;
  template <class T>
  static constexpr bool fits_inline = InlineKeepable<T>;

  KeptValue() noexcept = default;
  /// A value in shared storage.
  explicit KeptValue(std::shared_ptr<const void> shared) noexcept {
    if (shared != nullptr) {
      ::new (storage_) std::shared_ptr<const void>(std::move(shared));
      size_ = kShared;
    }
  }
  /// A copy of a small trivially copyable value.
  template <class T>
  requires fits_inline<T>
  [[nodiscard]] static KeptValue copy_of(const T& value) noexcept {
    KeptValue kept;
    std::memcpy(kept.storage_, &value, sizeof(T));
    kept.size_ = sizeof(T);
    return kept;
  }
  KeptValue(const KeptValue& other) noexcept { copy_from(other); }
  KeptValue(KeptValue&& other) noexcept { move_from(other); }
  KeptValue& operator=(const KeptValue& other) noexcept {
    if (this != &other) {
      reset();
      copy_from(other);
    }
    return *this;
  }
  KeptValue& operator=(KeptValue&& other) noexcept {
    if (this != &other) {
      reset();
      move_from(other);
    }
    return *this;
  }
  ~KeptValue() { reset(); }

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool is_inline() const noexcept { return size_ != 0 && size_ != kShared; }
  /// The value: inside this object when is_inline(), else in the shared allocation (null when
  /// empty).
  [[nodiscard]] const void* data() const noexcept {
    if (size_ == kShared) return shared()->get();
    return is_inline() ? static_cast<const void*>(storage_) : nullptr;
  }
  /// The shared allocation (requires !is_inline() and !empty()).
  [[nodiscard]] const std::shared_ptr<const void>& shared_storage() const noexcept {
    return *shared();
  }
  void reset() noexcept {
    if (size_ == kShared) shared()->~shared_ptr();
    size_ = 0;
  }

 private:
  static constexpr std::uint8_t kShared = 0xff;
  [[nodiscard]] const std::shared_ptr<const void>* shared() const noexcept {
    return std::launder(reinterpret_cast<const std::shared_ptr<const void>*>(storage_));
  }
  [[nodiscard]] std::shared_ptr<const void>* shared() noexcept {
    return std::launder(reinterpret_cast<std::shared_ptr<const void>*>(storage_));
  }
  void copy_from(const KeptValue& other) noexcept {
    if (other.size_ == kShared) {
      ::new (storage_) std::shared_ptr<const void>(*other.shared());
    } else {
      std::memcpy(storage_, other.storage_, kInlineBytes);
    }
    size_ = other.size_;
  }
  void move_from(KeptValue& other) noexcept {
    if (other.size_ == kShared) {
      ::new (storage_) std::shared_ptr<const void>(std::move(*other.shared()));
      size_ = kShared;
      other.reset();
    } else {
      copy_from(other);
    }
  }

  alignas(std::max_align_t) std::byte storage_[kInlineBytes]{};
  std::uint8_t size_ = 0;  // 0: empty; kShared: a shared_ptr in storage_; else inline bytes
};

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

  /// The value as the memory cache keeps it (or a send to another rank borrows it): a copy of a
  /// small trivially copyable one; anything else moves into storage shared with the caller
  /// (unless it is there already), and from then on a reader gets a copy while anyone else
  /// still shares it (a shared value is never moved from). Before the readers start.
  template <class T>
  KeptValue keep() {
    if constexpr (KeptValue::fits_inline<T>) {
      return KeptValue::copy_of(*static_cast<const T*>(value_));
    } else {
      if (shared_) return KeptValue(*shared_storage());
      auto shared = std::make_shared<T>(std::move(*static_cast<T*>(value_)));
      destroy_value();
      value_ = shared.get();
      ::new (inline_) std::shared_ptr<const void>(shared);
      destroy_ = &destroy_shared;
      shared_ = true;
      return KeptValue(std::move(shared));
    }
  }

  /// Gives the slot a value kept by the memory cache (a cache hit), then publishes it.
  void adopt(const KeptValue& value) noexcept {
    if (value.is_inline()) {
      std::memcpy(inline_, value.data(), KeptValue::kInlineBytes);
      value_ = inline_;
    } else {
      value_ = const_cast<void*>(value.data());
      ::new (inline_) std::shared_ptr<const void>(value.shared_storage());
      destroy_ = &destroy_shared;
      shared_ = true;
    }
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
  /// left (no one else can still read it) and no one else shares it, copied otherwise.
  template <class T>
  [[nodiscard]] T take() {
    (void)is_ready();
    T& value = *static_cast<T*>(value_);
    if (!sole_owner() || holders_.load(std::memory_order_acquire) != 1) {
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

  /// Drops a value that must not be published (an attempt that ran past its timeout).
  void discard() noexcept { destroy_value(); }
  /// The producer failed or was skipped: its readers are skipped too (keep-going runs).
  void mark_failed() noexcept { failed_.store(true, std::memory_order_release); }
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }

  /// A reader is done with the value; the last one frees it at once.
  void release() noexcept {
    if (holders_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_value();
  }

 private:
  static constexpr std::size_t kInlineBytes = 32;

  static_assert(sizeof(std::shared_ptr<const void>) <= kInlineBytes);

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

  [[nodiscard]] std::shared_ptr<const void>* shared_storage() noexcept {
    return std::launder(reinterpret_cast<std::shared_ptr<const void>*>(inline_));
  }

  // Nothing outside the slot shares the value. A shared one was made by keep() (never const) or
  // adopted from the cache; once the cache and any send have let go, it may be moved from.
  [[nodiscard]] bool sole_owner() noexcept {
    if (!shared_) return true;
    if (shared_storage()->use_count() != 1) return false;
    // Taking a reference and giving it back updates the count (acquire-release), which orders
    // what follows after the other owners' last use of the value (they released it there).
    static_cast<void>(std::shared_ptr<const void>(*shared_storage()));
    return true;
  }

  static void destroy_shared(void* storage) noexcept {
    std::launder(static_cast<std::shared_ptr<const void>*>(storage))->~shared_ptr();
  }

  void destroy_value() noexcept {
    if (destroy_ != nullptr) {
      destroy_(shared_ ? static_cast<void*>(inline_) : value_);
      destroy_ = nullptr;
      value_ = nullptr;
      shared_ = false;
    }
  }

  std::atomic<bool> ready_{false};
  std::atomic<bool> failed_{false};
  bool target_ = false;
  bool shared_ = false;  // inline_ holds a shared_ptr to the value, shared with the memory cache
  std::atomic<std::int32_t> holders_{0};
  void (*destroy_)(void*) noexcept = nullptr;  // null when there is nothing to destroy
  void* value_ = nullptr;
  // The value when it fits, or the shared_ptr to the cache's copy (64 bytes in all: a slot per
  // task of a million-task run is 64 MB, so every byte here is paid for a million times).
  alignas(std::max_align_t) std::byte inline_[kInlineBytes];
};

static_assert(sizeof(ResultSlot) <= 64);

}  // namespace dagflow::detail
