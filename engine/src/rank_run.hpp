// RankRun: one rank's part in a compute() across the ranks of a Cluster.
//
// Every rank plans the same run (same graph, same culled tasks, same fused units), then decides
// from the placement alone, with no messages, what it does with each unit:
// - kLocal: it runs the unit's tasks (and sends each result to the ranks that read it);
// - kReceive: another rank runs them and this one needs some of their results: an async unit that
//   finishes when they have all arrived (it waits for nothing else, so a value can arrive early);
// - kSkip: nothing of the unit is needed here.
// Results a rank found in its caches (the hits of the tasks it would look up) are sent at the
// start; those of other ranks arrive through one more receive unit. Maps and reduces run on
// every rank, each on its share of the blocks (RankSplit), in one fixed order on all ranks, so
// that two ranks never wait for each other's shares of different tasks.
#pragma once

#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <dagflow/engine/detail/chunked_loop.hpp>
#include <dagflow/graph/detail/graph_state.hpp>

#include "cluster_link.hpp"
#include "execution_plan.hpp"
#include "worker_pool.hpp"

namespace dagflow::detail {

struct RunState;

/// No single rank: the task runs on every rank (a map or reduce, split across them).
inline constexpr std::uint32_t kEveryRank = UINT32_MAX;
/// Ranks are bits of a std::uint64_t.
inline constexpr std::size_t kMaxRanks = 64;

/// The rank that runs each task of `upstream` (all the tasks a compute needs, before the caches
/// cull them), by node id; kEveryRank for maps and reduces. Depends on the graph alone: chains
/// stay on one rank, and the chains at each depth are dealt out in contiguous runs (neighbours
/// together, every rank a share of each depth); tasks with side effects (impure ones) run on
/// rank 0, once.
[[nodiscard]] std::vector<std::uint32_t> place_tasks(const GraphState& graph,
                                                     std::span<const NodeId> upstream,
                                                     std::size_t ranks);

/// A hash per task of `upstream` of what every rank must agree on: its op, label, flags, edges
/// (as positions in `upstream`) and content key.
[[nodiscard]] std::vector<Hash128> structure_hashes(
    const GraphState& graph, std::span<const NodeId> upstream,
    const std::vector<std::optional<Hash128>>& keys_by_node);

/// Thrown inside a split task when the exchange of shares cannot complete (the run was cancelled,
/// or another rank failed the task): a consequence, never reported as the failure.
class ExchangeAborted : public std::exception {
 public:
  [[nodiscard]] const char* what() const noexcept override { return "exchange aborted"; }
};

/// A task's failure as every rank reports it at the end of a run (and in a kFailed message).
struct FailureReport {
  std::uint32_t task = 0;  // local index
  std::size_t rank = 0;
  std::size_t attempts = 1;
  std::uint64_t timeout_ms = 0;       // non-zero: it timed out
  std::exception_ptr error;           // on the rank it failed on (encode_failure reads it)
  std::optional<std::size_t> item{};  // decoded: the failed item of a map or reduce
  std::string message{};              // decoded: the original exception's message
};
[[nodiscard]] std::string encode_failure(const FailureReport& f);
[[nodiscard]] FailureReport decode_failure(ByteReader& r);

class RankRun final : public RunMailbox {
 public:
  enum class Role : std::uint8_t { kLocal, kReceive, kSkip };

  RankRun(ClusterLink& link, std::uint64_t id, RunState& run);
  ~RankRun();
  RankRun(const RankRun&) = delete;
  RankRun& operator=(const RankRun&) = delete;

  [[nodiscard]] std::size_t rank() const noexcept { return rank_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }

  /// Which ranks run and need each task of the run (by local index). `cut`: tasks whose result
  /// a rank found in its caches (by local index), each held by the rank that looks it up.
  void assign(const std::vector<std::uint32_t>& owner_by_node, std::span<const std::uint8_t> cut);
  /// The rank that looks up (and persists) the result of a task that `owner` runs.
  [[nodiscard]] static std::uint32_t holder(std::uint32_t owner) noexcept {
    return owner == kEveryRank ? 0 : owner;
  }
  [[nodiscard]] bool runs_here(std::uint32_t v) const noexcept {
    return (runs_on_[v] >> rank_ & 1U) != 0;
  }
  /// Results of tasks with equal groups may be fused into one unit.
  [[nodiscard]] std::span<const std::uint64_t> groups() const noexcept { return runs_on_; }
  /// True when this rank writes task v's result to the disk cache (its holder).
  [[nodiscard]] bool persists_here(std::uint32_t v) const noexcept;
  /// True on the one rank that counts task v in the run's totals (the lowest that runs it).
  [[nodiscard]] bool primary_here(std::uint32_t v) const noexcept {
    return static_cast<std::size_t>(std::countr_zero(runs_on_[v])) == rank_;
  }
  /// Tasks run on more than one rank because their results cannot be sent.
  [[nodiscard]] std::size_t replicated() const noexcept { return replicated_; }

