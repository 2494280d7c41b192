// bench/mpi_transfer: what dagflow's MPI transport costs beside raw MPI, per message size, and
// what an idle rank burns.
//
// Ranks 0 and 1 play ping-pong: rank 0 sends a message, rank 1 sends it back, and half of the
// round trip is one message's time (the best of 5 runs). Three ways, side by side:
//   raw MPI, warm   MPI_Send/MPI_Recv on MPI_COMM_WORLD into buffers allocated (and touched)
//                   once: the floor.
//   raw MPI, fresh  the same, each receive into a new std::string of the size (as a receiver
//                   that keeps what it gets must): allocation and page faults included.
//   dagflow         Session::cluster() ports; rank 1 sends back from inside receive() (the
//                   string is moved, never copied), rank 0's main thread waits for it.
// Then: the CPU time a rank's process spends in two seconds with a port attached and nothing
// arriving (the progress thread's polling), as a share of one core.
//
//   timeout 300 mpirun -np 2 ./build/release/bench/mpi_transfer     (about 40 s on 2 cores)
//
// Extra ranks, if any, only wait.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <mpi.h>

#include <dagflow/engine/cluster.hpp>
#include <dagflow/mpi.hpp>

#include "timing.hpp"

namespace {

// Rank 0's side: hands each message to the waiting main thread.
class Catcher final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t /*from*/, std::string bytes) override {
    {
      const std::lock_guard lock(mutex_);
      got_ = std::move(bytes);
      ready_ = true;
    }
    changed_.notify_one();
  }
  void fail(std::string what) noexcept override {
    std::fprintf(stderr, "transport failed: %s\n", what.c_str());
    std::abort();
  }
  std::string wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return ready_; });
    ready_ = false;
    return std::move(got_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string got_;
  bool ready_ = false;
};

// Rank 1's side: sends every message back from inside receive().
class Echo final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t from, std::string bytes) override { port->send(from, std::move(bytes)); }
  void fail(std::string what) noexcept override {
    std::fprintf(stderr, "transport failed: %s\n", what.c_str());
    std::abort();
  }
  dagflow::ClusterPort* port = nullptr;
};

constexpr int kRuns = 5;

int rounds_for(std::size_t bytes) {
  if (bytes <= 4096) return 1000;
  if (bytes <= (std::size_t{1} << 20)) return 100;
  if (bytes <= (std::size_t{16} << 20)) return 10;
  return 3;
}

// Seconds per one-way message of raw MPI ping-pong between ranks 0 and 1.
double raw_mpi(int rank, std::size_t bytes, bool fresh) {
  const int count = static_cast<int>(bytes);
  std::string buffer(bytes, 'x');
  const int rounds = rounds_for(bytes);
  MPI_Barrier(MPI_COMM_WORLD);
  const bench::Clock::time_point start = bench::Clock::now();
  for (int r = 0; r < rounds; ++r) {
    if (rank == 0) {
      MPI_Send(buffer.data(), count, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
      if (fresh) buffer = std::string(bytes, '\0');
      MPI_Recv(buffer.data(), count, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      if (fresh) buffer = std::string(bytes, '\0');
      MPI_Recv(buffer.data(), count, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buffer.data(), count, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
  }
  return bench::seconds_since(start) / (2.0 * rounds);
}

// The same through dagflow's ports. The threads that wait meanwhile wait on a condition
// variable, as an Executor's caller does (a thread blocked in an MPI call would spin and take a
// core from the progress threads).
double through_dagflow(dagflow::Cluster& cluster, std::size_t rank, std::size_t bytes) {
  Catcher catcher;
  Echo echo;
  Catcher control;
  const std::unique_ptr<dagflow::ClusterPort> port =
      rank == 0 ? cluster.attach(catcher) : cluster.attach(echo);
  echo.port = port.get();
  const std::unique_ptr<dagflow::ClusterPort> control_port = cluster.attach(control);
  double seconds = 0;
  if (rank == 0) {
    static_cast<void>(control.wait());  // the echo knows its port
    const int rounds = rounds_for(bytes);
    std::string message(bytes, 'x');
    const bench::Clock::time_point start = bench::Clock::now();
    for (int r = 0; r < rounds; ++r) {
      port->send(1, std::move(message));
      message = catcher.wait();
    }
    seconds = bench::seconds_since(start) / (2.0 * rounds);
    if (message.size() != bytes) std::printf("wrong size back: %zu\n", message.size());
    control_port->send(1, "done");
  } else if (rank == 1) {
    control_port->send(0, "ready");
    static_cast<void>(control.wait());  // the echo's port outlives the last ping
  }
  return seconds;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  dagflow::mpi::Session mpi(argc, argv);
  if (mpi.size() < 2) {
    std::printf("bench/mpi_transfer needs 2 ranks: mpirun -np 2 %s\n", argv[0]);
    return 1;
  }
  const int rank = static_cast<int>(mpi.rank());
  const std::shared_ptr<dagflow::Cluster> cluster = mpi.cluster();
  if (rank == 0) {
    std::printf("%-10s %14s %14s %14s %10s %10s\n", "message", "raw warm us", "raw fresh us",
                "dagflow us", "vs warm", "vs fresh");
  }
  for (const std::size_t bytes : {std::size_t{1} << 10, std::size_t{64} << 10, std::size_t{1} << 20,
                                  std::size_t{16} << 20, std::size_t{256} << 20}) {
    // The best of a few interleaved runs: the machine may be busy with other work meanwhile.
    std::vector<double> warm_runs;
    std::vector<double> fresh_runs;
    std::vector<double> our_runs;
    for (int run = 0; run < kRuns; ++run) {
      warm_runs.push_back(raw_mpi(rank, bytes, false));
      fresh_runs.push_back(raw_mpi(rank, bytes, true));
      our_runs.push_back(through_dagflow(*cluster, mpi.rank(), bytes));
    }
    const double warm = bench::best(warm_runs);
    const double fresh = bench::best(fresh_runs);
    const double ours = bench::best(our_runs);
    if (rank == 0) {
      std::printf("%7zu KiB %14.1f %14.1f %14.1f %9.2fx %9.2fx\n", bytes >> 10, warm * 1e6,
                  fresh * 1e6, ours * 1e6, ours / warm, ours / fresh);
    }
  }
  // An attached port with nothing to do: what does the progress thread cost?
  Catcher idle;
  const std::unique_ptr<dagflow::ClusterPort> port = cluster->attach(idle);
  MPI_Barrier(MPI_COMM_WORLD);
  const double cpu_before = cpu_seconds();
  const bench::Clock::time_point start = bench::Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double share = (cpu_seconds() - cpu_before) / bench::seconds_since(start);
  std::printf("rank %d idle with a port attached: %.1f%% of a core\n", rank, share * 100.0);
  MPI_Barrier(MPI_COMM_WORLD);
  return 0;
}
