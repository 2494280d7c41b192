#include "io_pool.hpp"

#include <system_error>
#include <utility>

namespace dagflow::detail {

namespace {
thread_local std::size_t t_io_index = SIZE_MAX;
}  // namespace

IoPool::IoPool(std::size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}

IoPool::~IoPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::size_t IoPool::current_index() noexcept { return t_io_index; }

void IoPool::submit(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  jobs_.push_back(std::move(job));
  if (idle_ >= jobs_.size() || threads_.size() >= max_threads_) {
    // Notified under the lock: once the job runs, its run may end and the Executor (this pool)
    // be destroyed, which must not happen while this thread is still inside notify_one.
    wake_.notify_one();
    return;
  }
  try {
    threads_.emplace_back([this, index = threads_.size()] { serve(index); });
    return;
  } catch (const std::system_error&) {
    if (!threads_.empty()) return;  // the threads there are will take it
  }
  // Not a single thread could start: run it here rather than never.
  std::function<void()> mine = std::move(jobs_.back());
  jobs_.pop_back();
  lock.unlock();
  mine();
}

void IoPool::serve(std::size_t index) {
  t_io_index = index;
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
    --idle_;
    if (jobs_.empty()) return;  // stopping, nothing left
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

Timer::~Timer() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  lock.unlock();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Timer::schedule(std::chrono::steady_clock::time_point when, const void* owner,
                     std::function<void()> job) {
  std::lock_guard lock(mutex_);
  pending_.emplace(when, Entry{owner, std::move(job)});
  if (!thread_.joinable()) thread_ = std::thread([this] { serve(); });
  wake_.notify_all();
}

void Timer::fire_now(const void* owner) {
  std::lock_guard lock(mutex_);
  std::multimap<std::chrono::steady_clock::time_point, Entry> moved;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.owner == owner) {
      moved.emplace(std::chrono::steady_clock::time_point::min(), std::move(it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  pending_.merge(moved);
  wake_.notify_all();
}

void Timer::serve() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (pending_.empty()) {
      if (stopping_) return;
      wake_.wait(lock);
      continue;
    }
    const auto first = pending_.begin();
    if (!stopping_ && first->first > std::chrono::steady_clock::now()) {
      const auto when = first->first;  // a copy: fire_now may remove the entry meanwhile
      wake_.wait_until(lock, when);
      continue;
    }
    std::function<void()> job = std::move(first->second.job);
    pending_.erase(first);
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace dagflow::detail
