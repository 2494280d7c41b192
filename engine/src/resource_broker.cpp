#include "resource_broker.hpp"

#include <utility>

namespace dagflow::detail {

ResourceBroker::ResourceBroker(const std::map<std::string, std::size_t>& capacities) {
  for (const auto& [name, units] : capacities) {
    index_.emplace(name, static_cast<std::uint32_t>(capacity_.size()));
    capacity_.push_back(units);
  }
  in_use_.assign(capacity_.size(), 0);
}

std::optional<std::uint32_t> ResourceBroker::index_of(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

bool ResourceBroker::fits(std::span<const ResourceNeed> needs) const {
  for (const ResourceNeed& n : needs) {
    if (in_use_[n.resource] + n.units > capacity_[n.resource]) return false;
  }
  return true;
}

void ResourceBroker::take(std::span<const ResourceNeed> needs) {
  for (const ResourceNeed& n : needs) in_use_[n.resource] += n.units;
}

bool ResourceBroker::acquire(std::span<const ResourceNeed> needs, const void* owner,
                             std::function<void(bool granted)> on_grant) {
  std::lock_guard lock(mutex_);
  if (queue_.empty() && fits(needs)) {
    take(needs);
    return true;
  }
  queue_.push_back(Waiter{{needs.begin(), needs.end()}, owner, std::move(on_grant)});
  return false;
}

void ResourceBroker::release(std::span<const ResourceNeed> needs) {
  std::vector<std::function<void(bool)>> granted;
  {
    std::lock_guard lock(mutex_);
    for (const ResourceNeed& n : needs) in_use_[n.resource] -= n.units;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (fits(it->needs)) {
        take(it->needs);
        granted.push_back(std::move(it->on_grant));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& grant : granted) grant(true);  // outside the lock: a grant may acquire again
}

void ResourceBroker::cancel(const void* owner) {
  std::vector<std::function<void(bool)>> dropped;
  {
    std::lock_guard lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->owner == owner) {
        dropped.push_back(std::move(it->on_grant));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& drop : dropped) drop(false);
}

}  // namespace dagflow::detail
