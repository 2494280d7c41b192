// ClusterLink: one Executor's messages to and from the other ranks of its Cluster.
//
// Every message is the payload followed by a fixed trailer (which run, what kind, which task, a
// checksum of the payload): a trailer, not a header, so a large value's serialised bytes are sent
// without being copied behind a header. Messages of a run that has not started here yet (another
// rank got ahead) are kept until it starts; a run's messages all arrive before the run's last
// gather completes (each rank sends its gather contribution after everything else, and messages
// from one rank arrive in order), so none arrives after the run ends.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagflow/engine/cluster.hpp>

namespace dagflow::detail {

enum class MessageKind : std::uint32_t {
  kGather = 1,  // a rank's contribution to an all_gather (index: the round)
  kValue,       // a task's result (index: its local index)
  kFailed,      // a task failed on the sender (index: the task; payload: encode_failure)
  kSkipped,     // a task was skipped on the sender: an input failed (keep-going)
  kCancel,      // the run was cancelled on the sender
  kShare,       // a rank's share of a map's or reduce's results (index: the task)
  kArray,       // a task's result that is an array of numbers, as its elements' bytes
};

/// Receives the messages of the run in progress (RankRun). Called with the link's lock held.
class RunMailbox {
 public:
  virtual void deliver(std::size_t from, MessageKind kind, std::uint32_t index,
                       std::string payload) = 0;
  /// Where the elements of result `index` (a kArray message of `size` bytes) should land, or an
  /// empty buffer to have them delivered as a string.
  virtual BodyBuffer array_buffer(std::uint32_t index, std::size_t size) = 0;
  /// Result `index` landed in `body`, from array_buffer.
  virtual void deliver_array(std::uint32_t index, BodyBuffer body) = 0;
  /// The cluster can no longer deliver: the run fails with `what`.
  virtual void fail(const std::string& what) noexcept = 0;

 protected:
  ~RunMailbox() = default;
};

class ClusterLink final : public ClusterReceiver {
 public:
  explicit ClusterLink(std::shared_ptr<Cluster> cluster);
  ~ClusterLink();
  ClusterLink(const ClusterLink&) = delete;
  ClusterLink& operator=(const ClusterLink&) = delete;

  [[nodiscard]] std::size_t rank() const noexcept { return rank_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// Sends `payload` to rank `to` (thread-safe; returns at once).
  void send(std::size_t to, MessageKind kind, std::uint64_t run, std::uint32_t index,
            std::string payload);
  /// Sends result `index`, an array of numbers, to rank `to` without copying its elements.
  void send_array(std::size_t to, std::uint64_t run, std::uint32_t index, BorrowedBytes elements);
  /// Sends `payload` to every other rank.
  void broadcast(MessageKind kind, std::uint64_t run, std::uint32_t index,
                 const std::string& payload);
  /// Collective: every rank's `mine`, by rank. Blocks; throws dagflow::Error when the cluster
  /// fails meanwhile.
  std::vector<std::string> all_gather(std::uint64_t run, std::uint32_t round, std::string mine);

  /// Run `run`'s messages go to `mailbox` from now on (those that came early first), until
  /// close_run (which waits for a delivery in progress).
  void open_run(std::uint64_t run, RunMailbox& mailbox);
  void close_run();

  void receive(std::size_t from, std::string bytes) override;
  void fail(std::string what) noexcept override;
  BodyBuffer body_buffer(std::size_t from, std::string_view tail, std::size_t size) override;
  void receive_body(std::size_t from, std::string tail, BodyBuffer body) override;

 private:
  struct Parsed {
    std::uint64_t run;
    MessageKind kind;
    std::uint32_t index;
  };
  struct Trailer;
  static std::optional<Trailer> trailer_of(std::string_view tail);
  static std::optional<Parsed> parse(std::string& bytes);
  void damaged(std::size_t from);
  void dispatch(std::size_t from, const Parsed& m, std::string payload);

  std::shared_ptr<Cluster> cluster_;
  std::size_t rank_;
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable gathered_;
  // Gather contributions by (run, round): one slot per rank.
  std::map<std::pair<std::uint64_t, std::uint32_t>, std::vector<std::optional<std::string>>>
      gathers_;
  std::uint64_t current_run_ = 0;  // the run open_run named (0: none yet)
  RunMailbox* mailbox_ = nullptr;
  struct Early {
    std::size_t from;
    Parsed message;
    std::string payload;
  };
  std::vector<Early> early_;  // messages of runs not open yet
  std::optional<std::string> failure_;
  std::unique_ptr<ClusterPort> port_;  // last: detached first
};

/// Run `run`'s messages go to `mailbox` for the lifetime of the scope (ClusterLink::open_run).
class OpenRun {
 public:
  OpenRun(ClusterLink& link, std::uint64_t run, RunMailbox& mailbox) : link_(link) {
    link_.open_run(run, mailbox);
  }
  ~OpenRun() { link_.close_run(); }
  OpenRun(const OpenRun&) = delete;
  OpenRun& operator=(const OpenRun&) = delete;

 private:
  ClusterLink& link_;
};

/// Little-endian fields into a byte string, for the engine's own messages (gathers, failures).
class ByteWriter {
 public:
  ByteWriter& u64(std::uint64_t v);
  ByteWriter& str(std::string_view s);
  /// The bytes written (the writer is empty afterwards).
  [[nodiscard]] std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

/// Reads what ByteWriter wrote; throws dagflow::Error past the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t u64();
  std::string str();
  [[nodiscard]] bool done() const noexcept { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace dagflow::detail
