#include "ranks_trace.hpp"
// (the header this file implements first)

#include <cstddef>
#include <cstdint>
#include <utility>

#include <dagflow/nodes/value.hpp>

namespace dagflow::cli {

std::string chrome_trace_of_ranks(const std::vector<std::string>& traces) {
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  bool first = true;
  const auto add = [&](const Value& event) {
    if (!first) out += ",\n";
    first = false;
    out += to_json(event);
  };
  for (std::size_t rank = 0; rank < traces.size(); ++rank) {
    const auto pid = static_cast<std::int64_t>(rank) + 1;
    const std::string name = "rank " + std::to_string(rank);
    add(Value::Map{
        {"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"args", Value::Map{{"name", name}}}});
    add(Value::Map{{"ph", "M"},
                   {"name", "process_sort_index"},
                   {"pid", pid},
                   {"args", Value::Map{{"sort_index", pid}}}});
    Value trace = from_json(traces[rank]);
    for (Value& event : trace.as_map().at("traceEvents").as_list()) {
      event.as_map().insert_or_assign("pid", pid);
      add(event);
    }
  }
  return out + "]}\n";
}

}  // namespace dagflow::cli
