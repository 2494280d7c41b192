#include <dagflow/mpi.hpp>

// Tests of Session alone: where it says this process stands, against MPI itself and the
// launcher; that it exists once per process. Run under mpirun at 1, 2 and 3 ranks and once
// without mpirun (DAGFLOW_TEST_LAUNCHED says which).
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <mpi.h>

#include "mpi_test.hpp"

namespace {
std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}
}  // namespace

// rank() and size() are MPI_COMM_WORLD's, and what mpirun told this process.
TEST_CASE("Session: rank and size agree with MPI", "[mpi][session]") {
  const dagflow::mpi::Session& session = dagflow::test::mpi_session();
  int provided = MPI_THREAD_SINGLE;
  REQUIRE(MPI_Query_thread(&provided) == MPI_SUCCESS);
  // The transport's thread may be calling MPI too: only then may this thread.
  REQUIRE(provided == MPI_THREAD_MULTIPLE);
  int rank = -1;
  int size = -1;
  REQUIRE(MPI_Comm_rank(MPI_COMM_WORLD, &rank) == MPI_SUCCESS);
  REQUIRE(MPI_Comm_size(MPI_COMM_WORLD, &size) == MPI_SUCCESS);
  CHECK(session.rank() == static_cast<std::size_t>(rank));
  CHECK(session.size() == static_cast<std::size_t>(size));
  if (environment("DAGFLOW_TEST_LAUNCHED") == "1") {
    CHECK(environment("OMPI_COMM_WORLD_RANK") == std::to_string(rank));
    CHECK(environment("OMPI_COMM_WORLD_SIZE") == std::to_string(size));
  } else {
    CHECK(size == 1);
  }
}

// launched_by_mpirun() is true under mpirun (whatever the rank count) and false when the
// program was started alone, even though MPI has started by now.
TEST_CASE("Session: launched_by_mpirun() tells mpirun from a program started alone",
          "[mpi][session]") {
  const std::string launched = environment("DAGFLOW_TEST_LAUNCHED");
  REQUIRE((launched == "0" || launched == "1"));
  CHECK(dagflow::mpi::Session::launched_by_mpirun() == (launched == "1"));
}

// MPI starts once per process: a second Session is a programming error.
TEST_CASE("Session: a second Session in one process throws std::logic_error", "[mpi][session]") {
  CHECK_THROWS_AS(dagflow::mpi::Session(), std::logic_error);
  int argc = 1;
  std::string name = "session_test";
  char* args[] = {name.data(), nullptr};
  char** argv = args;
  CHECK_THROWS_AS(dagflow::mpi::Session(argc, argv), std::logic_error);
}

// cluster() hands out one Cluster, which sees the job as the Session does.
TEST_CASE("Session: cluster() is the same Cluster every call, with the Session's rank and size",
          "[mpi][session]") {
  const dagflow::mpi::Session& session = dagflow::test::mpi_session();
  const std::shared_ptr<dagflow::Cluster> cluster = session.cluster();
  REQUIRE(cluster != nullptr);
  CHECK(cluster == session.cluster());
  CHECK(cluster->rank() == session.rank());
  CHECK(cluster->size() == session.size());
}
