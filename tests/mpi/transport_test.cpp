#include "transport.hpp"

// Tests of the MPI transport through the Cluster interface, as the engine uses it: ports
// attached in the same order on every rank, bytes sent between them. Each case runs on every
// rank at once (1, 2 or 3 ranks), so a rank both sends to the others and checks what they sent.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>

#include "mpi_test.hpp"

namespace {

using dagflow::ClusterPort;
using dagflow::test::Inbox;
using dagflow::test::Message;
using dagflow::test::mpi_session;

std::shared_ptr<dagflow::Cluster> cluster() { return mpi_session().cluster(); }

// `size` bytes that depend on every bit of `seed` and of the position, filled 8 at a time.
std::string pattern(std::size_t size, std::uint64_t seed) {
  std::string bytes(size, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15u + 1;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    std::memcpy(bytes.data() + i, &x, 8);
  }
  for (; i < size; ++i) bytes[i] = static_cast<char>(seed + i);
  return bytes;
}

// The n-th message of a stream: its number, then a body whose length varies with n.
std::string numbered(std::size_t n, std::size_t body) {
  return std::to_string(n) + ':' + pattern(body, n);
}
std::size_t number_of(const std::string& bytes) {
  return std::stoul(bytes.substr(0, bytes.find(':')));
}

// Checks that `messages` hold, from every other rank, exactly `count` numbered messages in the
// order sent (0, 1, 2...), each with the body `body(n)`.
template <class Body>
void check_streams(const std::vector<Message>& messages, std::size_t count, Body body) {
  const std::size_t ranks = cluster()->size();
  std::vector<std::size_t> next(ranks, 0);
  std::size_t wrong = 0;
  for (const Message& m : messages) {
    const std::size_t n = number_of(m.bytes);
    if (n != next[m.from] || m.bytes != numbered(n, body(n))) ++wrong;
    next[m.from] = n + 1;
  }
  CHECK(wrong == 0);
  for (std::size_t from = 0; from < ranks; ++from) {
    CHECK(next[from] == (from == cluster()->rank() ? 0 : count));
  }
}

// Sets the size above which the transport sends in pieces, for one case.
class PieceBytes {
 public:
  explicit PieceBytes(std::size_t bytes)
      : transport_(std::dynamic_pointer_cast<dagflow::mpi::Transport>(cluster())) {
    transport_->set_piece_bytes_for_testing(bytes);
  }
  ~PieceBytes() {
    transport_->set_piece_bytes_for_testing(dagflow::mpi::Transport::kDefaultPieceBytes);
  }
  PieceBytes(const PieceBytes&) = delete;
  PieceBytes& operator=(const PieceBytes&) = delete;

 private:
  std::shared_ptr<dagflow::mpi::Transport> transport_;
};

}  // namespace

// Session::cluster() is the transport, and it knows where this process stands.
TEST_CASE("Transport: the cluster's rank and size are the Session's", "[mpi][transport]") {
  REQUIRE(std::dynamic_pointer_cast<dagflow::mpi::Transport>(cluster()) != nullptr);
  CHECK(cluster()->rank() == mpi_session().rank());
  CHECK(cluster()->size() == mpi_session().size());
  CHECK(cluster()->rank() < cluster()->size());
}

