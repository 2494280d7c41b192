#include "worker_pool.hpp"

#include <future>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/util/large_allocator.hpp>

namespace dagflow::detail {

namespace flow = tbb::flow;

namespace {
std::size_t cores() { return static_cast<std::size_t>(tbb::info::default_concurrency()); }

// oneTBB starts its workers lazily, from a thread of its own, and aborts the process when the
// system refuses one (a low `ulimit -u`, a container's pids limit). So start as many threads as
// the pool will need here first, all alive at once, where a refusal can still be an exception.
void check_threads_can_start(std::size_t workers) {
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  std::vector<std::thread> probes;
  probes.reserve(workers);
  std::string refused;
  try {
    for (std::size_t i = 0; i < workers; ++i) probes.emplace_back([released] { released.wait(); });
  } catch (const std::system_error& e) {
    refused = e.code().message();
  }
  release.set_value();
  for (std::thread& t : probes) t.join();
  if (!refused.empty()) {
    throw Error(fmt::format(
        "cannot start {} worker threads (started {}): {}; the limit on processes and threads "
        "(ulimit -u, a container's pids limit) may be too low, or ask for fewer threads",
        workers, probes.size(), refused));
  }
}

std::size_t checked_threads(std::size_t requested) {
  const std::size_t threads = requested == 0 ? cores() : requested;
  check_threads_can_start(threads - 1);  // the caller's thread is the arena's first
  return threads;
}
}  // namespace

struct WorkerPool::Impl {
  explicit Impl(std::size_t requested)
      : threads(checked_threads(requested)), arena(static_cast<int>(threads)) {
    // oneTBB caps its workers at the core count: asking for more (say, for tasks that mostly
    // wait) would silently get fewer, with a warning on stderr. Raise the process-wide cap
    // while this pool lives.
    if (threads > cores()) {
      raised_limit = std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, threads);
    }
  }

  std::size_t threads;
  std::unique_ptr<tbb::global_control> raised_limit;
  tbb::task_arena arena;
};

WorkerPool::WorkerPool(std::size_t threads) : impl_(std::make_unique<Impl>(threads)) {}
WorkerPool::~WorkerPool() = default;

std::size_t WorkerPool::threads() const noexcept { return impl_->threads; }

namespace {

void run_flow_graph(const UnitGraph& units) {
  using Node = flow::continue_node<flow::continue_msg>;
  flow::graph fg;
  util::LargeVector<Node> nodes;
  nodes.reserve(units.units);
  for (std::uint32_t u = 0; u < units.units; ++u) {
    nodes.emplace_back(fg, [&units, &fg, u](const flow::continue_msg&) {
      if (!units.run_unit(units.context, u)) fg.cancel();
    });
  }
  try {
    for (std::uint32_t u = 0; u < units.units; ++u) {
      for (std::uint32_t p = units.pred_begin[u]; p < units.pred_begin[u + 1]; ++p) {
        flow::make_edge(nodes[units.preds[p]], nodes[u]);
      }
    }
    for (std::uint32_t u = 0; u < units.units; ++u) {
      if (units.pred_begin[u] == units.pred_begin[u + 1]) nodes[u].try_put(flow::continue_msg());
    }
  } catch (...) {
    fg.cancel();
    fg.wait_for_all();
    throw;
  }
  fg.wait_for_all();
}

}  // namespace

std::size_t WorkerPool::run(const UnitGraph& graph) {
  impl_->arena.execute([&] { tbb::this_task_arena::isolate([&] { run_flow_graph(graph); }); });
  return graph.units;
}

std::size_t WorkerPool::current_concurrency() noexcept {
  return static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
}

std::size_t WorkerPool::current_worker() noexcept {
  const int index = tbb::this_task_arena::current_thread_index();
  return index < 0 ? 0 : static_cast<std::size_t>(index);
}

void WorkerPool::parallel_for(std::size_t n, std::size_t grain,
                              void (*body)(void* context, std::size_t begin, std::size_t end),
                              void* context) {
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, n, grain),
      [&](const tbb::blocked_range<std::size_t>& r) { body(context, r.begin(), r.end()); });
}

}  // namespace dagflow::detail
