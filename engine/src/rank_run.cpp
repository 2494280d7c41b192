#include "rank_run.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include <dagflow/graph/hashing.hpp>

#include "run_state.hpp"

namespace dagflow::detail {

namespace {

constexpr std::uint32_t kNone = UINT32_MAX;

std::uint64_t bit(std::size_t rank) { return std::uint64_t{1} << rank; }

std::uint64_t all_ranks(std::size_t size) {
  return size >= kMaxRanks ? ~std::uint64_t{0} : bit(size) - 1;
}

bool is_split(const NodeRecord& node) {
  return has_flag(node.flags, NodeFlags::kSplitsAcrossRanks);
}

// Impure tasks, and those asked to (TaskOptions::on_rank0), run on rank 0.
bool on_rank0(const GraphState& graph, NodeId id) {
  if (has_flag(graph.node(id).flags, NodeFlags::kImpure)) return true;
  const TaskOptions* options = graph.options(id);
  return options != nullptr && options->on_rank0;
}

// Position of each node of `upstream` in it, by node id.
std::vector<std::uint32_t> positions(std::span<const NodeId> upstream) {
  const NodeId top = upstream.empty() ? 0 : *std::max_element(upstream.begin(), upstream.end());
  std::vector<std::uint32_t> pos(std::size_t{top} + 1, kNone);
  for (std::uint32_t i = 0; i < upstream.size(); ++i) pos[upstream[i]] = i;
  return pos;
}

}  // namespace

// ---- placement ----------------------------------------------------------------------------------

std::vector<std::uint32_t> place_tasks(const GraphState& graph, std::span<const NodeId> upstream,
                                       std::size_t ranks) {
  const std::vector<std::uint32_t> pos = positions(upstream);
  const std::size_t n = upstream.size();
  std::vector<std::uint32_t> readers(n, 0);
  for (const NodeId id : upstream) {
    const NodeRecord& node = graph.node(id);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) ++readers[pos[graph.edges(node)[e]]];
  }
  // Chains (a task that is its single dependency's only reader joins it), and each chain's depth.
  std::vector<std::uint32_t> chain_of(n);
  std::vector<std::uint32_t> depth_of_chain;
  for (std::uint32_t i = 0; i < n; ++i) {
    const NodeRecord& node = graph.node(upstream[i]);
    const NodeId* edges = graph.edges(node);
    if (node.edge_count == 1 && readers[pos[edges[0]]] == 1 && !is_split(node) &&
        !is_split(graph.node(edges[0]))) {
      chain_of[i] = chain_of[pos[edges[0]]];
      continue;
    }
    std::uint32_t depth = 0;
    for (std::uint32_t e = 0; e < node.edge_count; ++e) {
      depth = std::max(depth, depth_of_chain[chain_of[pos[edges[e]]]] + 1);
    }
    chain_of[i] = static_cast<std::uint32_t>(depth_of_chain.size());
    depth_of_chain.push_back(depth);
  }
  // Deal each depth's chains out in contiguous runs, the first run on a rank that turns with the
  // depth (a graph of one chain per depth still spreads).
  const std::uint32_t depths =
      depth_of_chain.empty() ? 0
                             : *std::max_element(depth_of_chain.begin(), depth_of_chain.end()) + 1;
  std::vector<std::uint32_t> count(depths, 0);
  for (const std::uint32_t d : depth_of_chain) ++count[d];
  std::vector<std::uint32_t> seen(depths, 0);
  std::vector<std::uint32_t> rank_of_chain(depth_of_chain.size());
  for (std::size_t c = 0; c < depth_of_chain.size(); ++c) {
    const std::uint32_t d = depth_of_chain[c];
    const std::size_t share = std::size_t{seen[d]++} * ranks / count[d];
    rank_of_chain[c] = static_cast<std::uint32_t>((d + share) % ranks);
  }
  std::vector<std::uint32_t> owner(pos.size(), kNone);
  for (std::uint32_t i = 0; i < n; ++i) {
    const NodeRecord& node = graph.node(upstream[i]);
    if (is_split(node)) {
      owner[upstream[i]] = kEveryRank;
    } else if (on_rank0(graph, upstream[i])) {
      owner[upstream[i]] = 0;
    } else {
      owner[upstream[i]] = rank_of_chain[chain_of[i]];
    }
  }
  return owner;
}

