#include "transport.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

#include <climits>
#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "mpi_error.hpp"

namespace dagflow::mpi {

namespace {

constexpr int kHeaderTag = 0;
constexpr int kPieceTag = 1;
constexpr int kFirstPortTag = 2;

// At most this many messages are handed to MPI and not yet complete; the rest wait in the
// queue. Keeps MPI_Testsome's scan short when a sender queues thousands at once.
constexpr std::size_t kMaxSendsInFlight = 256;
// At most this many incoming messages are taken per step, so sends are not starved.
constexpr int kProbesPerStep = 64;
// Idle steps spent polling before the thread starts to sleep (each a probe, some
// microseconds), and the longest sleep: an idle rank wakes at most every millisecond.
constexpr std::size_t kSpinSteps = 256;
constexpr std::chrono::microseconds kShortestSleep{4};
constexpr std::chrono::microseconds kLongestSleep{1000};

int tag_of(std::size_t port) { return static_cast<int>(port) + kFirstPortTag; }

// A transparent huge page; a buffer of two or more holds at least one whole, wherever it starts.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

// A string of `size` bytes for MPI to receive into. Fresh memory costs a page fault per 4 KiB
// touched, a few microseconds each in a virtual machine: 256 MiB took 180 ms that way, four
// times the copy itself. A large buffer is reserved first (allocated, not yet touched) and the
// kernel asked to back it with 2 MiB pages, 512 times fewer faults; where transparent huge
// pages are off, the request is refused and nothing else changes.
std::string receive_buffer(std::size_t size) {
  std::string bytes;
  if (size >= 2 * kHugePage) {
    bytes.reserve(size);
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(bytes.data()) % page;
    const std::size_t skip = misaligned == 0 ? 0 : page - misaligned;  // madvise: whole pages
    static_cast<void>(::madvise(bytes.data() + skip, size - skip, MADV_HUGEPAGE));
  }
  bytes.resize(size);
  return bytes;
}

// A header: the port and the size of the body in bytes, then the message's tail (if any).
constexpr std::size_t kHeaderFields = 2 * sizeof(std::uint64_t);

std::string header_of(std::size_t port, std::size_t size, std::string_view tail) {
  std::string header(kHeaderFields, '\0');
  const std::array<std::uint64_t, 2> fields{port, size};
  std::memcpy(header.data(), fields.data(), kHeaderFields);
  header.append(tail);
  return header;
}

}  // namespace

/// A message on its way out: its bytes (and a header, when in pieces), or the body it borrows,
/// live until MPI is done.
struct Transport::Outgoing {
  std::string bytes;
  BorrowedBytes body;
  std::string header;
  std::size_t pending = 0;  // requests not yet complete
};

/// A message on its way in, received straight into the string its receiver gets, or into the
/// body buffer the receiver gave (its tail beside it).
struct Transport::Incoming {
  std::size_t port = 0;
  std::string bytes;
  BodyBuffer body;
  std::string tail;
  std::byte* into = nullptr;  // where its pieces go: bytes' or body's
  std::size_t size = 0;       // how many bytes the pieces bring
  std::size_t pending = 0;    // requests not yet complete
};

/// One Executor's connection: it keeps the transport alive and detaches on destruction.
class Transport::Port final : public ClusterPort {
 public:
  Port(std::shared_ptr<Transport> transport, std::size_t port)
      : transport_(std::move(transport)), port_(port) {}
  ~Port() override { transport_->detach(port_); }
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  void send(std::size_t to, std::string bytes) override {
    transport_->send(port_, to, std::move(bytes), {});
  }
  void send_borrowed(std::size_t to, BorrowedBytes body, std::string tail) override {
    transport_->send(port_, to, std::move(tail), std::move(body));
  }

