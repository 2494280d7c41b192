// What the MPI test programs share: the Session their main made (mpi_main.cpp), and Inbox, a
// ClusterReceiver that keeps what arrives so a test can wait for it. Every rank runs the same
// cases in the same order, so the n-th port a case attaches pairs with the n-th on each rank.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/engine/cluster.hpp>
#include <dagflow/mpi.hpp>

namespace dagflow::test {

/// The Session of this process, alive from before the first case until after the last.
dagflow::mpi::Session& mpi_session();

/// A message as a receiver got it.
struct Message {
  std::size_t from = 0;
  std::string bytes;
};

/// Keeps every message (and the failure, if any) for the test's thread. Thread-safe.
class Inbox final : public dagflow::ClusterReceiver {
 public:
  Inbox() = default;
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;
  ~Inbox() = default;

  void receive(std::size_t from, std::string bytes) override {
    {
      const std::lock_guard lock(mutex_);
      messages_.push_back(Message{from, std::move(bytes)});
    }
    changed_.notify_all();
  }
  /// From now on, bodies sent with send_borrowed land in buffers of the inbox's own (counted),
  /// and then arrive joined with their tails like any message.
  void take_bodies() { taking_ = true; }
  dagflow::BodyBuffer body_buffer(std::size_t, std::string_view, std::size_t size) override {
    if (!taking_) return {};
    auto buffer = std::make_shared<std::string>(size, '\0');
    return {buffer, std::as_writable_bytes(std::span(buffer->data(), size))};
  }
  void receive_body(std::size_t from, std::string tail, dagflow::BodyBuffer body) override {
    {
      const std::lock_guard lock(mutex_);
      ++bodies_taken_;
    }
    receive(from, *static_cast<std::string*>(body.owner.get()) + tail);
  }
  [[nodiscard]] std::size_t bodies_taken() const {
    const std::lock_guard lock(mutex_);
    return bodies_taken_;
  }

  void fail(std::string what) noexcept override {
    {
      const std::lock_guard lock(mutex_);
      failure_ = std::move(what);
      ++failures_;
    }
    changed_.notify_all();
  }

  /// Waits until `count` messages have arrived in all, or a failure, or `patience` passed (a
  /// rank that failed its own checks may never send what this one waits for). True if they did.
  [[nodiscard]] bool wait_for(std::size_t count,
                              std::chrono::seconds patience = std::chrono::seconds(60)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, patience, [&] {
      return messages_.size() >= count || failures_ > 0;
    }) && messages_.size() >= count;
  }
  /// Waits until fail() was called (or `patience` passed); true if it was.
  [[nodiscard]] bool wait_for_failure(std::chrono::seconds patience = std::chrono::seconds(60)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, patience, [&] { return failures_ > 0; });
  }
  /// The messages so far, in arrival order.
  [[nodiscard]] std::vector<Message> messages() const {
    const std::lock_guard lock(mutex_);
    return messages_;
  }
  /// Moves the messages so far out (for big ones).
  [[nodiscard]] std::vector<Message> take() {
    const std::lock_guard lock(mutex_);
    return std::move(messages_);
  }
  [[nodiscard]] std::string failure() const {
    const std::lock_guard lock(mutex_);
    return failure_;
  }
  [[nodiscard]] std::size_t failures() const {
    const std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Message> messages_;
  std::string failure_;
  std::size_t failures_ = 0;
  std::size_t bodies_taken_ = 0;
  std::atomic<bool> taking_{false};
};

}  // namespace dagflow::test