std::vector<Hash128> structure_hashes(const GraphState& graph, std::span<const NodeId> upstream,
                                      const std::vector<std::optional<Hash128>>& keys_by_node) {
  const std::vector<std::uint32_t> pos = positions(upstream);
  std::vector<Hash128> hashes;
  hashes.reserve(upstream.size());
  for (const NodeId id : upstream) {
    const NodeRecord& node = graph.node(id);
    Hasher h;
    h.add(graph.op_name(id)).add(graph.op_version(id)).add(graph.label(id));
    h.add(static_cast<std::uint16_t>(node.flags)).add(on_rank0(graph, id)).add(node.edge_count);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) h.add(pos[graph.edges(node)[e]]);
    const std::optional<Hash128>& key = keys_by_node[id];
    h.add(key.has_value());
    if (key) h.add(key->low).add(key->high);
    hashes.push_back(h.digest());
  }
  return hashes;
}

// ---- the split of a map or reduce ---------------------------------------------------------------

class RankRun::Split final : public RankSplit {
 public:
  Split(RankRun& run, std::uint32_t task) : run_(run), task_(task) {}
  [[nodiscard]] std::size_t rank() const noexcept override { return run_.rank_; }
  [[nodiscard]] std::size_t size() const noexcept override { return run_.size_; }
  [[nodiscard]] std::vector<std::string> exchange(std::string mine) const override {
    return run_.exchange(task_, std::move(mine));
  }

 private:
  RankRun& run_;
  std::uint32_t task_;
};

// ---- the run's plan on this rank ----------------------------------------------------------------

RankRun::RankRun(ClusterLink& link, std::uint64_t id, RunState& run)
    : link_(link), id_(id), run_(run), rank_(link.rank()), size_(link.size()) {}

RankRun::~RankRun() = default;

void RankRun::assign(const std::vector<std::uint32_t>& owner_by_node,
                     std::span<const std::uint8_t> cut) {
  const std::size_t n = run_.order.size();
  const GraphState& graph = *run_.graph;
  runs_on_.assign(n, 0);
  needed_on_.assign(n, 0);
  owner_.assign(n, 0);
  cut_.assign(cut.begin(), cut.end());
  failed_remotely_.assign(n, 0);
  for (const std::uint32_t t : run_.targets) needed_on_[t] = all_ranks(size_);
  // Readers come after what they read: going backwards, a task's readers are placed before it.
  for (std::size_t i = n; i-- > 0;) {
    const auto v = static_cast<std::uint32_t>(i);
    const NodeRecord& node = graph.node(run_.order[v]);
    const std::uint32_t own = owner_by_node[run_.order[v]];
    if (cut[v] != 0) {
      owner_[v] = holder(own);
      runs_on_[v] = bit(owner_[v]);
      continue;  // its result is at hand: nothing upstream is read
    }
    owner_[v] = own;
    if (own == kEveryRank) {
      runs_on_[v] = all_ranks(size_);
      if (!node.vtable->transferable) ++replicated_;
    } else if (!node.vtable->transferable && std::popcount(needed_on_[v] | bit(own)) > 1) {
      runs_on_[v] = needed_on_[v];  // cannot be sent: every rank that reads it runs it
      ++replicated_;
    } else {
      runs_on_[v] = bit(own);
    }
    const NodeId* edges = graph.edges(node);
    for (std::uint32_t e = 0; e < node.edge_count; ++e) {
      needed_on_[run_.local_of[edges[e]]] |= runs_on_[v];
    }
  }
}

bool RankRun::persists_here(std::uint32_t v) const noexcept { return holder(owner_[v]) == rank_; }

