#include "ranks.hpp"
// (the header this file implements first)

#include <csignal>
#include <pthread.h>
#include <utility>

#include <dagflow/engine/executor.hpp>

#ifdef DAGFLOW_WITH_MPI
#include <dagflow/mpi.hpp>
#endif

namespace dagflow::cli {

namespace {

#ifdef DAGFLOW_WITH_MPI
// While it lives, SIGINT and SIGTERM are blocked in the calling thread, and so in every thread
// started meanwhile (MPI's, the cluster's progress thread): a signal then goes to a thread that
// takes it on purpose (InterruptWatch's, or the main thread once unblocked), never to one of
// theirs, where its default action would end the rank without a word to the others.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t signals;
    ::sigemptyset(&signals);
    ::sigaddset(&signals, SIGINT);
    ::sigaddset(&signals, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &signals, &old_);
  }
  ~SignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_{};
};
#endif

}  // namespace

struct Ranks::Impl {
#ifdef DAGFLOW_WITH_MPI
  std::unique_ptr<mpi::Session> session;  // declared first: destroyed after every Executor
#endif
  std::shared_ptr<Cluster> cluster;  // null alone
  std::size_t rank = 0;
  std::size_t size = 1;
  // Across ranks: an Executor of the command's own for all_gather, made first on every rank, so
  // that it is the first to attach to the cluster everywhere (a run's Executor comes second).
  std::unique_ptr<Executor> gatherer;
};

Ranks::Ranks(int& argc, char**& argv) : impl_(std::make_unique<Impl>()) {
#ifdef DAGFLOW_WITH_MPI
  if (!mpi::Session::launched_by_mpirun()) return;
  const SignalsBlocked blocked;
  impl_->session = std::make_unique<mpi::Session>(argc, argv);
  impl_->rank = impl_->session->rank();
  impl_->size = impl_->session->size();
  if (impl_->size > 1) {
    impl_->cluster = impl_->session->cluster();
    ExecutorOptions options;
    options.threads = 1;
    options.memory_cache_bytes = 0;
    options.cluster = impl_->cluster;
    impl_->gatherer = std::make_unique<Executor>(std::move(options));
  }
#else
  static_cast<void>(argc);
  static_cast<void>(argv);
#endif
}

Ranks::~Ranks() = default;

std::size_t Ranks::rank() const noexcept { return impl_->rank; }

std::size_t Ranks::size() const noexcept { return impl_->size; }

std::shared_ptr<Cluster> Ranks::cluster() const { return impl_->cluster; }

std::vector<std::string> Ranks::all_gather(std::string mine) {
  if (!impl_->gatherer) return {std::move(mine)};
  return impl_->gatherer->all_gather(std::move(mine));
}

}  // namespace dagflow::cli
