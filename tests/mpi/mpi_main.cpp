// The Catch2 main of the MPI test programs, run by mpirun on every rank (dagflow_add_mpi_test).
// One Session for the whole run: made before the first case, ended after the last. Every rank
// runs the same cases in the same order (Catch2's default declaration order), as the pairing of
// ports by attach order needs. A case that fails on any rank makes that rank exit non-zero, and
// mpirun then exits non-zero; a case waiting for a rank that failed gives up after a minute.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <dagflow/mpi.hpp>

#include "mpi_test.hpp"

namespace {
dagflow::mpi::Session* current_session = nullptr;
}  // namespace

dagflow::mpi::Session& dagflow::test::mpi_session() { return *current_session; }

int main(int argc, char** argv) {
  dagflow::mpi::Session session(argc, argv);
  current_session = &session;
  const int failed = Catch::Session().run(argc, argv);
  current_session = nullptr;
  return failed == 0 ? 0 : 1;
}