// Thousands of messages, small and large (eager and rendezvous in MPI), on one port to each
// rank: each arrives once, whole, in the order sent.
TEST_CASE("Transport: messages between two ports arrive in the order sent", "[mpi][transport]") {
  const std::size_t count = 2000;
  auto body = [](std::size_t n) { return n % 100 == 7 ? 70'000 + n : n % 61; };
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  for (std::size_t n = 0; n < count; ++n) {
    for (std::size_t to = 0; to < cluster()->size(); ++to) {
      if (to != cluster()->rank()) port->send(to, numbered(n, body(n)));
    }
  }
  REQUIRE(inbox.wait_for(count * (cluster()->size() - 1)));
  check_streams(inbox.messages(), count, body);
  CHECK(inbox.failures() == 0);
}

// Sent from several threads at once on one port: each thread's messages stay in its order.
TEST_CASE("Transport: send() may be called from several threads at once", "[mpi][transport]") {
  const std::size_t threads = 3;
  const std::size_t each = 500;
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  std::vector<std::thread> senders;
  for (std::size_t t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (std::size_t n = 0; n < each; ++n) {
        for (std::size_t to = 0; to < cluster()->size(); ++to) {
          if (to != cluster()->rank()) port->send(to, std::to_string(t) + ':' + std::to_string(n));
        }
      }
    });
  }
  for (std::thread& t : senders) t.join();
  REQUIRE(inbox.wait_for(threads * each * (cluster()->size() - 1)));
  std::vector<std::size_t> next(cluster()->size() * threads, 0);
  std::size_t wrong = 0;
  for (const Message& m : inbox.messages()) {
    const std::size_t colon = m.bytes.find(':');
    const std::size_t t = std::stoul(m.bytes.substr(0, colon));
    const std::size_t n = std::stoul(m.bytes.substr(colon + 1));
    if (t >= threads || n != next[m.from * threads + t]++) ++wrong;
  }
  CHECK(wrong == 0);
}

// The n-th attach of one rank talks to the n-th of the others even when those attach later:
// what arrives before is kept, in order, and delivered once the port exists.
TEST_CASE("Transport: messages for a port attached later are kept until it is",
          "[mpi][transport]") {
  Inbox control;
  const std::unique_ptr<ClusterPort> control_port = cluster()->attach(control);
  const std::size_t ranks = cluster()->size();
  Inbox late;
  std::unique_ptr<ClusterPort> late_port;
  if (cluster()->rank() == 0) {
    late_port = cluster()->attach(late);
    for (std::size_t to = 1; to < ranks; ++to) {
      late_port->send(to, "first");
      late_port->send(to, "");
      late_port->send(to, "third");
      // Sent after the three above, so it arrives after them: they wait for their port.
      control_port->send(to, "sent");
    }
  } else {
    REQUIRE(control.wait_for(1));
    CHECK(control.messages()[0].bytes == "sent");
    late_port = cluster()->attach(late);
    REQUIRE(late.wait_for(3));
    const std::vector<Message> got = late.messages();
    REQUIRE(got.size() == 3);
    CHECK(got[0].bytes == "first");
    CHECK(got[1].bytes.empty());
    CHECK(got[2].bytes == "third");
    CHECK(got[0].from == 0);
  }
}

// Many tiny messages to every rank: all arrive, in order, none mixed up.
TEST_CASE("Transport: many small messages all arrive", "[mpi][transport]") {
  const std::size_t count = 10'000;
  auto body = [](std::size_t n) { return n % 16; };
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  for (std::size_t n = 0; n < count; ++n) {
    for (std::size_t to = 0; to < cluster()->size(); ++to) {
      if (to != cluster()->rank()) port->send(to, numbered(n, body(n)));
    }
  }
  REQUIRE(inbox.wait_for(count * (cluster()->size() - 1)));
  check_streams(inbox.messages(), count, body);
}

// An empty message is a message: it arrives, empty, in its place.
TEST_CASE("Transport: a message of 0 bytes arrives", "[mpi][transport]") {
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  for (std::size_t to = 0; to < cluster()->size(); ++to) {
    if (to == cluster()->rank()) continue;
    port->send(to, "");
    port->send(to, "after");
  }
  REQUIRE(inbox.wait_for(2 * (cluster()->size() - 1)));
  std::vector<std::string> from_each(cluster()->size());
  for (const Message& m : inbox.messages()) from_each[m.from] += m.bytes.empty() ? "<>" : m.bytes;
  for (std::size_t from = 0; from < cluster()->size(); ++from) {
    CHECK(from_each[from] == (from == cluster()->rank() ? "" : "<>after"));
  }
}

