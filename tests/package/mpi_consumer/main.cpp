// An SPMD program built against the installed package with the mpi component: each rank
// computes the same graph with the job's cluster and checks the value. Started alone here (a
// job of one rank); the mpirun tests of the build tree cover more ranks.
#include <cstdio>

#include <dagflow/dagflow.hpp>
#include <dagflow/mpi.hpp>

int main(int argc, char** argv) {
  dagflow::mpi::Session mpi(argc, argv);
  dagflow::ExecutorOptions opts;
  opts.threads = 1;
  opts.cluster = mpi.cluster();
  dagflow::Executor ex(opts);
  dagflow::Graph g;
  auto a = g.delayed([](int x) { return x * x; }, 7);
  auto b = g.delayed([](int x, int y) { return x + y; }, a, 1);
  const int got = ex.compute(b);
  if (mpi.rank() == 0) std::printf("rank 0 of %zu: %d\n", mpi.size(), got);
  return got == 50 ? 0 : 1;
}
