// ThreadCluster: ranks that are threads of one test process, connected through queues — the
// engine's side of a run across ranks, tested without MPI (and under the sanitizers).
//
//   ThreadCluster ranks(3);
//   ranks.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> cluster) { ... });
#pragma once

#include <condition_variable>
#include <cstddef>
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
  explicit ThreadCluster(std::size_t ranks) : hub_(std::make_shared<Hub>(ranks)) {}

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
    std::string bytes;
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
    explicit Hub(std::size_t n) : ranks(n) {
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
      if (receiver != nullptr) receiver->receive(m.from, std::move(m.bytes));
    }
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
        box.queue.push_back(Message{index_, rank_, std::move(bytes)});
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
