// bench/mpi: dagflow across two ranks beside one process and beside raw MPI, in one run.
//
//   mpirun --oversubscribe -np 2 build/release/bench/mpi
// (as root also OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment)
//
// (a) map of 4x10^6 items of ~1 us + reduce: 2 ranks x 1 thread vs one process x 2 threads
//     (the same cores); (b) 10^5 independent tasks of ~10 us + a sum: time per task on 2 ranks vs
//     one process with 2 threads, and vs Dask's ~2.5 ms per distributed task; (c) one 256 MB
//     std::vector<double> sent between ranks as a task's result vs a raw MPI_Send of its bytes.
// The one-process columns run on rank 0 while rank 1 waits in Executor::all_gather (which
// sleeps, unlike an MPI barrier, so rank 0 has both cores). Prints a table and the ratios.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include <dagflow/dagflow.hpp>
#include <dagflow/mpi.hpp>

#include "busy_work.hpp"
#include "timing.hpp"

namespace {

constexpr std::size_t kItems = 4'000'000;
constexpr int kTasks = 100'000;
constexpr std::size_t kBigDoubles = std::size_t{256} << 17;  // 256 MB of doubles
constexpr double kDaskSecondsPerTask = 2.5e-3;

// (a): the map + reduce of ~1 us items.
double map_reduce(dagflow::Executor& ex, std::uint64_t spins) {
  dagflow::Graph g;
  std::vector<double> xs(kItems);
  for (std::size_t i = 0; i < kItems; ++i) xs[i] = static_cast<double>(i % 997);
  auto ys = dagflow::map(
      g, [spins](double x) { return bench::burn(spins, x); }, std::move(xs));
  auto total = dagflow::reduce(g, std::plus<>{}, 0.0, ys);
  return ex.compute(total);
}

// (b): independent ~10 us tasks and their sum.
double fan_in(dagflow::Executor& ex, std::uint64_t spins) {
  dagflow::Graph g;
  std::vector<dagflow::Delayed<double>> parts;
  parts.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    parts.push_back(g.delayed([spins](int k) { return bench::burn(spins, k); }, i));
  }
  auto sum = g.delayed(
      [](const std::vector<double>& v) {
        double s = 0;
        for (const double x : v) s += x;
        return s;
      },
      parts);
  return ex.compute(sum);
}

// (c): a task whose 256 MB result every rank receives (it is the target).
std::size_t big_vector(dagflow::Executor& ex) {
  dagflow::Graph g;
  auto big = g.delayed(dagflow::op("big vector", [] {
    std::vector<double> v(kBigDoubles);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
    return v;
  }));
  return ex.compute(big).size();
}

// Raw MPI: rank 0 sends the bytes of a 256 MB vector to rank 1 (in pieces under 2^31 bytes),
// received into a buffer used before or, with `fresh`, into a new vector (made in the time).
double raw_send(int rank, bool fresh) {
  std::vector<double> v;
  if (rank == 0 || !fresh) v.assign(kBigDoubles, 1.0);
  const std::size_t bytes = kBigDoubles * sizeof(double);
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = bench::Clock::now();
  if (fresh && rank == 1) v.resize(kBigDoubles);
  auto* data = reinterpret_cast<char*>(v.data());
  for (std::size_t at = 0; at < bytes; at += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, bytes - at));
    if (rank == 0) {
      MPI_Send(data + at, n, MPI_BYTE, 1, 7, MPI_COMM_WORLD);
    } else {
      MPI_Recv(data + at, n, MPI_BYTE, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
  }
  return bench::seconds_since(start);
}

// Times f() on rank 0 alone (with `threads`), the other rank waiting on `both` meanwhile.
template <class F>
double on_rank0_alone(dagflow::Executor& both, int rank, F&& f) {
  double t = 0;
  if (rank == 0) t = bench::seconds_of(f);
  (void)both.all_gather({});
  return t;
}

// Times f() on every rank; the slowest rank's time (all_gather'd).
template <class F>
double on_all_ranks(dagflow::Executor& both, F&& f) {
  (void)both.all_gather({});
  const double mine = bench::seconds_of(f);
  double slowest = 0;
  for (const std::string& s : both.all_gather(std::to_string(mine))) {
    slowest = std::max(slowest, std::stod(s));
  }
  return slowest;
}

}  // namespace

int main(int argc, char** argv) {
  dagflow::mpi::Session mpi(argc, argv);
  const int rank = static_cast<int>(mpi.rank());
  if (mpi.size() != 2) {
    if (rank == 0) std::fprintf(stderr, "bench/mpi: run it with mpirun -np 2\n");
    return 2;
  }
  bench::pin_malloc_thresholds();
  // Rank 0's calibration for both, so that both burn the same work.
  std::uint64_t spins = bench::spins_per_us();
  MPI_Bcast(&spins, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);

  dagflow::Executor both({.threads = 1, .cluster = mpi.cluster()});
  dagflow::Executor alone({.threads = 2});
  double single_value = 0;
  double ranks_value = 0;

  const double a_alone =
      on_rank0_alone(both, rank, [&] { single_value = map_reduce(alone, spins); });
  const double a_ranks = on_all_ranks(both, [&] { ranks_value = map_reduce(both, spins); });
  const bool a_same = rank != 0 || std::memcmp(&single_value, &ranks_value, sizeof(double)) == 0;

  const double b_alone = on_rank0_alone(both, rank, [&] { (void)fan_in(alone, spins * 10); });
  const double b_ranks = on_all_ranks(both, [&] { (void)fan_in(both, spins * 10); });

  const double c_local = on_rank0_alone(both, rank, [&] { (void)big_vector(alone); });
  const double c_ranks = on_all_ranks(both, [&] { (void)big_vector(both); });
  const double c_raw = raw_send(rank, false);
  const double c_raw_fresh = raw_send(rank, true);

  if (rank == 0) {
    const double c_moved = std::max(1e-9, c_ranks - c_local);
    std::printf("bench/mpi: 2 ranks x 1 thread beside 1 process x 2 threads (same 2 cores)\n\n");
    std::printf("%-52s %12s %12s %8s\n", "case", "1 process", "2 ranks", "ratio");
    std::printf("%-52s %11.3fs %11.3fs %7.2fx  (speed of 2 ranks / 1 process; target >= 0.8)\n",
                "(a) map 4e6 items x ~1 us + reduce", a_alone, a_ranks, a_alone / a_ranks);
    std::printf("%-52s %10.1fus %10.1fus %7.2fx  (per task; Dask ~2500 us: %.0fx less)\n",
                "(b) 1e5 independent tasks x ~10 us + sum", b_alone / kTasks * 1e6,
                b_ranks / kTasks * 1e6, b_alone / b_ranks, kDaskSecondsPerTask * kTasks / b_ranks);
    std::printf("%-52s %11.3fs %11.3fs %7.2fx  (raw MPI_Send / dagflow; target >= 0.6)\n",
                "(c) 256 MB vector<double> to the other rank", c_raw, c_moved, c_raw / c_moved);
    std::printf("%-52s %11.3fs %11.3fs %7.2fx  (the same, raw into a new vector)\n", "",
                c_raw_fresh, c_moved, c_raw_fresh / c_moved);
    std::printf("\n(a) same bits as one process: %s\n", a_same ? "yes" : "NO");
    std::printf(
        "(c) dagflow's time is the 2-rank compute minus the same compute in one process "
        "(%.3fs: making the vector)\n",
        c_local);
  }
  return a_same ? 0 : 1;
}
