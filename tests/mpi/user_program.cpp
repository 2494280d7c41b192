// The program a user writes to run dagflow on the ranks of an MPI job, as <dagflow/mpi.hpp>
// documents it: a Session first, its cluster() in the Executor's options, the same graph built
// and computed on every rank, one line printed by rank 0. Exits non-zero if a rank's result is
// wrong. Run under mpirun and alone.
#include <cstdio>
#include <vector>

#include <dagflow/dagflow.hpp>
#include <dagflow/mpi.hpp>

int main(int argc, char** argv) {
  dagflow::mpi::Session mpi(argc, argv);
  dagflow::ExecutorOptions opts;
  opts.threads = 1;
  opts.cluster = mpi.cluster();
  dagflow::Executor ex(opts);

  std::vector<long> xs(1000);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<long>(i) + 1;
  dagflow::Graph g;
  auto squares = dagflow::map(
      g, [](long x) { return x * x; }, xs);
  auto total = dagflow::reduce(
      g, [](long a, long b) { return a + b; }, 0L, squares);
  const long got = ex.compute(total);
  if (mpi.rank() == 0) {
    std::printf("rank 0 of %zu: sum of squares = %ld\n", mpi.size(), got);
  }
  return got == 333'833'500L ? 0 : 1;
}
