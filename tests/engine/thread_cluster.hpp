// ThreadCluster: ranks that are threads of one test process, connected through queues — the
// engine's side of a run across ranks, tested without MPI (and under the sanitizers).
//
//   ThreadCluster ranks(3);
//   ranks.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> cluster) { ... });
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <dagflow/engine/cluster.hpp>

namespace dagflow::test {

class ThreadCluster {
 public:
  /// `lend_bodies`: ports send borrowed bodies on their own (as the MPI transport does); else
  /// with ClusterPort's default, joined into one message.
  explicit ThreadCluster(std::size_t ranks, bool lend_bodies = true)
      : hub_(std::make_shared<Hub>(ranks, lend_bodies)) {}

  /// Runs body(rank, cluster) on one thread per rank and waits for all; rethrows the first
  /// exception a rank's body threw (after every body has returned).
  void run(const std::function<void(std::size_t, std::shared_ptr<Cluster>)>& body) {
    const std::size_t n = hub_->ranks.size();
    std::vector<std::exception_ptr> errors(n);
    std::vector<std::thread> threads;
    for (std::size_t r = 0; r < n; ++r) {
      threads.emplace_back([&, r] {
        try {
          body(r, std::make_shared<Rank>(hub_, r));
        } catch (...) {
          errors[r] = std::current_exception();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

 private:
  struct Message {
    std::size_t port;
    std::size_t from;
    std::string bytes;   // the whole message, or the tail of one with a borrowed body
    BorrowedBytes body;  // send_borrowed's body, held until it is delivered
  };
  // One rank's mailbox: messages by arrival, the receivers attached, and a thread delivering.
  struct Box {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Message> queue;
    std::vector<ClusterReceiver*> receivers;  // by attach order; null once detached
    std::mutex delivering;                    // held while a receiver runs
    bool stop = false;
    std::thread thread;
  };
  struct Hub {
    Hub(std::size_t n, bool lend) : ranks(n), lend_bodies(lend) {
      for (auto& b : ranks) b = std::make_unique<Box>();
      for (auto& b : ranks) b->thread = std::thread([box = b.get()] { deliver(*box); });
    }
    ~Hub() {
      for (auto& b : ranks) {
        {
          const std::lock_guard lock(b->mutex);
          b->stop = true;
        }
        b->ready.notify_all();
        b->thread.join();
      }
    }
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;
    std::vector<std::unique_ptr<Box>> ranks;
    bool lend_bodies;
  };

  // Delivers in order; a message for a port not attached yet waits (and so do those behind it,
  // which keeps each sender's order).
  static void deliver(Box& box) {
    for (;;) {
      Message m;
      {
        std::unique_lock lock(box.mutex);
        box.ready.wait(lock, [&] {
          return box.stop || (!box.queue.empty() && box.queue.front().port < box.receivers.size());
        });
        if (box.stop) return;
        m = std::move(box.queue.front());
        box.queue.pop_front();
      }
      // Lock order: `delivering`, then `mutex` (as a port's destructor takes them).
      const std::lock_guard busy(box.delivering);
      ClusterReceiver* receiver = nullptr;
      {
        const std::lock_guard lock(box.mutex);
        receiver = box.receivers[m.port];
      }
      if (receiver != nullptr) hand_over(*receiver, m);
    }
  }

  // A borrowed body goes where the receiver asks (like the MPI transport's), else joined.
  static void hand_over(ClusterReceiver& receiver, Message& m) {
    if (m.body.owner == nullptr) {
      receiver.receive(m.from, std::move(m.bytes));
      return;
    }
    BodyBuffer buffer = receiver.body_buffer(m.from, m.bytes, m.body.bytes.size());
    if (buffer.owner == nullptr) {
      std::string joined(m.body.bytes.size(), '\0');
      std::memcpy(joined.data(), m.body.bytes.data(), m.body.bytes.size());
      m.body = {};
      receiver.receive(m.from, joined + m.bytes);
      return;
    }
    std::memcpy(buffer.bytes.data(), m.body.bytes.data(), m.body.bytes.size());
    m.body = {};  // given back before the receiver sees it, as the MPI transport does
    receiver.receive_body(m.from, std::move(m.bytes), std::move(buffer));
  }

  class Port final : public ClusterPort {
   public:
    Port(std::shared_ptr<Hub> hub, std::size_t rank, std::size_t index)
        : hub_(std::move(hub)), rank_(rank), index_(index) {}
    ~Port() override {
      Box& box = *hub_->ranks[rank_];
      const std::lock_guard busy(box.delivering);
      const std::lock_guard lock(box.mutex);
      box.receivers[index_] = nullptr;
    }
    Port(const Port&) = delete;
    Port& operator=(const Port&) = delete;
    void send(std::size_t to, std::string bytes) override {
      Box& box = *hub_->ranks.at(to);
      {
        const std::lock_guard lock(box.mutex);
        box.queue.push_back(Message{index_, rank_, std::move(bytes), {}});
      }
      box.ready.notify_all();
    }
    void send_borrowed(std::size_t to, BorrowedBytes body, std::string tail) override {
      if (!hub_->lend_bodies) {
        ClusterPort::send_borrowed(to, std::move(body), std::move(tail));
        return;
      }
      Box& box = *hub_->ranks.at(to);
      {
        const std::lock_guard lock(box.mutex);
        box.queue.push_back(Message{index_, rank_, std::move(tail), std::move(body)});
      }
      box.ready.notify_all();
    }

   private:
    std::shared_ptr<Hub> hub_;
    std::size_t rank_;
    std::size_t index_;
  };

  class Rank final : public Cluster {
   public:
    Rank(std::shared_ptr<Hub> hub, std::size_t rank) : hub_(std::move(hub)), rank_(rank) {}
    [[nodiscard]] std::size_t rank() const noexcept override { return rank_; }
    [[nodiscard]] std::size_t size() const noexcept override { return hub_->ranks.size(); }
    [[nodiscard]] std::unique_ptr<ClusterPort> attach(ClusterReceiver& receiver) override {
      Box& box = *hub_->ranks[rank_];
      std::size_t index = 0;
      {
        const std::lock_guard lock(box.mutex);
        index = box.receivers.size();
        box.receivers.push_back(&receiver);
      }
      box.ready.notify_all();
      return std::make_unique<Port>(hub_, rank_, index);
    }

   private:
    std::shared_ptr<Hub> hub_;
    std::size_t rank_;
  };

  std::shared_ptr<Hub> hub_;
};

}  // namespace dagflow::test