 private:
  std::shared_ptr<Transport> transport_;
  std::size_t port_;
};

Transport::Transport(MPI_Comm world) {
  check(MPI_Comm_dup(world, &comm_), "MPI_Comm_dup");
  // From here on an MPI failure on dagflow's communicator is a return code, which becomes an
  // exception or a call to fail(), instead of MPI's default of ending the job.
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  int rank = 0;
  int size = 0;
  check(MPI_Comm_rank(comm_, &rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size), "MPI_Comm_size");
  rank_ = static_cast<std::size_t>(rank);
  size_ = static_cast<std::size_t>(size);
  // Ports are told apart by tag; MPI guarantees tags up to at least 32767.
  void* tag_ub = nullptr;
  int has_tag_ub = 0;
  check(MPI_Comm_get_attr(comm_, MPI_TAG_UB, &tag_ub, &has_tag_ub), "MPI_Comm_get_attr");
  const int max_tag = has_tag_ub != 0 ? *static_cast<int*>(tag_ub) : 32767;
  max_ports_ = static_cast<std::size_t>(max_tag - kFirstPortTag) + 1;
  inbox_.resize(size_);
  filling_.assign(size_, nullptr);
  filled_.assign(size_, 0);
}

Transport::~Transport() {
  int finalized = 1;
  MPI_Finalized(&finalized);
  if (finalized == 0) shutdown();
  if (thread_.joinable()) thread_.join();  // MPI is gone: the thread has stopped already
}

std::unique_ptr<ClusterPort> Transport::attach(ClusterReceiver& receiver) {
  std::lock_guard lock(mutex_);
  if (state_ == State::kFailed) {
    throw Error(fmt::format("cannot attach to the MPI cluster: {}", failure_));
  }
  if (state_ != State::kRunning) {
    throw Error("cannot attach to the MPI cluster: its session has ended");
  }
  if (receivers_.size() >= max_ports_) {
    throw Error(
        fmt::format("cannot attach to the MPI cluster: MPI's tags allow {} ports", max_ports_));
  }
  // Whatever throws comes before the receiver is registered (a Port destroyed here would
  // detach under this lock).
  if (receivers_.size() == receivers_.capacity()) receivers_.reserve(2 * receivers_.size() + 4);
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
    thread_id_ = thread_.get_id();
  } else if (sleeping_) {
    wake_.notify_one();  // messages may be held for this port
  }
  auto port = std::make_unique<Port>(shared_from_this(), receivers_.size());
  receivers_.push_back(&receiver);
  return port;
}

void Transport::send(std::size_t port, std::size_t to, std::string bytes, BorrowedBytes body) {
  if (to >= size_ || to == rank_) {
    throw std::invalid_argument(
        to == rank_ ? fmt::format("cluster send to rank {}: that is this rank", to)
                    : fmt::format("cluster send to rank {}: the job has {} ranks", to, size_));
  }
  std::lock_guard lock(mutex_);
  if (state_ == State::kFailed) {
    throw Error(fmt::format("cannot send on the MPI cluster: {}", failure_));
  }
  if (state_ == State::kStopped) {
    throw Error("cannot send on the MPI cluster: its session has ended");
  }
  queued_.push_back(Queued{port, to, std::move(bytes), std::move(body)});
  if (sleeping_) wake_.notify_one();
}

void Transport::detach(std::size_t port) noexcept {
  std::unique_lock lock(mutex_);
  receivers_[port] = nullptr;
  // A port destroyed by its own receiver's callback: the call in progress is the caller's.
  if (std::this_thread::get_id() == thread_id_) return;
  delivered_.wait(lock, [&] { return calling_ != port; });
}

bool Transport::shutdown() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kStopped) return true;
    if (state_ == State::kRunning) state_ = State::kFlushing;
    wake_.notify_one();
  }
  if (thread_.joinable()) {
    thread_.join();
  } else {
    // Nothing was ever attached here, but other ranks may have sent to this one, and the
    // barrier below needs every rank: this thread does the progress thread's work.
    {
      std::lock_guard lock(mutex_);
      thread_id_ = std::this_thread::get_id();
    }
    run();
  }
  std::lock_guard lock(mutex_);
  if (state_ == State::kFailed) return false;
  MPI_Comm_free(&comm_);  // nothing left to report a failure to: the session ends anyway
  state_ = State::kStopped;
  return true;
}

void Transport::halt() noexcept {
  halting_ = true;
  std::thread::id progress;
  {
    std::lock_guard lock(mutex_);
    progress = thread_id_;
    wake_.notify_one();
  }
  if (thread_.joinable() && std::this_thread::get_id() != progress) thread_.join();
}

// ---- The progress thread ----------------------------------------------------------------------