void RankRun::build_units(const ExecutionPlan& plan) {
  const std::size_t units = plan.units();
  const std::size_t n = run_.order.size();
  unit_of_.assign(n, kNone);
  wait_unit_.assign(n, kNone);
  role_.assign(units, Role::kSkip);
  receiving_ = std::vector<Receiving>(units + 1);
  std::vector<std::uint32_t> splits;  // split units, by their task's position
  for (std::uint32_t u = 0; u < units; ++u) {
    for (std::uint32_t c = plan.unit_begin[u]; c < plan.unit_begin[u + 1]; ++c) {
      for (std::uint32_t i = plan.chain_begin[c]; i < plan.chain_begin[c + 1]; ++i) {
        const std::uint32_t v = plan.chain_tasks[i];
        unit_of_[v] = u;
        if (runs_here(v)) {
          role_[u] = Role::kLocal;
        } else if ((needed_on_[v] >> rank_ & 1U) != 0) {
          role_[u] = Role::kReceive;
          wait_unit_[v] = u;
          ++receiving_[u].remaining;
        }
      }
    }
    if (plan.unit_begin[u] == plan.unit_begin[u + 1]) continue;
    const std::uint32_t first = plan.chain_tasks[plan.chain_begin[plan.unit_begin[u]]];
    if (role_[u] == Role::kLocal && owner_[first] == kEveryRank) {
      splits.push_back(first);
      splits_.emplace(first, std::make_unique<Split>(*this, first));
    }
  }
  // One more receive unit for the results other ranks found in their caches.
  bool remote_hits = false;
  for (std::uint32_t v = 0; v < n; ++v) {
    if (cut_[v] != 0 && owner_[v] != rank_ && (needed_on_[v] >> rank_ & 1U) != 0) {
      wait_unit_[v] = static_cast<std::uint32_t>(units);
      ++receiving_[units].remaining;
      remote_hits = true;
    }
  }
  if (remote_hits) role_.push_back(Role::kReceive);
  receiving_.resize(role_.size());
  // Predecessors: a local unit waits as planned (and for the hits unit when it reads a remote
  // hit); receive and skip units wait for nothing. Split units wait for each other, in order.
  std::sort(splits.begin(), splits.end());
  std::vector<std::uint32_t> after_split(units, kNone);
  for (std::size_t s = 1; s < splits.size(); ++s) {
    after_split[unit_of_[splits[s]]] = unit_of_[splits[s - 1]];
  }
  pred_begin_.clear();
  preds_.clear();
  for (std::uint32_t u = 0; u < role_.size(); ++u) {
    pred_begin_.push_back(static_cast<std::uint32_t>(preds_.size()));
    if (role_[u] != Role::kLocal) continue;
    preds_.insert(preds_.end(), plan.preds.begin() + plan.pred_begin[u],
                  plan.preds.begin() + plan.pred_begin[u + 1]);
    if (after_split[u] != kNone) preds_.push_back(after_split[u]);
    if (remote_hits && reads_remote_hit(plan, u))
      preds_.push_back(static_cast<std::uint32_t>(units));
  }
  pred_begin_.push_back(static_cast<std::uint32_t>(preds_.size()));
  async_.assign(role_.size(), 0);
  for (std::uint32_t u = 0; u < role_.size(); ++u) {
    if (role_[u] == Role::kReceive) {
      async_[u] = 1;
    } else if (role_[u] == Role::kLocal && !plan.async_units.empty()) {
      async_[u] = plan.async_units[u];
    }
  }
}

bool RankRun::reads_remote_hit(const ExecutionPlan& plan, std::uint32_t u) const {
  const GraphState& graph = *run_.graph;
  for (std::uint32_t c = plan.unit_begin[u]; c < plan.unit_begin[u + 1]; ++c) {
    for (std::uint32_t i = plan.chain_begin[c]; i < plan.chain_begin[c + 1]; ++i) {
      const NodeRecord& node = graph.node(run_.order[plan.chain_tasks[i]]);
      for (std::uint32_t e = 0; e < node.edge_count; ++e) {
        const std::uint32_t w = run_.local_of[graph.edges(node)[e]];
        if (cut_[w] != 0 && owner_[w] != rank_) return true;
      }
    }
  }
  return false;
}

