#include "cluster_link.hpp"

#include <cstring>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/hashing.hpp>

namespace dagflow::detail {

namespace {

constexpr std::uint32_t kMagic = 0x64666c77;  // "dflw"

std::uint64_t checksum_of(std::string_view payload) {
  Hasher h;
  h.add(payload);
  return h.digest().low;
}

std::string_view as_chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

// Follows the payload of every message.
struct ClusterLink::Trailer {
  std::uint64_t run;
  std::uint64_t checksum;  // of the payload
  std::uint32_t kind;
  std::uint32_t index;
  std::uint32_t magic;
  std::uint32_t unused;
};

ClusterLink::ClusterLink(std::shared_ptr<Cluster> cluster)
    : cluster_(std::move(cluster)), rank_(cluster_->rank()), size_(cluster_->size()) {
  port_ = cluster_->attach(*this);
}

ClusterLink::~ClusterLink() { port_.reset(); }

void ClusterLink::send(std::size_t to, MessageKind kind, std::uint64_t run, std::uint32_t index,
                       std::string payload) {
  const Trailer t{run, checksum_of(payload), static_cast<std::uint32_t>(kind), index, kMagic, 0};
  payload.append(reinterpret_cast<const char*>(&t), sizeof t);
  port_->send(to, std::move(payload));
}

void ClusterLink::send_array(std::size_t to, std::uint64_t run, std::uint32_t index,
                             BorrowedBytes elements) {
  const Trailer t{run,
                  checksum_of(as_chars(elements.bytes)),
                  static_cast<std::uint32_t>(MessageKind::kArray),
                  index,
                  kMagic,
                  0};
  port_->send_borrowed(to, std::move(elements),
                       std::string(reinterpret_cast<const char*>(&t), sizeof t));
}

void ClusterLink::broadcast(MessageKind kind, std::uint64_t run, std::uint32_t index,
                            const std::string& payload) {
  for (std::size_t r = 0; r < size_; ++r) {
    if (r != rank_) send(r, kind, run, index, payload);
  }
}

std::vector<std::string> ClusterLink::all_gather(std::uint64_t run, std::uint32_t round,
                                                 std::string mine) {
  broadcast(MessageKind::kGather, run, round, mine);
  std::unique_lock lock(mutex_);
  auto& slots = gathers_[{run, round}];
  slots.resize(size_);
  slots[rank_] = std::move(mine);
  const auto complete = [&] {
    for (const auto& s : slots) {
      if (!s) return false;
    }
    return true;
  };
  gathered_.wait(lock, [&] { return failure_.has_value() || complete(); });
  if (!complete()) throw Error(*failure_);
  std::vector<std::string> all;
  all.reserve(size_);
  for (auto& s : slots) all.push_back(std::move(*s));
  gathers_.erase({run, round});
  return all;
}

void ClusterLink::open_run(std::uint64_t run, RunMailbox& mailbox) {
  std::vector<Early> early;
  const std::lock_guard lock(mutex_);
  current_run_ = run;
  mailbox_ = &mailbox;
  if (failure_) mailbox.fail(*failure_);
  for (Early& e : early_) {
    if (e.message.run == run) {
      mailbox.deliver(e.from, e.message.kind, e.message.index, std::move(e.payload));
    } else if (e.message.run > run) {
      early.push_back(std::move(e));
    }
  }
  early_ = std::move(early);
}

void ClusterLink::close_run() {
  const std::lock_guard lock(mutex_);
  mailbox_ = nullptr;
}

std::optional<ClusterLink::Trailer> ClusterLink::trailer_of(std::string_view tail) {
  if (tail.size() < sizeof(Trailer)) return std::nullopt;
  Trailer t{};
  std::memcpy(&t, tail.data() + tail.size() - sizeof t, sizeof t);
  if (t.magic != kMagic) return std::nullopt;
  return t;
}

std::optional<ClusterLink::Parsed> ClusterLink::parse(std::string& bytes) {
  const std::optional<Trailer> t = trailer_of(bytes);
  if (!t) return std::nullopt;
  bytes.resize(bytes.size() - sizeof(Trailer));
  if (t->checksum != checksum_of(bytes)) return std::nullopt;
  return Parsed{t->run, static_cast<MessageKind>(t->kind), t->index};
}

void ClusterLink::damaged(std::size_t from) {
  fail(fmt::format("a message from rank {} arrived damaged (its checksum does not match)", from));
}

void ClusterLink::receive(std::size_t from, std::string bytes) {
  const std::optional<Parsed> m = parse(bytes);
  if (!m) {
    damaged(from);
    return;
  }
  const std::lock_guard lock(mutex_);
  dispatch(from, *m, std::move(bytes));
}

// Only a result of the run in progress lands in memory of its own: anything else is delivered
// as a string, like any message (kept if early, dropped if late).
BodyBuffer ClusterLink::body_buffer(std::size_t, std::string_view tail, std::size_t size) {
  const std::optional<Trailer> t = trailer_of(tail);
  if (!t || t->kind != static_cast<std::uint32_t>(MessageKind::kArray)) return {};
  const std::lock_guard lock(mutex_);
  if (mailbox_ == nullptr || t->run != current_run_) return {};
  return mailbox_->array_buffer(t->index, size);
}

void ClusterLink::receive_body(std::size_t from, std::string tail, BodyBuffer body) {
  const std::optional<Trailer> t = trailer_of(tail);
  if (!t || t->checksum != checksum_of(as_chars(body.bytes))) {
    damaged(from);
    return;
  }
  const std::lock_guard lock(mutex_);
  // A run that ended meanwhile (another rank failed) no longer waits for it.
  if (mailbox_ != nullptr && t->run == current_run_)
    mailbox_->deliver_array(t->index, std::move(body));
}

void ClusterLink::dispatch(std::size_t from, const Parsed& m, std::string payload) {
  if (m.kind == MessageKind::kGather) {
    auto& slots = gathers_[{m.run, m.index}];
    slots.resize(size_);
    slots[from] = std::move(payload);
    gathered_.notify_all();
  } else if (mailbox_ != nullptr && m.run == current_run_) {
    mailbox_->deliver(from, m.kind, m.index, std::move(payload));
  } else if (m.run > current_run_) {
    early_.push_back(Early{from, m, std::move(payload)});
  }
  // Anything else belongs to a run that has ended here: nothing waits for it any more.
}

void ClusterLink::fail(std::string what) noexcept {
  const std::lock_guard lock(mutex_);
  if (failure_) return;
  failure_ = "the cluster failed: " + what;
  if (mailbox_ != nullptr) mailbox_->fail(*failure_);
  gathered_.notify_all();
}

ByteWriter& ByteWriter::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
  return *this;
}

ByteWriter& ByteWriter::str(std::string_view s) {
  u64(s.size());
  bytes_.append(s);
  return *this;
}

std::uint64_t ByteReader::u64() {
  if (bytes_.size() < 8) throw Error("a message from another rank is cut short");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(bytes_[static_cast<std::size_t>(i)])} << (8 * i);
  }
  bytes_.remove_prefix(8);
  return v;
}

std::string ByteReader::str() {
  const std::uint64_t n = u64();
  if (bytes_.size() < n) throw Error("a message from another rank is cut short");
  std::string s(bytes_.substr(0, n));
  bytes_.remove_prefix(n);
  return s;
}

}  // namespace dagflow::detail
