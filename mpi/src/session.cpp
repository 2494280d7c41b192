#include <dagflow/mpi.hpp>
// (the header this file implements first)

#include <atomic>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>
#include <mpi.h>

#include <dagflow/graph/errors.hpp>

#include "mpi_error.hpp"
#include "transport.hpp"

namespace dagflow::mpi {

namespace {

// MPI can be initialised once per process, so a Session can be made once.
std::atomic<bool> session_made{false};

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    default:
      return "MPI_THREAD_MULTIPLE";
  }
}

bool read_launcher_environment() noexcept {
  // Open MPI's mpirun, PMIx launchers (Open MPI 5, Slurm's srun --mpi=pmix) and Hydra (MPICH,
  // Intel MPI) each give their processes these; a program started alone has none of them.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

}  // namespace

struct Session::Impl {
  std::shared_ptr<Transport> transport;
  std::size_t rank = 0;
  std::size_t size = 1;
  int uncaught_at_start = 0;
  bool thread_multiple = false;

  static std::unique_ptr<Impl> start(int* argc, char*** argv) {
    // Read before MPI_Init_thread: a singleton start may set such variables in this process.
    static_cast<void>(launched_by_mpirun());
    if (session_made.exchange(true)) {
      throw std::logic_error(
          "dagflow::mpi::Session: this process already had one (MPI can be initialised only "
          "once per process)");
    }
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (initialized != 0) {
      throw std::logic_error(
          "dagflow::mpi::Session: MPI was already initialised in this process; the Session "
          "initialises and finalises it");
    }
    int provided = MPI_THREAD_SINGLE;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
    if (provided < MPI_THREAD_SERIALIZED) {
      MPI_Finalize();
      throw Error(fmt::format(
          "this MPI library provides only {}; dagflow::mpi needs MPI_THREAD_SERIALIZED or "
          "MPI_THREAD_MULTIPLE (its progress thread makes the MPI calls)",
          thread_level_name(provided)));
    }
    auto impl = std::make_unique<Impl>();
    impl->transport = std::make_shared<Transport>(MPI_COMM_WORLD);
    impl->rank = impl->transport->rank();
    impl->size = impl->transport->size();
    impl->uncaught_at_start = std::uncaught_exceptions();
    impl->thread_multiple = provided == MPI_THREAD_MULTIPLE;
    return impl;
  }
};

Session::Session(int& argc, char**& argv) : impl_(Impl::start(&argc, &argv)) {}

Session::Session() : impl_(Impl::start(nullptr, nullptr)) {}

Session::~Session() {
  const bool unwinding = std::uncaught_exceptions() > impl_->uncaught_at_start;
  if (unwinding || !impl_->transport->shutdown()) {
    // This rank is failing (or the cluster already failed): ranks that wait for it would wait
    // forever, and MPI_Finalize with them could hang. End the whole job instead. Without
    // MPI_THREAD_MULTIPLE, the progress thread must stop calling MPI first.
    if (!impl_->thread_multiple) impl_->transport->halt();
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
}

std::size_t Session::rank() const noexcept { return impl_->rank; }

std::size_t Session::size() const noexcept { return impl_->size; }

std::shared_ptr<Cluster> Session::cluster() const { return impl_->transport; }

bool Session::launched_by_mpirun() noexcept {
  static const bool launched = read_launcher_environment();
  return launched;
}

}  // namespace dagflow::mpi
