// Cluster: the processes (ranks) of one SPMD job, as an Executor sees them.
//
// Set ExecutorOptions::cluster and every rank runs the same program: each builds the same Graph
// and calls compute() on the same targets in the same order. The Executors then check that the
// graphs match, share the tasks out (each runs on one rank; a map's blocks are split across all),
// send each result to the ranks that read it, and every rank's compute() returns every target's
// value, bit for bit what one process computes. There is no central scheduler.
//
// The engine knows only this interface: dagflow::mpi::Session::cluster() (target dagflow::mpi,
// <dagflow/mpi.hpp>) implements it on Open MPI. Another transport implements the three classes
// below; a test can connect ranks that are threads of one process.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace dagflow {

/// Bytes a port sends without copying them (ClusterPort::send_borrowed): `bytes` stays valid
/// and unchanged for as long as `owner` lives.
struct BorrowedBytes {
  std::shared_ptr<const void> owner;
  std::span<const std::byte> bytes;
};

/// Where a receiver wants the body of a message (ClusterReceiver::body_buffer): `bytes` stays
/// valid for as long as `owner` lives.
struct BodyBuffer {
  std::shared_ptr<void> owner;
  std::span<std::byte> bytes;
};

/// Where a Cluster delivers what other ranks sent to one Executor.
class ClusterReceiver {
 public:
  /// A message rank `from` sent to this receiver's port. Called from the cluster's own thread,
  /// one message at a time, in the order that rank sent them. Must not block for long: other
  /// messages wait meanwhile.
  virtual void receive(std::size_t from, std::string bytes) = 0;
  /// The cluster can no longer deliver messages (an MPI error, a lost rank): `what` says why.
  /// Runs waiting for other ranks then fail. Called at most once, from any thread.
  virtual void fail(std::string what) noexcept = 0;

  /// A message sent with ClusterPort::send_borrowed is its body followed by `tail`. A cluster
  /// that moves such a body on its own asks here, once the tail has arrived, where the body's
  /// `size` bytes should land: in the returned buffer (of exactly `size` bytes), delivered to
  /// receive_body; or, when it is empty (the default), the whole message goes to receive().
  /// Called from the cluster's thread; may come before earlier messages are delivered.
  virtual BodyBuffer body_buffer(std::size_t from, std::string_view tail, std::size_t size) {
    static_cast<void>(from);
    static_cast<void>(tail);
    static_cast<void>(size);
    return {};
  }
  /// The message whose body landed in `body` (from body_buffer; the cluster holds no part of it
  /// any more), in its place among the messages from `from`. By default, joined for receive().
  virtual void receive_body(std::size_t from, std::string tail, BodyBuffer body) {
    tail.insert(0, reinterpret_cast<const char*>(body.bytes.data()), body.bytes.size());
    body = {};
    receive(from, std::move(tail));
  }

 protected:
  ~ClusterReceiver() = default;
};

/// One Executor's connection to the other ranks (Cluster::attach).
class ClusterPort {
 public:
  /// Detaches: no receive() call is made after the destructor returns. Messages already sent
  /// are still delivered.
  virtual ~ClusterPort() = default;
  /// Queues `bytes` for the port of the same attach order on rank `to` (not this rank) and
  /// returns at once. Thread-safe. Messages from one port to one rank arrive in the order sent;
  /// they are never lost, duplicated or cut, whatever their size.
  virtual void send(std::size_t to, std::string bytes) = 0;
  /// Sends the message `body` followed by `tail` without copying `body`: the port keeps it
  /// (through its owner) until it is on its way. The receiving side may take the body into
  /// memory of its own choosing (ClusterReceiver::body_buffer). By default the two are joined
  /// into one string for send().
  virtual void send_borrowed(std::size_t to, BorrowedBytes body, std::string tail) {
    tail.insert(0, reinterpret_cast<const char*>(body.bytes.data()), body.bytes.size());
    body = {};  // given back at once
    send(to, std::move(tail));
  }
};

/// The ranks of a job. Shared by the Executors of a process (through a shared_ptr).
class Cluster {
 public:
  virtual ~Cluster() = default;
  /// This process's rank: 0 .. size() - 1.
  [[nodiscard]] virtual std::size_t rank() const noexcept = 0;
  /// How many ranks the job has (1 for a program started without a launcher).
  [[nodiscard]] virtual std::size_t size() const noexcept = 0;
  /// Connects an Executor: `receiver` gets the messages sent to it until the port is destroyed.
  /// The n-th attach on one rank talks to the n-th on every other, so Executors with a cluster
  /// are created in the same order on every rank. Messages that arrive for a port not yet
  /// attached are kept until it is.
  [[nodiscard]] virtual std::unique_ptr<ClusterPort> attach(ClusterReceiver& receiver) = 0;
};

}  // namespace dagflow
