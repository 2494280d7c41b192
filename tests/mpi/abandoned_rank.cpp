// A job with a rank that dies mid-run, for abandoned_rank_test.cmake: the last rank exchanges
// one message with rank 0, then either raises SIGKILL on itself (`kill`) or leaves its
// Session's scope by an exception (`throw`). Rank 0 meanwhile waits for a message that will
// never come, without a time limit: only the launcher or MPI_Abort can end it.
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

#include <dagflow/engine/cluster.hpp>
#include <dagflow/mpi.hpp>

namespace {
class Counter final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t /*from*/, std::string /*bytes*/) override {
    {
      const std::lock_guard lock(mutex_);
      ++count_;
    }
    changed_.notify_all();
  }
  void fail(std::string what) noexcept override {
    std::fprintf(stderr, "fail: %s\n", what.c_str());
  }
  void wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return count_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t count_ = 0;
};
}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "kill" && mode != "throw") {
    std::fprintf(stderr, "usage: %s kill|throw\n", argv[0]);
    return 2;
  }
  try {
    dagflow::mpi::Session mpi(argc, argv);
    Counter counter;
    const auto port = mpi.cluster()->attach(counter);
    const std::size_t last = mpi.size() - 1;
    if (mpi.rank() == last && last != 0) {
      port->send(0, "hello");
      counter.wait_for(1);
      if (mode == "kill") std::raise(SIGKILL);
      throw std::runtime_error("rank failed on purpose");
    }
    if (mpi.rank() == 0) {
      counter.wait_for(1);
      port->send(last, "ack");
      counter.wait_for(2);  // never comes
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank left its Session by an exception: %s\n", e.what());
    return 1;
  }
  return 0;
}