void Transport::run() noexcept {
  try {
    std::size_t idle_steps = 0;
    while (!halting_) {
      bool progressed = step();
      if (flushing_ && !barrier_posted_ && posting_.empty() && sends_in_flight_ == 0) {
        // Every send of this rank is complete: say so to the others, and keep receiving until
        // all have (a rank that returned early would leave their last sends unmatched).
        check(MPI_Ibarrier(comm_, &barrier_), "MPI_Ibarrier");
        barrier_posted_ = true;
        progressed = true;
      }
      if (barrier_posted_ && !barrier_done_) {
        int done = 0;
        check(MPI_Test(&barrier_, &done, MPI_STATUS_IGNORE), "MPI_Test");
        barrier_done_ = done != 0;
        progressed = progressed || barrier_done_;
      }
      // Every rank's sends are complete; what they sent may still be arriving here.
      if (barrier_done_ && !progressed && requests_.empty() &&
          std::all_of(filling_.begin(), filling_.end(),
                      [](const Incoming* in) { return in == nullptr; })) {
        return;
      }
      idle_steps = progressed ? 0 : idle_steps + 1;
      if (idle_steps > 0) back_off(idle_steps);
    }
  } catch (const std::exception& e) {
    fail_all(e.what());
  } catch (...) {
    fail_all("unknown error in dagflow's MPI progress thread");
  }
}

bool Transport::step() {
  bool progressed = post_queued_sends();
  progressed = probe_incoming() || progressed;
  progressed = test_requests() || progressed;
  progressed = deliver_complete() || progressed;
  progressed = deliver_held() || progressed;
  return progressed;
}

bool Transport::post_queued_sends() {
  {
    std::lock_guard lock(mutex_);
    flushing_ = state_ == State::kFlushing;
    ports_seen_ = receivers_.size();
    for (Queued& message : queued_) posting_.push_back(std::move(message));
    queued_.clear();
  }
  if (barrier_posted_) {
    // Sent from a receiver after every send of this rank had completed: the other ranks may
    // already be gone, so it would never complete.
    posting_.clear();
    return false;
  }
  bool posted = false;
  while (!posting_.empty() && sends_in_flight_ < kMaxSendsInFlight) {
    Queued message = std::move(posting_.front());
    posting_.pop_front();
    post(std::move(message));
    posted = true;
  }
  return posted;
}

void Transport::post(Queued message) {
  auto out = std::make_shared<Outgoing>();
  out->bytes = std::move(message.bytes);
  out->body = std::move(message.body);
  if (out->body.bytes.empty()) out->body = {};  // nothing borrowed: the tail is the message
  const std::size_t piece = std::clamp<std::size_t>(piece_bytes_, 1, INT_MAX);
  const int to = static_cast<int>(message.to);
  if (out->body.owner == nullptr && out->bytes.size() <= piece) {
    const int tag = break_next_send_.exchange(false) ? -2 : tag_of(message.port);
    post_send(out, out->bytes.data(), out->bytes.size(), tag, to);
  } else {
    // A header first (with a borrowed body's tail, so that the receiver can choose where the
    // body lands), then the body in pieces.
    const bool borrowed = out->body.owner != nullptr;
    const std::string_view tail = borrowed ? std::string_view(out->bytes) : std::string_view();
    const char* body =
        borrowed ? reinterpret_cast<const char*>(out->body.bytes.data()) : out->bytes.data();
    const std::size_t size = borrowed ? out->body.bytes.size() : out->bytes.size();
    out->header = header_of(message.port, size, tail);
    post_send(out, out->header.data(), out->header.size(), kHeaderTag, to);
    for (std::size_t offset = 0; offset < size; offset += piece) {
      post_send(out, body + offset, std::min(piece, size - offset), kPieceTag, to);
    }
  }
  ++sends_in_flight_;
}

void Transport::post_send(const std::shared_ptr<Outgoing>& out, const char* bytes, std::size_t size,
                          int tag, int to) {
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Isend(bytes, static_cast<int>(size), MPI_BYTE, to, tag, comm_, &request), "MPI_Isend");
  add_request(request, RequestOwner{out, nullptr});
}

void Transport::add_request(MPI_Request request, RequestOwner owner) {
  if (owner.send) ++owner.send->pending;
  if (owner.receive != nullptr) ++owner.receive->pending;
  requests_.push_back(request);
  owners_.push_back(std::move(owner));
}