UnitGraph RankRun::unit_graph(const UnitGraph& local) const {
  UnitGraph g = local;
  g.units = role_.size();
  g.pred_begin = pred_begin_.data();
  g.preds = preds_.data();
  g.async = async_.data();
  return g;
}

// ---- sending ------------------------------------------------------------------------------------

void RankRun::send_to_readers(std::uint32_t v, MessageKind kind, std::string payload) {
  std::uint64_t to = needed_on_[v] & ~runs_on_[v];
  while (to != 0) {
    const auto r = static_cast<std::size_t>(std::countr_zero(to));
    to &= to - 1;
    if (to != 0) {
      link_.send(r, kind, id_, v, payload);
      continue;
    }
    // The last reader gets the bytes themselves: a large value is not copied for one reader.
    link_.send(r, kind, id_, v, std::move(payload));
    return;
  }
}

void RankRun::send_hits() {
  for (std::uint32_t v = 0; v < cut_.size(); ++v) {
    if (cut_[v] != 0 && owner_[v] == rank_) after_success(v);
  }
}

void RankRun::after_success(std::uint32_t v) {
  if (owner_[v] != rank_ || (needed_on_[v] & ~runs_on_[v]) == 0) return;
  const NodeRecord& node = run_.graph->node(run_.order[v]);
  if (send_array(v, node)) return;
  std::string bytes;
  if (!node.vtable->returns_void && !node.vtable->save(run_.slots[v], bytes)) return;
  send_to_readers(v, MessageKind::kValue, std::move(bytes));
}

// A large array of numbers goes as its elements' bytes, lent to the sends (the slot shares
// the value with them until they are done) instead of serialised into a copy.
bool RankRun::send_array(std::uint32_t v, const NodeRecord& node) {
  constexpr std::size_t kLendAtLeast = std::size_t{1} << 20;  // smaller: one message is cheaper
  const ArrayTransfer* array = node.vtable->array;
  if (array == nullptr || array->bytes(run_.slots[v].raw_value()).size() < kLendAtLeast) {
    return false;
  }
  const KeptValue value = node.vtable->keep(run_.slots[v]);
  std::uint64_t to = needed_on_[v] & ~runs_on_[v];
  while (to != 0) {
    const auto r = static_cast<std::size_t>(std::countr_zero(to));
    to &= to - 1;
    link_.send_array(r, id_, v, BorrowedBytes{lend(value), array->bytes(value.data())});
  }
  return true;
}

// The value's owner for one send: giving it back lets go of the value first, so that a waiter
// that sees the count fall finds the slot the value's only owner again.
std::shared_ptr<const void> RankRun::lend(const KeptValue& value) {
  {
    const std::lock_guard lock(lent_->mutex);
    ++lent_->count;
  }
  return {value.data(), GiveBack{lent_, value}};
}

void RankRun::GiveBack::operator()(const void*) const noexcept {
  value.reset();
  const std::lock_guard lock(lent->mutex);
  --lent->count;
  lent->returned.notify_all();
}

void RankRun::wait_for_lent_values(std::chrono::milliseconds limit) {
  std::unique_lock lock(lent_->mutex);
  lent_->returned.wait_for(lock, limit, [&] { return lent_->count == 0; });
}

void RankRun::after_skip(std::uint32_t v) {
  if (owner_[v] == rank_) send_to_readers(v, MessageKind::kSkipped, {});
}

void RankRun::after_failure(std::uint32_t v, const std::exception_ptr& error, std::size_t attempts,
                            std::uint64_t timeout_ms) {
  link_.broadcast(MessageKind::kFailed, id_, v,
                  encode_failure(FailureReport{v, rank_, attempts, timeout_ms, error}));
}

void RankRun::after_cancel() {
  link_.broadcast(MessageKind::kCancel, id_, 0, {});
  abort_receives();
}