// 64 MiB from each rank to the next: every byte arrives where it was.
TEST_CASE("Transport: a 64 MiB message arrives intact", "[mpi][transport]") {
  const std::size_t ranks = cluster()->size();
  const std::size_t rank = cluster()->rank();
  const std::size_t size = std::size_t{64} << 20;
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  if (ranks == 1) return;
  port->send((rank + 1) % ranks, pattern(size, rank));
  REQUIRE(inbox.wait_for(1));
  std::vector<Message> got = inbox.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == (rank + ranks - 1) % ranks);
  CHECK(got[0].bytes.size() == size);
  CHECK(got[0].bytes == pattern(size, got[0].from));
}

// A payload above the piece size goes as a header and pieces but arrives as one message, in
// its place among whole ones; sizes around the boundaries, on two ports at once.
TEST_CASE("Transport: messages larger than a piece arrive whole and in order", "[mpi][transport]") {
  const PieceBytes piece(1000);
  const std::vector<std::size_t> sizes{0, 1, 999, 1000, 1001, 1999, 2000, 2001, 123'457, 5, 70'000};
  Inbox a;
  Inbox b;
  const std::unique_ptr<ClusterPort> port_a = cluster()->attach(a);
  const std::unique_ptr<ClusterPort> port_b = cluster()->attach(b);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    for (std::size_t to = 0; to < cluster()->size(); ++to) {
      if (to == cluster()->rank()) continue;
      port_a->send(to, numbered(i, sizes[i]));
      port_b->send(to, numbered(i, sizes[sizes.size() - 1 - i]));
    }
  }
  REQUIRE(a.wait_for(sizes.size() * (cluster()->size() - 1)));
  REQUIRE(b.wait_for(sizes.size() * (cluster()->size() - 1)));
  check_streams(a.messages(), sizes.size(), [&](std::size_t i) { return sizes[i]; });
  check_streams(b.messages(), sizes.size(),
                [&](std::size_t i) { return sizes[sizes.size() - 1 - i]; });
}

