// Ranks: the processes of `mpirun -np N dagflow ...` as the commands see them. A process that
// mpirun did not start (or a `dagflow` built without MPI) is one rank alone, and nothing here
// costs it anything: MPI starts only under mpirun (a start without it takes about a second).
// The only part of the command that knows MPI (dagflow::mpi, when the build has it). Create
// one, first thing in main(), and keep it until the end: it ends MPI when destroyed. Not
// thread-safe; its cluster() is (see dagflow::Cluster).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <dagflow/engine/cluster.hpp>

namespace dagflow::cli {

class Ranks {
 public:
  /// Under mpirun (and with MPI built in), starts MPI (dagflow::mpi::Session, which may remove
  /// MPI's own arguments from argc/argv) with SIGINT and SIGTERM blocked in the threads MPI
  /// starts, so that Ctrl-C reaches the command's own watcher (see interrupts.hpp). Otherwise
  /// one rank alone. Throws what starting MPI throws (dagflow::Error, std::logic_error).
  Ranks(int& argc, char**& argv);
  /// Ends MPI (after every rank got here), when it was started.
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  /// This process's rank, 0 .. size() - 1.
  [[nodiscard]] std::size_t rank() const noexcept;
  /// How many ranks the job has (1 alone).
  [[nodiscard]] std::size_t size() const noexcept;
  /// Rank 0: the one that prints results and writes files.
  [[nodiscard]] bool leads() const noexcept { return rank() == 0; }
  /// For ExecutorOptions::cluster: the job's ranks, or null alone.
  [[nodiscard]] std::shared_ptr<Cluster> cluster() const;

  /// Collective (every rank calls it, at the same points relative to the runs): every rank's
  /// `mine`, by rank; {mine} alone. Throws dagflow::Error when the cluster fails.
  [[nodiscard]] std::vector<std::string> all_gather(std::string mine);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagflow::cli
