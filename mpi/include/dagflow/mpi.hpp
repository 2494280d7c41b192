// dagflow::mpi: runs an SPMD dagflow program on the ranks of an Open MPI job (target
// dagflow::mpi, not part of dagflow::dagflow). A Session starts and ends MPI for the process;
// its cluster() is what ExecutorOptions::cluster takes. This header does not include <mpi.h>.
// Thread-safety: a Session is created and destroyed on one thread (normally in main()); its
// const members and the Cluster it returns may be used from any thread.
#pragma once

#include <cstddef>
#include <memory>

#include <dagflow/engine/cluster.hpp>

namespace dagflow::mpi {

/// One per process: initialises MPI (MPI_Init_thread) and ends it (MPI_Finalize) at scope exit,
/// or MPI_Abort(…, 1) if the scope is left by an exception (so no rank waits forever for one
/// that failed).
///
///   int main(int argc, char** argv) {
///     dagflow::mpi::Session mpi(argc, argv);
///     dagflow::ExecutorOptions opts;
///     opts.cluster = mpi.cluster();
///     dagflow::Executor ex(opts);  // every rank builds the same graph and computes it
///   }
///
/// Messages of the cluster travel on dagflow's own duplicate of MPI_COMM_WORLD, driven by one
/// background thread per process (started by the first Cluster::attach). The program may make
/// its own MPI calls meanwhile when MPI provides MPI_THREAD_MULTIPLE (Open MPI does); its
/// messages never mix with dagflow's. Create Executors after the Session and destroy them
/// before it: the destructor sends what is still queued, waits until every rank gets there,
/// then finalises MPI; a Cluster kept longer refuses attach() and send() (dagflow::Error). If
/// the cluster failed (an MPI error), the destructor calls MPI_Abort(…, 1) instead.
class Session {
 public:
  /// Initialises MPI with MPI_THREAD_MULTIPLE requested (MPI may remove its own arguments from
  /// argc/argv). Throws std::logic_error if this process already had a Session or initialised
  /// MPI otherwise (MPI can be initialised only once per process), and dagflow::Error if MPI
  /// provides less than MPI_THREAD_SERIALIZED or a call fails. Without mpirun, this process is
  /// a job of one rank (MPI's singleton start, about a second with Open MPI).
  Session(int& argc, char**& argv);
  /// The same, without the program's arguments.
  Session();
  /// See the class comment: flush, then MPI_Finalize; MPI_Abort(MPI_COMM_WORLD, 1) when the
  /// scope is left by an exception or the cluster failed.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// This process's rank in MPI_COMM_WORLD.
  [[nodiscard]] std::size_t rank() const noexcept;
  /// The number of ranks in MPI_COMM_WORLD (1 without mpirun).
  [[nodiscard]] std::size_t size() const noexcept;
  /// The ranks of this job for ExecutorOptions::cluster (one rank without mpirun). The same
  /// object on every call; attach() on it must be made in the same order on every rank.
  [[nodiscard]] std::shared_ptr<Cluster> cluster() const;
  /// True when this process was started by mpirun/mpiexec (Open MPI, PMIx or Hydra environment
  /// variables such as OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK): a program started alone can
  /// skip MPI, whose singleton start costs about a second. Reads the environment as it was at
  /// the first call or the first Session, whichever came first (MPI may add such variables).
  [[nodiscard]] static bool launched_by_mpirun() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagflow::mpi
