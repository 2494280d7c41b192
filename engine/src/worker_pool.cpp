#include "worker_pool.hpp"

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
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
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task.h>
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

namespace {
// The idle arenas, by thread count: a WorkerPool borrows one and gives it back when it goes.
// oneTBB does not give back all the memory of an arena it destroys, so a program that made
// Executors in a loop grew with each one (tests/soak: 30,000 Executors); now it makes only as
// many arenas as it ever had pools alive at once. Constant-initialised, so no constructor runs: a
// WorkerPool made during another file's static initialisation finds the list ready, and TSan
// (blind to this uninstrumented file) sees no guard to race on. Never destroyed: an arena must
// not be destroyed after oneTBB's own statics.
struct IdleArena {
  std::size_t threads;
  std::unique_ptr<tbb::task_arena> arena;
  IdleArena* next;
};
constinit std::mutex idle_arenas_mutex;
constinit IdleArena* idle_arenas = nullptr;

std::unique_ptr<tbb::task_arena> take_arena(std::size_t threads) {
  {
    const std::lock_guard lock(idle_arenas_mutex);
    for (IdleArena** link = &idle_arenas; *link != nullptr; link = &(*link)->next) {
      if ((*link)->threads != threads) continue;
      const std::unique_ptr<IdleArena> idle(*link);
      *link = idle->next;
      return std::move(idle->arena);
    }
  }
  return std::make_unique<tbb::task_arena>(static_cast<int>(threads));
}

void give_back_arena(std::size_t threads, std::unique_ptr<tbb::task_arena> arena) {
  const std::lock_guard lock(idle_arenas_mutex);
  idle_arenas = new IdleArena{threads, std::move(arena), idle_arenas};
}
}  // namespace

struct WorkerPool::Impl {
  explicit Impl(std::size_t requested)
      : threads(checked_threads(requested)), arena(take_arena(threads)) {
    // oneTBB caps its workers at the core count: asking for more (say, for tasks that mostly
    // wait) would silently get fewer, with a warning on stderr. Raise the process-wide cap
    // while this pool lives.
    if (threads > cores()) {
      raised_limit = std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, threads);
    }
  }

  ~Impl() { give_back_arena(threads, std::move(arena)); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::size_t threads;
  std::unique_ptr<tbb::global_control> raised_limit;
  std::unique_ptr<tbb::task_arena> arena;
};

WorkerPool::WorkerPool(std::size_t threads) : impl_(std::make_unique<Impl>(threads)) {}
WorkerPool::~WorkerPool() = default;

std::size_t WorkerPool::threads() const noexcept { return impl_->threads; }

// One run of a UnitGraph on a tbb::flow::graph: a continue_node per unit. An async unit's node
// only starts it (holding the graph open with reserve_wait); its successors are not linked to it
// but count it among their predecessors and are put to by AsyncUnit::finish, from whatever thread
// finishes it (oneTBB then spawns them into the graph's arena).
struct FlowRun {
  using Node = flow::continue_node<flow::continue_msg>;

  explicit FlowRun(const UnitGraph& graph)
      : units(graph), hop(fg, flow::unlimited, [this](std::uint32_t u) {
          units.resume(units.context, u);
          return flow::continue_msg();
        }) {}

  [[nodiscard]] bool is_async(std::uint32_t u) const {
    return units.async != nullptr && units.async[u] != 0;
  }

  // Successors of each async unit (successors of plain units are linked by edges).
  void index_async_successors() {
    if (units.async == nullptr) return;
    succ_begin.assign(units.units + 1, 0);
    for (std::uint32_t u = 0; u < units.units; ++u) {
      for (std::uint32_t p = units.pred_begin[u]; p < units.pred_begin[u + 1]; ++p) {
        if (is_async(units.preds[p])) ++succ_begin[units.preds[p] + 1];
      }
    }
    for (std::size_t u = 0; u < units.units; ++u) succ_begin[u + 1] += succ_begin[u];
    succs.resize(succ_begin.back());
    std::vector<std::uint32_t> fill(succ_begin.begin(), succ_begin.end() - 1);
    for (std::uint32_t u = 0; u < units.units; ++u) {
      for (std::uint32_t p = units.pred_begin[u]; p < units.pred_begin[u + 1]; ++p) {
        if (is_async(units.preds[p])) succs[fill[units.preds[p]]++] = u;
      }
    }
  }

  [[nodiscard]] int async_preds(std::uint32_t u) const {
    if (units.async == nullptr) return 0;
    int count = 0;
    for (std::uint32_t p = units.pred_begin[u]; p < units.pred_begin[u + 1]; ++p) {
      if (is_async(units.preds[p])) ++count;
    }
    return count;
  }

  void build_nodes() {
    nodes.reserve(units.units);
    for (std::uint32_t u = 0; u < units.units; ++u) {
      if (is_async(u)) {
        nodes.emplace_back(fg, async_preds(u), [this, u](const flow::continue_msg&) {
          fg.reserve_wait();
          units.start_async(units.context, u, AsyncUnit(this, u));
        });
      } else {
        nodes.emplace_back(fg, async_preds(u), [this, u](const flow::continue_msg&) {
          // With async units in flight, the run is cancelled through the units' own flag, never
          // the graph's: a cancelled graph would drop the puts that finish them.
          if (!units.run_unit(units.context, u) && units.async == nullptr) fg.cancel();
        });
      }
    }
  }

