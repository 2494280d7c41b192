// A job with a rank that fails mid-run, for abandoned_rank_test.cmake: the last rank exchanges
// one message with rank 0, then
//   kill    raises SIGKILL on itself;
//   throw   leaves its Session's scope by an exception;
//   error   has an MPI call of its progress thread fail (a test hook): both its receivers get
//           fail() with MPI's message, send() and attach() then throw, and its Session ends the
//           job (MPI_Abort) instead of waiting in MPI_Finalize for ranks that wait for it.
// Rank 0 meanwhile waits for a message that will never come, without a time limit: only the
// launcher or MPI_Abort can end it. Lines on stdout say what the failing rank saw.
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include <dagflow/engine/cluster.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/mpi.hpp>

#include "transport.hpp"

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
    std::printf("fail() called: %s\n", what.c_str());
    std::fflush(stdout);
    {
      const std::lock_guard lock(mutex_);
      failed_ = true;
    }
    changed_.notify_all();
  }
  void wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return count_ >= count; });
  }
  void wait_for_failure() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return failed_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t count_ = 0;
  bool failed_ = false;
};

// Prints what `action` threw (it must throw dagflow::Error).
template <class Action>
void report(const char* what, Action action) {
  try {
    action();
    std::printf("%s: did not throw\n", what);
  } catch (const dagflow::Error& e) {
    std::printf("%s threw: %s\n", what, e.what());
  }
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "kill" && mode != "throw" && mode != "error") {
    std::fprintf(stderr, "usage: %s kill|throw|error\n", argv[0]);
    return 2;
  }
  try {
    dagflow::mpi::Session mpi(argc, argv);
    const std::shared_ptr<dagflow::Cluster> cluster = mpi.cluster();
    Counter counter;
    Counter other;
    const auto port = cluster->attach(counter);
    const auto other_port = cluster->attach(other);
    const std::size_t last = mpi.size() - 1;
    if (mpi.rank() == last && last != 0) {
      port->send(0, "hello");
      counter.wait_for(1);
      if (mode == "kill") std::raise(SIGKILL);
      if (mode == "throw") throw std::runtime_error("rank failed on purpose");
      std::dynamic_pointer_cast<dagflow::mpi::Transport>(cluster)->break_next_send_for_testing();
      port->send(0, "lost");
      counter.wait_for_failure();
      other.wait_for_failure();
      report("send after the failure", [&] { port->send(0, "x"); });
      report("attach after the failure", [&] { static_cast<void>(cluster->attach(counter)); });
      return 0;  // the Session ends the job
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
