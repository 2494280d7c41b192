#include "summary.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace dagflow::cli {

namespace {

struct OpRow {
  std::string op;
  std::size_t nodes = 0;
  std::size_t executed = 0;
  std::size_t cached = 0;
  double seconds = 0;
};

constexpr std::size_t kColumns = 6;
using Cells = std::array<std::string, kColumns>;

// Columns two spaces apart, the first (the op) left-aligned, the numbers right-aligned.
std::string aligned(const std::vector<Cells>& lines) {
  std::array<std::size_t, kColumns> width{};
  for (const Cells& cells : lines) {
    for (std::size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], cells[c].size());
  }
  std::string text;
  for (const Cells& cells : lines) {
    std::string line = fmt::format("{:<{}}", cells[0], width[0]);
    for (std::size_t c = 1; c < kColumns; ++c) {
      line += fmt::format("  {:>{}}", cells[c], width[c]);
    }
    text += line + '\n';
  }
  return text;
}

}  // namespace

std::string summary_line(const Pipeline& pipeline, const PipelineResult& result) {
  const PipelineStats& s = result.stats;
  std::string line = fmt::format("{}: {} nodes, {} executed, {} cached", pipeline.spec().name,
                                 result.nodes.size(), s.executed, s.cache_hits);
  if (s.failed > 0) line += fmt::format(", {} failed", s.failed);
  if (s.not_run > 0) line += fmt::format(", {} not run", s.not_run);
  const std::size_t not_needed =
      result.nodes.size() - s.executed - s.cache_hits - s.failed - s.not_run;
  if (not_needed > 0) line += fmt::format(", {} not needed", not_needed);
  bool has_map = false;
  for (const NodeSpec& node : pipeline.spec().nodes) has_map = has_map || !node.map.empty();
  if (has_map) {
    line += fmt::format(" (items: {} executed, {} cached)", s.items_executed, s.items_cached);
  }
  line += fmt::format(" in {:.2f} s", s.seconds);
  return line;
}

std::string op_table(const PipelineResult& result) {
  std::vector<OpRow> rows;
  for (const NodeRunInfo& node : result.nodes) {
    auto row =
        std::find_if(rows.begin(), rows.end(), [&](const OpRow& r) { return r.op == node.op; });
    if (row == rows.end()) row = rows.insert(rows.end(), OpRow{.op = node.op});
    ++row->nodes;
    if (node.outcome == NodeOutcome::kExecuted) ++row->executed;
    if (node.outcome == NodeOutcome::kCached) ++row->cached;
    row->seconds += node.seconds;
  }
  const double wall = result.stats.seconds;
  std::vector<Cells> lines{{"op", "nodes", "executed", "cached", "time", "share"}};
  for (const OpRow& row : rows) {
    lines.push_back({row.op, fmt::format("{}", row.nodes), fmt::format("{}", row.executed),
                     fmt::format("{}", row.cached), fmt::format("{:.3f} s", row.seconds),
                     wall > 0 ? fmt::format("{:.0f}%", 100 * row.seconds / wall) : "-"});
  }
  return aligned(lines);
}

std::string rank_lines(const PipelineResult& result) {
  std::string text;
  const std::vector<RankStats>& ranks = result.stats.ranks;
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    text += fmt::format("rank {}: {} {} executed, {} map {}, {:.2f} s busy\n", r, ranks[r].executed,
                        ranks[r].executed == 1 ? "task" : "tasks", ranks[r].items_executed,
                        ranks[r].items_executed == 1 ? "item" : "items", ranks[r].busy_seconds);
  }
  return text;
}

}  // namespace dagflow::cli