bool Transport::probe_incoming() {
  for (int probes = 0; probes < kProbesPerStep; ++probes) {
    int found = 0;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    check(MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &found, &message, &status),
          "MPI_Improbe");
    if (found == 0) return probes > 0;
    const auto from = static_cast<std::size_t>(status.MPI_SOURCE);
    int count = 0;
    MPI_Request request = MPI_REQUEST_NULL;
    if (status.MPI_TAG == kHeaderTag) {
      check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
      std::string header(static_cast<std::size_t>(std::max(count, 0)), '\0');
      check(MPI_Mrecv(header.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE), "MPI_Mrecv");
      start_incoming(from, header);
    } else if (status.MPI_TAG == kPieceTag) {
      Incoming* in = filling_[from];
      check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
      const auto bytes = static_cast<std::size_t>(count);
      if (in == nullptr || bytes == 0 || bytes > in->size - filled_[from]) {
        throw Error(fmt::format("unexpected piece of a message from rank {}", from));
      }
      check(MPI_Imrecv(in->into + filled_[from], count, MPI_BYTE, &message, &request),
            "MPI_Imrecv");
      add_request(request, RequestOwner{nullptr, in});
      filled_[from] += bytes;
      if (filled_[from] == in->size) filling_[from] = nullptr;
    } else {
      check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
      auto in = std::make_unique<Incoming>();
      in->port = static_cast<std::size_t>(status.MPI_TAG - kFirstPortTag);
      in->bytes = receive_buffer(static_cast<std::size_t>(count));
      check(MPI_Imrecv(in->bytes.data(), count, MPI_BYTE, &message, &request), "MPI_Imrecv");
      add_request(request, RequestOwner{nullptr, in.get()});
      inbox_[from].push_back(std::move(in));
    }
  }
  return true;
}

// A message in pieces begins: its body lands where its receiver says (a borrowed body's tail
// came in the header), or in a string of its own with the tail copied behind it.
void Transport::start_incoming(std::size_t from, std::string_view header) {
  std::array<std::uint64_t, 2> fields{};
  if (header.size() < kHeaderFields || filling_[from] != nullptr) {
    throw Error(fmt::format("malformed message header from rank {}", from));
  }
  std::memcpy(fields.data(), header.data(), kHeaderFields);
  const std::string_view tail = header.substr(kHeaderFields);
  if (fields[0] >= max_ports_ || fields[1] == 0) {
    throw Error(fmt::format("malformed message header from rank {}", from));
  }
  auto in = std::make_unique<Incoming>();
  in->port = static_cast<std::size_t>(fields[0]);
  in->size = static_cast<std::size_t>(fields[1]);
  if (!tail.empty() && in->port < ports_seen_ && held_.count(in->port) == 0) {
    call_receiver(in->port, [&](ClusterReceiver& receiver) {
      in->body = receiver.body_buffer(from, tail, in->size);
    });
    if (in->body.bytes.size() != in->size) in->body = {};
  }
  if (in->body.owner != nullptr) {
    in->tail = tail;
    in->into = in->body.bytes.data();
  } else {
    in->bytes = receive_buffer(in->size + tail.size());
    std::memcpy(in->bytes.data() + in->size, tail.data(), tail.size());
    in->into = reinterpret_cast<std::byte*>(in->bytes.data());
  }
  filling_[from] = in.get();
  filled_[from] = 0;
  inbox_[from].push_back(std::move(in));
}

bool Transport::test_requests() {
  if (requests_.empty()) return false;
  const int n = static_cast<int>(requests_.size());
  completed_.resize(requests_.size());
  statuses_.resize(requests_.size());
  int count = 0;
  const int code = MPI_Testsome(n, requests_.data(), &count, completed_.data(), statuses_.data());
  if (code == MPI_ERR_IN_STATUS) {
    for (int i = 0; i < count; ++i) {
      check(statuses_[static_cast<std::size_t>(i)].MPI_ERROR, "a send or receive");
    }
  }
  check(code, "MPI_Testsome");
  if (count == MPI_UNDEFINED || count == 0) return false;
  for (int i = 0; i < count; ++i) {
    RequestOwner& owner =
        owners_[static_cast<std::size_t>(completed_[static_cast<std::size_t>(i)])];
    if (owner.send) {
      if (--owner.send->pending == 0) --sends_in_flight_;
      owner.send.reset();
    } else {
      --owner.receive->pending;
      owner.receive = nullptr;
    }
  }
  // MPI_Testsome set the completed requests to MPI_REQUEST_NULL: drop them, keeping the order.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    if (requests_[i] == MPI_REQUEST_NULL) continue;
    requests_[kept] = requests_[i];
    owners_[kept] = std::move(owners_[i]);
    ++kept;
  }
  requests_.resize(kept);
  owners_.resize(kept);
  return true;
}