// A borrowed body goes from the sender's memory (kept alive by its owner until sent) to where
// the receiver asks, or joined with its tail when the receiver gives no buffer; either way in
// its place among whole messages, on both sides of the piece size.
TEST_CASE("Transport: borrowed bodies arrive whole, in order, where the receiver asks",
          "[mpi][transport]") {
  const bool taking = GENERATE(true, false);
  INFO((taking ? "into the receiver's buffers" : "joined with their tails"));
  const PieceBytes piece(4096);
  const std::vector<std::size_t> sizes{1, 4095, 4096, 4097, 100'000, 3, 9000};
  Inbox inbox;
  if (taking) inbox.take_bodies();
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  // Message 0 says "attached" (a body that comes before is joined, as for any early message).
  const std::size_t others = cluster()->size() - 1;
  for (std::size_t to = 0; to < cluster()->size(); ++to) {
    if (to != cluster()->rank()) port->send(to, numbered(0, 0));
  }
  REQUIRE(inbox.wait_for(others));
  std::vector<std::weak_ptr<const void>> lent;
  std::size_t borrowed = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    for (std::size_t to = 0; to < cluster()->size(); ++to) {
      if (to == cluster()->rank()) continue;
      port->send(to, numbered(2 * i + 1, sizes[i]));
      // Then half of a message's bytes borrowed, the rest as its tail.
      const auto body = std::make_shared<const std::string>(numbered(2 * i + 2, sizes[i]));
      const std::size_t half = body->size() / 2;
      lent.push_back(body);
      port->send_borrowed(to, {body, std::as_bytes(std::span(body->data(), half))},
                          body->substr(half));
      ++borrowed;
    }
  }
  const std::size_t count = 2 * sizes.size() + 1;
  REQUIRE(inbox.wait_for(count * others));
  check_streams(inbox.messages(), count,
                [&](std::size_t n) { return n == 0 ? 0 : sizes[(n - 1) / 2]; });
  CHECK(inbox.bodies_taken() == (taking ? borrowed : 0));
  // Every other rank has all it was sent: the sends complete and let go of what they borrowed.
  const auto given_back = [&] {
    return std::all_of(lent.begin(), lent.end(), [](const auto& w) { return w.expired(); });
  };
  for (int i = 0; i < 500 && !given_back(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(given_back());
}

// A destroyed port receives nothing more, but what it sent before still goes.
TEST_CASE("Transport: a destroyed port's queued sends are still delivered", "[mpi][transport]") {
  const std::size_t count = 500;
  auto body = [](std::size_t n) { return n % 7 == 0 ? 5000 : n % 13; };
  Inbox inbox;
  std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  if (cluster()->rank() == 0) {
    for (std::size_t n = 0; n < count; ++n) {
      for (std::size_t to = 1; to < cluster()->size(); ++to) port->send(to, numbered(n, body(n)));
    }
    port.reset();
  } else {
    REQUIRE(inbox.wait_for(count));
    std::vector<Message> got = inbox.messages();
    std::size_t wrong = 0;
    for (std::size_t n = 0; n < got.size(); ++n) {
      if (got[n].from != 0 || got[n].bytes != numbered(n, body(n))) ++wrong;
    }
    CHECK(wrong == 0);
  }
}

namespace {
// Counts the messages it gets after `closed` was set (there must be none).
class ClosingReceiver final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t /*from*/, std::string /*bytes*/) override {
    if (closed.load()) ++late;
    if (++received == 10) ten.test_and_set();
    ten.notify_all();
  }
  void fail(std::string /*what*/) noexcept override {}

  std::atomic<bool> closed{false};
  std::atomic<std::size_t> received{0};
  std::atomic<std::size_t> late{0};
  std::atomic_flag ten;
};
}  // namespace

// A port destroyed while messages stream in: no receive() once its destructor has returned.
TEST_CASE("Transport: no receive() after a port's destructor returns", "[mpi][transport]") {
  const std::size_t count = 5000;
  Inbox control;
  ClosingReceiver closing;
  const std::unique_ptr<ClusterPort> control_port = cluster()->attach(control);
  std::unique_ptr<ClusterPort> port = cluster()->attach(closing);
  if (cluster()->rank() == 0) {
    for (std::size_t n = 0; n < count; ++n) {
      for (std::size_t to = 1; to < cluster()->size(); ++to) port->send(to, std::to_string(n));
    }
    // Arrives after all of the above (one sender, one order), whatever became of them.
    for (std::size_t to = 1; to < cluster()->size(); ++to) control_port->send(to, "done");
  } else {
    closing.ten.wait(false);
    port.reset();
    closing.closed = true;
    REQUIRE(control.wait_for(1));
    CHECK(closing.late == 0);
    CHECK(closing.received >= 10);
  }
}

namespace {
// Sends every message back to its sender from inside receive(), as an engine answering a
// request would.
class Echo final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t from, std::string bytes) override { port->send(from, std::move(bytes)); }
  void fail(std::string /*what*/) noexcept override {}

  ClusterPort* port = nullptr;
};
}  // namespace