// ---- receiving ----------------------------------------------------------------------------------

void RankRun::start_receive(std::uint32_t unit, AsyncUnit handle) {
  bool finish = false;
  {
    const std::lock_guard lock(mutex_);
    Receiving& r = receiving_[unit];
    r.started = true;
    r.handle = handle;
    if ((r.remaining == 0 || aborted_) && !r.done) finish = r.done = true;
  }
  if (finish) {
    run_.finish_work(0);
    handle.finish();
  }
}

void RankRun::arrived(std::uint32_t v) {
  const std::uint32_t u = wait_unit_[v];
  if (u == kNone) return;
  std::optional<AsyncUnit> finish;
  {
    const std::lock_guard lock(mutex_);
    Receiving& r = receiving_[u];
    if (r.remaining > 0) --r.remaining;
    if (r.remaining == 0 && r.started && !r.done) {
      r.done = true;
      finish = r.handle;
    }
  }
  if (finish) {
    run_.finish_work(0);
    finish->finish();
  }
}

void RankRun::abort_receives() noexcept {
  std::vector<AsyncUnit> finish;
  {
    const std::lock_guard lock(mutex_);
    aborted_ = true;
    for (Receiving& r : receiving_) {
      if (r.started && !r.done) {
        r.done = true;
        finish.push_back(*r.handle);
      }
    }
    end_exchanges();
  }
  for (const AsyncUnit& h : finish) {
    run_.finish_work(0);
    h.finish();
  }
}

void RankRun::stop_locally() noexcept {
  run_.stop();
  abort_receives();
}

void RankRun::deliver(std::size_t from, MessageKind kind, std::uint32_t v, std::string payload) {
  if (v >= run_.order.size() && kind != MessageKind::kCancel) return;
  try {
    switch (kind) {
      case MessageKind::kValue: {
        const NodeRecord& node = run_.graph->node(run_.order[v]);
        if (!node.vtable->returns_void) node.vtable->load_into(payload, run_.slots[v]);
        run_.slots[v].publish();
        arrived(v);
        break;
      }
      case MessageKind::kArray: {
        // Sent whole (the cluster gave no body_buffer, or it came before the run started).
        const ArrayTransfer* array = run_.graph->node(run_.order[v]).vtable->array;
        NewArray made = array != nullptr ? array->make(payload.size()) : NewArray{};
        if (made.value == nullptr) throw Error("a result from another rank does not fit its type");
        if (!payload.empty()) std::memcpy(made.bytes.data(), payload.data(), payload.size());
        deliver_array(v, BodyBuffer{std::move(made.value), made.bytes});
        break;
      }
      case MessageKind::kSkipped:
        // A reader checks its inputs only once the run has a failure: the failure that caused
        // this skip may come from a third rank and arrive later.
        run_.slots[v].mark_failed();
        run_.has_failure.store(true, std::memory_order_release);
        arrived(v);
        break;
      case MessageKind::kFailed: {
        {
          const std::lock_guard lock(mutex_);
          failed_remotely_[v] = 1;
          end_exchanges();
        }
        run_.slots[v].mark_failed();
        run_.has_failure.store(true, std::memory_order_release);
        if (!run_.keep_going) stop_locally();
        arrived(v);
        break;
      }
      case MessageKind::kCancel:
        run_.cancel_requested.store(true, std::memory_order_release);
        stop_locally();
        break;
      case MessageKind::kShare: {
        const std::lock_guard lock(mutex_);
        auto& shares = shares_[v];
        shares.resize(size_);
        shares[from] = std::move(payload);
        end_exchanges();
        break;
      }
      case MessageKind::kGather:
        break;
    }
  } catch (const std::exception& e) {
    fail(fmt::format("the result of task '{}' from rank {} did not load: {}",
                     run_.graph->label(run_.order[v]), from, e.what()));
  }
}