  /// This rank's unit graph over `plan`: roles, predecessors, async units and receive counts.
  void build_units(const ExecutionPlan& plan);
  [[nodiscard]] UnitGraph unit_graph(const UnitGraph& local) const;
  [[nodiscard]] Role role(std::uint32_t unit) const noexcept {
    return unit < role_.size() ? role_[unit] : Role::kReceive;
  }

  /// Sends the cache hits this rank holds to the ranks that need them (at the run's start).
  void send_hits();
  /// After task v finished here: its result to the ranks that need it.
  void after_success(std::uint32_t v);
  /// After task v was skipped here (keep-going: an input failed).
  void after_skip(std::uint32_t v);
  /// After task v failed here: every rank hears of it.
  void after_failure(std::uint32_t v, const std::exception_ptr& error, std::size_t attempts,
                     std::uint64_t timeout_ms);
  /// Executor::cancel on this rank: every rank cancels.
  void after_cancel();
  /// Receive units that still wait finish at once (the run stops).
  void abort_receives() noexcept;

  /// A receive unit starts (WorkerPool's start_async).
  void start_receive(std::uint32_t unit, AsyncUnit handle);
  /// The split of task v, for its body.
  [[nodiscard]] const RankSplit* split_of(std::uint32_t v) const;

  /// Waits, at most `limit`, until the sends that borrowed results (arrays of numbers) are done
  /// with them, so that the targets among them are moved out to the caller, not copied.
  void wait_for_lent_values(std::chrono::milliseconds limit);

  void deliver(std::size_t from, MessageKind kind, std::uint32_t index,
               std::string payload) override;
  BodyBuffer array_buffer(std::uint32_t index, std::size_t size) override;
  void deliver_array(std::uint32_t index, BodyBuffer body) override;
  void fail(const std::string& what) noexcept override;

  /// The failure that made the cluster fail, if it did.
  [[nodiscard]] std::optional<std::string> cluster_failure() const;

 private:
  struct Receiving {
    std::uint32_t remaining = 0;
    bool started = false;
    bool done = false;
    std::optional<AsyncUnit> handle;
  };
  class Split;
  /// How many results are lent to sends (BorrowedBytes) and not yet given back.
  struct Lent {
    std::mutex mutex;
    std::condition_variable returned;
    std::size_t count = 0;
  };
  /// The deleter of a lent value's owner.
  struct GiveBack {
    std::shared_ptr<Lent> lent;
    mutable KeptValue value;  // reset when given back, before the count falls
    void operator()(const void*) const noexcept;
  };
  void arrived(std::uint32_t v);
  bool send_array(std::uint32_t v, const NodeRecord& node);
  [[nodiscard]] std::shared_ptr<const void> lend(const KeptValue& value);
  [[nodiscard]] bool reads_remote_hit(const ExecutionPlan& plan, std::uint32_t u) const;
  std::vector<std::string> exchange(std::uint32_t v, std::string mine);
  [[nodiscard]] bool exchange_can_end(std::uint32_t v) const;  // under mutex_
  void end_exchanges();                                        // under mutex_
  void send_to_readers(std::uint32_t v, MessageKind kind, std::string payload);
  void stop_locally() noexcept;

  ClusterLink& link_;
  std::uint64_t id_;
  RunState& run_;
  std::size_t rank_;
  std::size_t size_;
  std::vector<std::uint64_t> runs_on_;    // by local index: bit r = rank r runs it
  std::vector<std::uint64_t> needed_on_;  // bit r = rank r reads it (or it is a target)
  std::vector<std::uint32_t> owner_;      // by local index: the rank holding its result
  std::vector<std::uint8_t> cut_;
  std::size_t replicated_ = 0;

  std::vector<Role> role_;                // by unit (plan units, then the hits unit)
  std::vector<std::uint32_t> unit_of_;    // local index -> unit of the plan (kNone for cut)
  std::vector<std::uint32_t> wait_unit_;  // local index -> receive unit waiting for it here
  std::vector<std::uint32_t> pred_begin_;
  std::vector<std::uint32_t> preds_;
  std::vector<std::uint8_t> async_;

  mutable std::mutex mutex_;
  std::vector<Receiving> receiving_;  // by unit
  bool aborted_ = false;
  std::optional<std::string> cluster_failure_;
  std::unordered_map<std::uint32_t, std::vector<std::optional<std::string>>> shares_;
  std::vector<std::pair<std::uint32_t, WorkingWait>> exchanging_;  // a split task, its wait
  std::vector<std::uint8_t> failed_remotely_;                      // by local index
  std::unordered_map<std::uint32_t, std::unique_ptr<Split>> splits_;
  std::shared_ptr<Lent> lent_ = std::make_shared<Lent>();  // shared with the borrowed bytes
};

}  // namespace dagflow::detail