bool Transport::deliver_complete() {
  bool delivered = false;
  for (std::size_t from = 0; from < size_; ++from) {
    std::deque<std::unique_ptr<Incoming>>& arrived = inbox_[from];
    while (!arrived.empty() && arrived.front()->pending == 0 &&
           arrived.front().get() != filling_[from]) {
      const std::unique_ptr<Incoming> in = std::move(arrived.front());
      arrived.pop_front();
      if (in->body.owner != nullptr) {
        call_receiver(in->port, [&](ClusterReceiver& receiver) {
          receiver.receive_body(from, std::move(in->tail), std::move(in->body));
        });
      } else {
        deliver(from, in->port, std::move(in->bytes));
      }
      delivered = true;
    }
  }
  return delivered;
}

void Transport::deliver(std::size_t from, std::size_t port, std::string bytes) {
  if (port >= ports_seen_ || held_.count(port) != 0) {
    // Not attached here yet (or older messages for it still wait): kept, in order.
    held_[port].push_back(Held{from, std::move(bytes)});
    return;
  }
  call_receiver(port, [&](ClusterReceiver& receiver) { receiver.receive(from, std::move(bytes)); });
}

bool Transport::deliver_held() {
  if (held_.empty()) return false;
  bool delivered = false;
  for (auto it = held_.begin(); it != held_.end() && it->first < ports_seen_;) {
    for (Held& message : it->second) {
      call_receiver(it->first, [&](ClusterReceiver& receiver) {
        receiver.receive(message.from, std::move(message.bytes));
      });
    }
    it = held_.erase(it);
    delivered = true;
  }
  return delivered;
}

template <class Call>
bool Transport::call_receiver(std::size_t port, Call&& call) {
  ClusterReceiver* receiver = nullptr;
  {
    std::lock_guard lock(mutex_);
    receiver = receivers_[port];
    if (receiver == nullptr) return false;
    calling_ = port;
  }
  bool threw = false;
  std::string what;
  try {
    std::forward<Call>(call)(*receiver);
  } catch (const std::exception& e) {
    threw = true;
    what = e.what();
  } catch (...) {
    threw = true;
    what = "unknown exception";
  }
  if (threw) {
    // receive() must not throw; if it does, that port has lost a message: it can only fail.
    receiver->fail(fmt::format("a cluster receiver threw: {}", what));
  }
  {
    std::lock_guard lock(mutex_);
    calling_ = kNoPort;
    if (threw) receivers_[port] = nullptr;
  }
  delivered_.notify_all();
  return true;
}

void Transport::fail_all(const std::string& what) noexcept {
  std::size_t ports = 0;
  {
    std::lock_guard lock(mutex_);
    state_ = State::kFailed;
    failure_ = what;
    ports = receivers_.size();
  }
  for (std::size_t port = 0; port < ports; ++port) {
    call_receiver(port, [&](ClusterReceiver& receiver) { receiver.fail(what); });
    std::lock_guard lock(mutex_);
    receivers_[port] = nullptr;  // fail() is called at most once
  }
}

void Transport::back_off(std::size_t idle_steps) {
  // A message in transit moves only while both ends keep calling MPI: poll on without
  // sleeping, but yield between polls, since the other end may be waiting for this core (more
  // ranks than cores, a busy machine): on a loaded 2-core machine, polling without yielding
  // made a 256 MiB message take twice as long. Idle, poll a little longer (a reply may be
  // close), then sleep.
  if (!requests_.empty() || idle_steps < kSpinSteps) {
    std::this_thread::yield();
    return;
  }
  const std::size_t doublings = std::min<std::size_t>(idle_steps - kSpinSteps, 10);
  const std::chrono::microseconds sleep =
      std::min(kLongestSleep, kShortestSleep * (std::int64_t{1} << doublings));
  std::unique_lock lock(mutex_);
  if (!queued_.empty() || receivers_.size() != ports_seen_ || halting_) return;
  sleeping_ = true;
  wake_.wait_for(lock, sleep);
  sleeping_ = false;
}

}  // namespace dagflow::mpi