  void link_and_start() {
    for (std::uint32_t u = 0; u < units.units; ++u) {
      for (std::uint32_t p = units.pred_begin[u]; p < units.pred_begin[u + 1]; ++p) {
        if (!is_async(units.preds[p])) flow::make_edge(nodes[units.preds[p]], nodes[u]);
      }
    }
    for (std::uint32_t u = 0; u < units.units; ++u) {
      if (units.pred_begin[u] == units.pred_begin[u + 1]) nodes[u].try_put(flow::continue_msg());
    }
  }

  void finish(std::uint32_t u) {
    if (!succ_begin.empty()) {
      for (std::uint32_t i = succ_begin[u]; i < succ_begin[u + 1]; ++i) {
        nodes[succs[i]].try_put(flow::continue_msg());
      }
    }
    fg.release_wait();
  }

  const UnitGraph& units;
  flow::graph fg;
  util::LargeVector<Node> nodes;
  flow::function_node<std::uint32_t> hop;
  std::vector<std::uint32_t> succ_begin;
  std::vector<std::uint32_t> succs;
};

void AsyncUnit::run_on_worker() const { static_cast<FlowRun*>(run_)->hop.try_put(unit_); }

void AsyncUnit::finish() const { static_cast<FlowRun*>(run_)->finish(unit_); }

namespace {

void run_flow_graph(const UnitGraph& units) {
  FlowRun run(units);
  run.index_async_successors();
  run.build_nodes();
  try {
    run.link_and_start();
  } catch (...) {
    run.fg.cancel();
    run.fg.wait_for_all();
    throw;
  }
  run.fg.wait_for_all();
}

}  // namespace

std::size_t WorkerPool::run(const UnitGraph& graph) {
  impl_->arena->execute([&] { tbb::this_task_arena::isolate([&] { run_flow_graph(graph); }); });
  return graph.units;
}

std::size_t WorkerPool::current_concurrency() noexcept {
  return static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
}

std::size_t WorkerPool::current_worker() noexcept {
  const int index = tbb::this_task_arena::current_thread_index();
  return index < 0 ? 0 : static_cast<std::size_t>(index);
}

// Suspends only on a thread of an arena of one thread (I/O threads are in no arena): oneTBB may
// resume a suspended task on another thread of its arena, where the task's thread-locals (the
// running TaskContext) would be wrong; in an arena of one thread it cannot. (Waiting inside a
// task group instead would run other tasks too, but a thread waiting there cannot take a task
// that became ready from outside the arena, and spins until another thread takes it.)
struct WorkingWait::Impl {
  Impl()
      : suspends(tbb::this_task_arena::current_thread_index() >= 0 &&
                 tbb::this_task_arena::max_concurrency() == 1) {}

  const bool suspends;
  std::mutex mutex;
  bool released = false;
  std::optional<tbb::task::suspend_point> suspended;  // suspends: the waiter, once suspended
  std::condition_variable released_cv;                // else: the blocked waiter
};

WorkingWait::WorkingWait() : impl_(std::make_shared<Impl>()) {}

void WorkingWait::wait() const {
  Impl& w = *impl_;
  if (!w.suspends) {
    std::unique_lock lock(w.mutex);
    w.released_cv.wait(lock, [&] { return w.released; });
    return;
  }
  tbb::task::suspend([&w](tbb::task::suspend_point point) {
    const std::lock_guard lock(w.mutex);
    if (w.released) {
      tbb::task::resume(point);
    } else {
      w.suspended = point;
    }
  });
}

void WorkingWait::release() const {
  Impl& w = *impl_;
  const std::lock_guard lock(w.mutex);
  w.released = true;
  if (w.suspended) {
    tbb::task::resume(*w.suspended);
  } else {
    w.released_cv.notify_all();
  }
}

void WorkerPool::parallel_for(std::size_t n, std::size_t grain,
                              void (*body)(void* context, std::size_t begin, std::size_t end),
                              void* context) {
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, n, grain),
      [&](const tbb::blocked_range<std::size_t>& r) { body(context, r.begin(), r.end()); });
}

void WorkerPool::ordered_pipeline(const OrderedStages& stages) {
  std::size_t next = 0;
  tbb::parallel_pipeline(
      stages.tokens,
      tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                          [&](tbb::flow_control& control) -> std::size_t {
                                            if (next == stages.items) {
                                              control.stop();
                                              return 0;
                                            }
                                            stages.first(stages.context, next);
                                            return next++;
                                          }) &
          tbb::make_filter<std::size_t, std::size_t>(tbb::filter_mode::parallel,
                                                     [&](std::size_t item) {
                                                       stages.middle(stages.context, item);
                                                       return item;
                                                     }) &
          tbb::make_filter<std::size_t, void>(
              tbb::filter_mode::serial_in_order,
              [&](std::size_t item) { stages.last(stages.context, item); }));
}

}  // namespace dagflow::detail
