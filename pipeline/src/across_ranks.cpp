#include "across_ranks.hpp"
// (the header this file implements first)

#include <bit>

#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/serialization.hpp>

namespace dagflow::detail {

namespace {

// Everything travels as one Value (its cereal bytes): a writer's result keeps its paths' two
// forms, and no type of another module needs a serialisation of its own here.

Value int_of(std::uint64_t u) { return Value(std::bit_cast<std::int64_t>(u)); }
std::uint64_t uint_of(const Value& v) { return std::bit_cast<std::uint64_t>(v.as_int()); }

Value hash_value(const Hash128& h) { return Value::List{int_of(h.low), int_of(h.high)}; }
Hash128 hash_of(const Value& v) {
  const Value::List& pair = v.as_list();
  return Hash128{.low = uint_of(pair.at(0)), .high = uint_of(pair.at(1))};
}

Value hashes_value(const std::vector<Hash128>& hashes) {
  Value::List out;
  out.reserve(hashes.size());
  for (const Hash128& h : hashes) out.push_back(hash_value(h));
  return out;
}
std::vector<Hash128> hashes_of(const Value& v) {
  std::vector<Hash128> out;
  for (const Value& h : v.as_list()) out.push_back(hash_of(h));
  return out;
}

// An absent optional is null; a present one is a list of one, so that a null Value (a writer
// may return anything) stays apart from none.
template <class T, class ToValue>
Value optional_value(const std::optional<T>& x, const ToValue& to_value) {
  return x ? Value(Value::List{to_value(*x)}) : Value();
}

Value count_value(const NodeCount& c) {
  return Value::List{c.seen,
                     c.ran,
                     c.failed,
                     int_of(c.items_executed),
                     int_of(c.items_cached),
                     c.seconds,
                     hashes_value(c.blocks)};
}
NodeCount count_of(const Value& v) {
  const Value::List& f = v.as_list();
  return NodeCount{.seen = f.at(0).as_bool(),
                   .ran = f.at(1).as_bool(),
                   .failed = f.at(2).as_bool(),
                   .items_executed = static_cast<std::size_t>(uint_of(f.at(3))),
                   .items_cached = static_cast<std::size_t>(uint_of(f.at(4))),
                   .seconds = f.at(5).as_double(),
                   .blocks = hashes_of(f.at(6))};
}

Value trace_value(const NodeTrace& t) {
  return Value::List{t.ran, t.cut_off, hashes_value(t.input_hashes),
                     optional_value(t.result, hash_value),
                     optional_value(t.written, [](const Value& w) { return w; })};
}
NodeTrace trace_of(const Value& v) {
  const Value::List& f = v.as_list();
  NodeTrace t{
      .ran = f.at(0).as_bool(), .cut_off = f.at(1).as_bool(), .input_hashes = hashes_of(f.at(2))};
  if (!f.at(3).is_null()) t.result = hash_of(f.at(3).as_list().at(0));
  if (!f.at(4).is_null()) t.written = f.at(4).as_list().at(0);
  return t;
}

// Runs `decode` on the Value in `bytes`; a malformed one is an Error (never a crash).
template <class Decode>
auto decoded(std::string_view bytes, const Decode& decode) -> decltype(decode(Value())) {
  try {
    return decode(from_bytes<Value>(bytes));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // std::out_of_range of at()
    throw Error(std::string("a rank sent a malformed pipeline message: ") + e.what());
  }
}

}  // namespace

void NodeCount::add(const NodeCount& later) {
  seen = seen || later.seen;
  ran = ran || later.ran;
  failed = failed || later.failed;
  items_executed += later.items_executed;
  items_cached += later.items_cached;
  seconds += later.seconds;
  blocks.insert(blocks.end(), later.blocks.begin(), later.blocks.end());
}

std::string encode(const RankNews& news) {
  Value::List counts;
  for (const auto& [node, count] : news.counts) {
    counts.emplace_back(Value::List{node, count_value(count)});
  }
  Value::List traces;
  for (const auto& [node, trace] : news.traces) {
    traces.emplace_back(Value::List{node, trace_value(trace)});
  }
  return to_bytes(Value(Value::List{news.cancelled, std::move(counts), std::move(traces)}));
}

RankNews decode_news(std::string_view bytes) {
  return decoded(bytes, [](const Value& v) {
    const Value::List& f = v.as_list();
    RankNews news{.cancelled = f.at(0).as_bool()};
    for (const Value& c : f.at(1).as_list()) {
      const Value::List& pair = c.as_list();
      news.counts.emplace_back(static_cast<std::uint32_t>(pair.at(0).as_int()),
                               count_of(pair.at(1)));
    }
    for (const Value& t : f.at(2).as_list()) {
      const Value::List& pair = t.as_list();
      news.traces.emplace_back(static_cast<std::uint32_t>(pair.at(0).as_int()),
                               trace_of(pair.at(1)));
    }
    return news;
  });
}

std::string encode(const RunStart& start) {
  return to_bytes(Value(
      Value::List{start.refused, start.cancelled,
                  optional_value(start.record, [](const std::string& s) { return Value(s); })}));
}

RunStart decode_start(std::string_view bytes) {
  return decoded(bytes, [](const Value& v) {
    const Value::List& f = v.as_list();
    RunStart start{.refused = f.at(0).as_string(), .cancelled = f.at(1).as_bool()};
    if (!f.at(2).is_null()) start.record = f.at(2).as_list().at(0).as_string();
    return start;
  });
}

std::string encode(const std::vector<WriterCheck>& checks) {
  Value::List out;
  for (const WriterCheck& c : checks) {
    Value::List restore(c.restore.begin(), c.restore.end());
    out.emplace_back(Value::List{c.node, c.refreshed, c.problem, std::move(restore)});
  }
  return to_bytes(Value(std::move(out)));
}

std::vector<WriterCheck> decode_writer_checks(std::string_view bytes) {
  return decoded(bytes, [](const Value& v) {
    std::vector<WriterCheck> checks;
    for (const Value& c : v.as_list()) {
      const Value::List& f = c.as_list();
      WriterCheck check{.node = static_cast<std::uint32_t>(f.at(0).as_int()),
                        .refreshed = f.at(1).as_bool(),
                        .problem = f.at(2).as_string()};
      for (const Value& r : f.at(3).as_list()) {
        check.restore.push_back(static_cast<std::uint32_t>(r.as_int()));
      }
      checks.push_back(std::move(check));
    }
    return checks;
  });
}

}  // namespace dagflow::detail
