// ResourceBroker: the units of the Executor's named resources (ExecutorOptions::resources), handed
// to tasks that need them (TaskOptions::resources). A task takes all its units at once or none,
// so tasks needing two resources cannot deadlock; one that cannot have them now waits in a queue
// holding no thread, and is handed them by the release that frees them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dagflow::detail {

struct ResourceNeed {
  std::uint32_t resource;  // index in the broker
  std::size_t units;
};

class ResourceBroker {
 public:
  explicit ResourceBroker(const std::map<std::string, std::size_t>& capacities);

  /// The index of a declared resource, or nullopt.
  [[nodiscard]] std::optional<std::uint32_t> index_of(const std::string& name) const;
  [[nodiscard]] std::size_t capacity(std::uint32_t resource) const { return capacity_[resource]; }

  /// Takes `needs` now and returns true, or queues the request and returns false: `on_grant(true)`
  /// is then called, by the thread whose release freed the units, once they are taken for it —
  /// or `on_grant(false)` by cancel(owner). Needs must fit the capacities (checked before a run).
  bool acquire(std::span<const ResourceNeed> needs, const void* owner,
               std::function<void(bool granted)> on_grant);
  /// Gives units back and hands them to queued requests that now fit, oldest first (a request
  /// that does not fit yet does not hold back smaller ones behind it).
  void release(std::span<const ResourceNeed> needs);
  /// Drops `owner`'s queued requests, calling on_grant(false) for each.
  void cancel(const void* owner);

 private:
  struct Waiter {
    std::vector<ResourceNeed> needs;
    const void* owner;
    std::function<void(bool)> on_grant;
  };
  [[nodiscard]] bool fits(std::span<const ResourceNeed> needs) const;
  void take(std::span<const ResourceNeed> needs);

  std::map<std::string, std::uint32_t> index_;
  std::vector<std::size_t> capacity_;
  mutable std::mutex mutex_;
  std::vector<std::size_t> in_use_;
  std::list<Waiter> queue_;
};

}  // namespace dagflow::detail
