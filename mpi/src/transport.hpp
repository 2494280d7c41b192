// Transport: the Cluster that Session::cluster() returns. Ports send and receive opaque byte
// strings over dagflow's own communicator; one progress thread per process makes every MPI call
// after MPI_Init, so threads that send never block on MPI and receivers are called from that
// thread only. Thread-safety: attach(), send() and a port's destructor may be called from any
// thread; the constructor, shutdown() and the destructor by the Session's thread.
//
// On the wire (tags of the communicator):
//   tag >= kFirstPortTag  a whole message for port (tag - kFirstPortTag), MPI_BYTE;
//   kHeaderTag            a message too big for one MPI call (its count is an int), or one
//                         with a borrowed body (ClusterPort::send_borrowed): MPI_BYTE, two
//                         uint64 values, the port and the size of the body in bytes, then the
//                         tail of a borrowed body; followed by...
//   kPieceTag             ...the body in pieces of at most piece_bytes, in order.
// A borrowed body is sent from the sender's memory and received where the receiver's
// body_buffer says (or joined with its tail into a string when it gives none).
// MPI does not let two messages from one rank on one communicator overtake each other when
// they match the same probe (ours takes any tag from any source), so a header's pieces arrive
// right after it and messages from one rank are seen in the order that rank posted them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mpi.h>

#include <dagflow/engine/cluster.hpp>

namespace dagflow::mpi {

class Transport final : public Cluster, public std::enable_shared_from_this<Transport> {
 public:
  /// Largest payload sent as one MPI message by default; bigger ones go in pieces of this size.
  static constexpr std::size_t kDefaultPieceBytes = std::size_t{1} << 30;

  /// Duplicates `world` (collective: every rank constructs its Transport at the same point) and
  /// makes MPI errors on the copy return codes. Throws dagflow::Error when an MPI call fails.
  explicit Transport(MPI_Comm world);
  /// Calls shutdown() if the Session did not.
  ~Transport() override;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  [[nodiscard]] std::size_t rank() const noexcept override { return rank_; }
  [[nodiscard]] std::size_t size() const noexcept override { return size_; }
  /// Throws dagflow::Error after shutdown() or a failure, or when the ports outnumber the tags
  /// MPI offers.
  [[nodiscard]] std::unique_ptr<ClusterPort> attach(ClusterReceiver& receiver) override;

  /// Collective end, called once by every rank: sends what is queued, waits until every send
  /// completed and every rank got here (receiving and delivering meanwhile), stops the progress
  /// thread and frees the communicator. What a receiver sends after this rank's own sends have
  /// all completed is dropped (the other ranks may be gone). Returns false when the transport
  /// failed (an MPI error): nothing more was attempted then, and the communicator is left as it
  /// was.
  bool shutdown() noexcept;
  /// Stops the progress thread where it is, without sending or receiving more (before
  /// MPI_Abort, when MPI may not be called from two threads at once).
  void halt() noexcept;

  /// Payloads larger than this go in pieces (default kDefaultPieceBytes); lets a test cross the
  /// piece boundaries with small messages. Affects messages sent after the call.
  void set_piece_bytes_for_testing(std::size_t bytes) noexcept { piece_bytes_ = bytes; }
  /// The next whole message handed to MPI goes with a tag MPI refuses: the progress thread's MPI
  /// call fails as a broken network would make it fail, so a test sees what follows.
  void break_next_send_for_testing() noexcept { break_next_send_ = true; }

 private:
  class Port;
  struct Outgoing;
  struct Incoming;
  struct Queued {
    std::size_t port;
    std::size_t to;
    std::string bytes;  // the whole message, or a borrowed body's tail
    BorrowedBytes body;
  };
  struct Held {
    std::size_t from;
    std::string bytes;
  };
  /// What an outstanding request belongs to (one of the two).
  struct RequestOwner {
    std::shared_ptr<Outgoing> send;
    Incoming* receive = nullptr;
  };
  enum class State { kRunning, kFlushing, kStopped, kFailed };
  static constexpr std::size_t kNoPort = static_cast<std::size_t>(-1);

  // Called by Port (any thread).
  void send(std::size_t port, std::size_t to, std::string bytes, BorrowedBytes body);
  void detach(std::size_t port) noexcept;

  // The progress thread (or the thread of shutdown(), when nothing was ever attached).
  void run() noexcept;
  bool step();
  bool post_queued_sends();
  void post(Queued message);
  void post_send(const std::shared_ptr<Outgoing>& out, const char* bytes, std::size_t size, int tag,
                 int to);
  void start_incoming(std::size_t from, std::string_view header);
  void add_request(MPI_Request request, RequestOwner owner);
  bool probe_incoming();
  bool test_requests();
  bool deliver_complete();
  bool deliver_held();
  void deliver(std::size_t from, std::size_t port, std::string bytes);
  /// Calls `call(receiver)` for the receiver of `port` unless it is detached, without holding
  /// the lock; a concurrent detach waits until the call returns. False if detached.
  template <class Call>
  bool call_receiver(std::size_t port, Call&& call);
  void fail_all(const std::string& what) noexcept;
  void back_off(std::size_t idle_steps);

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::size_t rank_ = 0;
  std::size_t size_ = 1;
  std::size_t max_ports_ = 0;
  std::atomic<std::size_t> piece_bytes_{kDefaultPieceBytes};
  std::atomic<bool> break_next_send_{false};

  // Shared with the threads that attach, send and detach; guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;             // the progress thread, asleep when idle
  std::condition_variable delivered_;        // a detaching port, waiting for a call to its receiver
  std::vector<ClusterReceiver*> receivers_;  // by port (attach order); nullptr once detached
  std::vector<Queued> queued_;               // sends not yet handed to MPI
  std::size_t calling_ = kNoPort;            // the port whose receiver is being called
  State state_ = State::kRunning;
  std::string failure_;    // why, in state kFailed
  bool sleeping_ = false;  // the progress thread waits on wake_
  std::thread thread_;
  std::thread::id thread_id_;

  // Owned by the progress thread.
  std::deque<Queued> posting_;  // taken from queued_, waiting for room in flight
  std::vector<MPI_Request> requests_;
  std::vector<RequestOwner> owners_;  // owners_[i] owns requests_[i]
  std::vector<int> completed_;        // MPI_Testsome's output
  std::vector<MPI_Status> statuses_;  // MPI_Testsome's output
  std::size_t sends_in_flight_ = 0;   // Outgoing messages with a request outstanding
  std::vector<std::deque<std::unique_ptr<Incoming>>> inbox_;  // by source, in arrival order
  std::vector<Incoming*> filling_;   // by source: the message whose pieces are still coming
  std::vector<std::size_t> filled_;  // by source: bytes of filling_'s pieces posted so far
  std::map<std::size_t, std::deque<Held>> held_;  // by port: arrived before it was attached
  std::size_t ports_seen_ = 0;                    // receivers_.size() at the last step
  bool flushing_ = false;                         // state_ was kFlushing at the last step
  MPI_Request barrier_ = MPI_REQUEST_NULL;
  bool barrier_posted_ = false;  // every send of this rank is complete
  bool barrier_done_ = false;    // ...and of every other rank
  std::atomic<bool> halting_{false};
};

}  // namespace dagflow::mpi