BodyBuffer RankRun::array_buffer(std::uint32_t v, std::size_t size) {
  if (v >= run_.order.size()) return {};
  const ArrayTransfer* array = run_.graph->node(run_.order[v]).vtable->array;
  if (array == nullptr) return {};
  NewArray made = array->make(size);
  return BodyBuffer{std::move(made.value), made.bytes};
}

void RankRun::deliver_array(std::uint32_t v, BodyBuffer body) {
  if (v >= run_.order.size()) return;
  const ArrayTransfer* array = run_.graph->node(run_.order[v]).vtable->array;
  if (array == nullptr) {
    fail(fmt::format("the result of task '{}' arrived as an array, which its type is not",
                     run_.graph->label(run_.order[v])));
    return;
  }
  array->move_into(body.owner.get(), run_.slots[v]);
  run_.slots[v].publish();
  arrived(v);
}

void RankRun::fail(const std::string& what) noexcept {
  {
    const std::lock_guard lock(mutex_);
    if (!cluster_failure_) cluster_failure_ = what;
  }
  stop_locally();
}

std::optional<std::string> RankRun::cluster_failure() const {
  const std::lock_guard lock(mutex_);
  return cluster_failure_;
}

const RankSplit* RankRun::split_of(std::uint32_t v) const {
  const auto it = splits_.find(v);
  return it == splits_.end() ? nullptr : it->second.get();
}

std::vector<std::string> RankRun::exchange(std::uint32_t v, std::string mine) {
  link_.broadcast(MessageKind::kShare, id_, v, mine);
  std::unique_lock lock(mutex_);
  auto& shares = shares_[v];
  shares.resize(size_);
  shares[rank_] = std::move(mine);
  // Other ranks may still be computing their shares; a rank of one worker runs other units
  // meanwhile. The mutex, taken again after the wait, publishes what ended it.
  while (!exchange_can_end(v)) {
    const WorkingWait waiting;
    exchanging_.emplace_back(v, waiting);
    lock.unlock();
    waiting.wait();
    lock.lock();
  }
  if (!std::all_of(shares.begin(), shares.end(), [](const auto& s) { return s.has_value(); })) {
    throw ExchangeAborted();
  }
  std::vector<std::string> all;
  all.reserve(size_);
  for (auto& s : shares) all.push_back(std::move(*s));
  shares_.erase(v);
  return all;
}

bool RankRun::exchange_can_end(std::uint32_t v) const {
  const auto it = shares_.find(v);
  const bool complete =
      it != shares_.end() && std::all_of(it->second.begin(), it->second.end(),
                                         [](const auto& s) { return s.has_value(); });
  // Every way a run stops (a failure here or on another rank, a cancel) calls abort_receives.
  return complete || aborted_ || failed_remotely_[v] != 0;
}

void RankRun::end_exchanges() {
  std::erase_if(exchanging_, [&](const std::pair<std::uint32_t, WorkingWait>& e) {
    if (!exchange_can_end(e.first)) return false;
    e.second.release();
    return true;
  });
}

// ---- the end of a run ---------------------------------------------------------------------------

std::string encode_failure(const FailureReport& f) {
  ByteWriter w;
  w.u64(f.task).u64(f.rank).u64(f.attempts).u64(f.timeout_ms);
  std::optional<std::size_t> item;
  std::string message;
  try {
    if (f.error) std::rethrow_exception(f.error);
  } catch (const ItemFailure& e) {
    item = e.index;
    message = message_of(e.error);
  } catch (...) {
    message = message_of(std::current_exception());
  }
  w.u64(item.has_value() ? 1 : 0).u64(item.value_or(0)).str(message);
  return w.take();
}

FailureReport decode_failure(ByteReader& r) {
  FailureReport f;
  f.task = static_cast<std::uint32_t>(r.u64());
  f.rank = r.u64();
  f.attempts = r.u64();
  f.timeout_ms = r.u64();
  const bool has_item = r.u64() != 0;
  const std::uint64_t item = r.u64();
  f.message = r.str();
  if (has_item) f.item = item;
  return f;
}

}  // namespace dagflow::detail