// receive() may send (on its own port): the reply goes out, nothing deadlocks.
TEST_CASE("Transport: a receiver may send from receive()", "[mpi][transport]") {
  const std::size_t count = 300;
  Inbox inbox;
  Echo echo;
  const bool pinging = cluster()->rank() == 0;
  const std::unique_ptr<ClusterPort> port =
      pinging ? cluster()->attach(inbox) : cluster()->attach(echo);
  echo.port = port.get();
  Inbox ready;
  const std::unique_ptr<ClusterPort> ready_port = cluster()->attach(ready);
  if (pinging) {
    REQUIRE(ready.wait_for(cluster()->size() - 1));  // each echo knows its port
    for (std::size_t n = 0; n < count; ++n) {
      for (std::size_t to = 1; to < cluster()->size(); ++to) port->send(to, numbered(n, n));
    }
    REQUIRE(inbox.wait_for(count * (cluster()->size() - 1)));
    check_streams(inbox.messages(), count, [](std::size_t n) { return n; });
  } else {
    ready_port->send(0, "ready");
  }
  // The echoes' port must outlive rank 0's pings: wait until rank 0 has all its replies.
  Inbox done;
  const std::unique_ptr<ClusterPort> done_port = cluster()->attach(done);
  if (pinging) {
    for (std::size_t to = 1; to < cluster()->size(); ++to) done_port->send(to, "done");
  } else {
    REQUIRE(done.wait_for(1));
  }
}

namespace {
class Throwing final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t /*from*/, std::string bytes) override {
    throw std::runtime_error("cannot take " + bytes);
  }
  void fail(std::string what) noexcept override { inbox.fail(std::move(what)); }

  Inbox inbox;
};
}  // namespace

// A receiver that throws has lost a message: it is told through fail(), once.
TEST_CASE("Transport: a receiver that throws from receive() gets fail()", "[mpi][transport]") {
  Throwing throwing;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(throwing);
  if (cluster()->rank() == 0) {
    for (std::size_t to = 1; to < cluster()->size(); ++to) {
      port->send(to, "one");
      port->send(to, "two");
    }
  } else {
    REQUIRE(throwing.inbox.wait_for_failure());
    CHECK_THAT(throwing.inbox.failure(), Catch::Contains("cannot take one"));
    CHECK(throwing.inbox.failures() == 1);
  }
}

// Sending to a rank that does not exist, or to this one, is a mistake of the caller.
TEST_CASE("Transport: send() to this rank or past the last throws std::invalid_argument",
          "[mpi][transport]") {
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  CHECK_THROWS_AS(port->send(cluster()->rank(), "x"), std::invalid_argument);
  CHECK_THROWS_AS(port->send(cluster()->size(), "x"), std::invalid_argument);
}

// Over 2^31 bytes in one message (MPI counts are int): it goes in pieces of 1 GiB and arrives
// as one, every byte in place. Needs about 4.5 GiB; run with 2 ranks by the `slow` test.
TEST_CASE("Transport: a message over 2 GiB arrives intact", "[mpi][transport][.][slow]") {
  const std::size_t size = (std::size_t{1} << 31) + 4099;
  Inbox inbox;
  const std::unique_ptr<ClusterPort> port = cluster()->attach(inbox);
  if (cluster()->size() < 2) return;
  // A 1 MiB pattern with the block's number in its first bytes: cheap to make and to check.
  const std::size_t block = std::size_t{1} << 20;
  const std::string tile = pattern(block, 42);
  auto expected_block = [&](std::size_t b) {
    std::string bytes = tile;
    std::memcpy(bytes.data(), &b, sizeof b);
    return bytes;
  };
  if (cluster()->rank() == 0) {
    std::string big(size, '\0');
    for (std::size_t b = 0; b * block < size; ++b) {
      const std::string bytes = expected_block(b);
      std::memcpy(big.data() + b * block, bytes.data(), std::min(block, size - b * block));
    }
    port->send(1, std::move(big));
  } else if (cluster()->rank() == 1) {
    REQUIRE(inbox.wait_for(1, std::chrono::seconds(600)));
    std::vector<Message> got = inbox.take();
    REQUIRE(got[0].bytes.size() == size);
    std::size_t wrong = 0;
    for (std::size_t b = 0; b * block < size; ++b) {
      const std::string bytes = expected_block(b);
      const std::size_t n = std::min(block, size - b * block);
      if (std::memcmp(got[0].bytes.data() + b * block, bytes.data(), n) != 0) ++wrong;
    }
    CHECK(wrong == 0);
  }
}
