#include <dagflow/engine/trace.hpp>
// (the header this file implements first)

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/util/json_text.hpp>

namespace dagflow {

void TraceRecorder::on_run_start(const RunView& run) {
  std::lock_guard lock(mutex_);
  run_ = &run;
  if (!started_) {
    started_ = true;
    origin_ = std::chrono::steady_clock::now();
  }
  threads_ = std::max(threads_, run.threads());
}

void TraceRecorder::on_task(const TaskEvent& event) {
  std::lock_guard lock(mutex_);
  if (run_ == nullptr) return;                       // not between on_run_start and on_run_end
  if (event.outcome == TaskOutcome::kFused) return;  // its work is in its reader's span
  TraceSpan span;
  span.name = run_->label(event.task);
  span.op = std::string(run_->op_name(event.task));
  if (const auto key = run_->key(event.task)) span.key = key->to_hex();
  span.outcome = event.outcome;
  span.worker = event.worker;
  span.start_us = std::chrono::duration<double, std::micro>(event.start - origin_).count();
  span.duration_us = std::chrono::duration<double, std::micro>(event.end - event.start).count();
  span.items_computed = event.items_computed;
  span.items_cached = event.items_cached;
  span.chunks = event.chunks;
  span.io = event.io;
  span.attempt = event.attempt;
  span.will_retry = event.will_retry;
  span.timed_out = event.timed_out;
  if (event.queued != std::chrono::steady_clock::time_point{} && event.queued < event.start) {
    span.wait_us = std::chrono::duration<double, std::micro>(event.start - event.queued).count();
  }
  spans_.push_back(std::move(span));
}

void TraceRecorder::on_chunks(const ChunkEvent& event) {
  // Chunks closer than this to the part before them on the same worker extend it.
  constexpr double kMergeGapUs = 1000;
  std::lock_guard lock(mutex_);
  if (run_ == nullptr) return;
  const double start_us = std::chrono::duration<double, std::micro>(event.start - origin_).count();
  const double end_us = std::chrono::duration<double, std::micro>(event.end - origin_).count();
  const auto [it, first] = last_part_.try_emplace({event.task, event.worker}, spans_.size());
  if (!first) {
    TraceSpan& last = spans_[it->second];
    if (start_us - (last.start_us + last.duration_us) < kMergeGapUs) {
      last.duration_us = std::max(last.duration_us, end_us - last.start_us);
      last.items_computed += event.units;
      last.chunks += event.chunks;
      return;
    }
    it->second = spans_.size();
  }
  TraceSpan span;
  span.name = run_->label(event.task);
  span.op = std::string(run_->op_name(event.task));
  if (const auto key = run_->key(event.task)) span.key = key->to_hex();
  span.worker = event.worker;
  span.start_us = start_us;
  span.duration_us = end_us - start_us;
  span.items_computed = event.units;
  span.chunks = event.chunks;
  span.part = true;
  spans_.push_back(std::move(span));
}

void TraceRecorder::on_run_end() {
  std::lock_guard lock(mutex_);
  run_ = nullptr;
  last_part_.clear();
}

std::vector<TraceSpan> TraceRecorder::spans() const {
  std::lock_guard lock(mutex_);
  return spans_;
}

std::size_t TraceRecorder::threads() const {
  std::lock_guard lock(mutex_);
  return threads_;
}

namespace {

// Lanes past the compute workers are I/O threads.
std::string lane_name(std::size_t lane, std::size_t workers) {
  return lane < workers ? fmt::format("worker {}", lane) : fmt::format("io {}", lane - workers);
}

// A retry's span is named after its attempt: "fetch #2".
std::string attempt_name(const TraceSpan& s) {
  return s.attempt > 0 ? fmt::format("{} #{}", s.name, s.attempt + 1) : s.name;
}

bool is_hit(const TraceSpan& s) {
  return s.outcome == TaskOutcome::kMemoryHit || s.outcome == TaskOutcome::kDiskHit;
}

std::string_view cache_state(const TraceSpan& s) {
  switch (s.outcome) {
    case TaskOutcome::kMemoryHit:
      return "memory hit";
    case TaskOutcome::kDiskHit:
      return "disk hit";
    case TaskOutcome::kFailed:
      return "failed";
    case TaskOutcome::kFused:
      return "fused";
    case TaskOutcome::kExecuted:
      break;
  }
  return s.items_computed == 0 && s.items_cached > 0 ? "blocks" : "miss";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw Error("cannot write '" + path.string() + "'");
}

std::string xml_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Colour-blind-friendly and distinct on white (Okabe-Ito, then Tableau).
constexpr std::string_view kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                         "#56B4E9", "#D55E00", "#F0E442", "#999999",
                                         "#8C564B", "#17BECF", "#BCBD22", "#7F7F7F"};

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`.
double tick_step(double span, int ticks) {
  const double raw = span / ticks;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * power) return m * power;
  }
  return 10 * power;
}

}  // namespace

std::string TraceRecorder::chrome_trace() const {
  const std::vector<TraceSpan> all = spans();
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  std::size_t lanes = threads();
  for (const TraceSpan& s : all) lanes = std::max(lanes, s.worker + 1);
  const std::size_t workers = threads();
  for (std::size_t w = 0; w < lanes; ++w) {
    out += fmt::format(
        "{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":"
        "\"{}\"}}}},\n",
        w, lane_name(w, workers));
  }
  for (const TraceSpan& s : all) {
    if (s.wait_us > 0) {
      out += "{\"name\":";
      util::append_json_string(out, s.name + ": waiting for resources");
      out += fmt::format(
          ",\"cat\":\"wait\",\"ph\":\"X\",\"ts\":{:.3f},\"dur\":{:.3f},\"pid\":1,\"tid\":{}}},\n",
          s.start_us - s.wait_us, s.wait_us, s.worker);
    }
    if (s.part) {
      out += "{\"name\":";
      util::append_json_string(out, s.name + " (part)");
      out += fmt::format(
          ",\"cat\":\"chunks\",\"ph\":\"X\",\"ts\":{:.3f},\"dur\":{:.3f},\"pid\":1,"
          "\"tid\":{},\"args\":{{\"op\":",
          s.start_us, s.duration_us, s.worker);
      util::append_json_string(out, s.op.empty() ? "task" : s.op);
      out += fmt::format(",\"units\":{},\"chunks\":{}}}}},\n", s.items_computed, s.chunks);
      continue;
    }
    out += "{\"name\":";
    util::append_json_string(out, attempt_name(s));
    out += ",\"cat\":";
    util::append_json_string(out, s.op.empty() ? "task" : s.op);
    if (is_hit(s)) {
      out += fmt::format(",\"ph\":\"i\",\"s\":\"t\",\"ts\":{:.3f}", s.start_us);
    } else {
      out += fmt::format(",\"ph\":\"X\",\"ts\":{:.3f},\"dur\":{:.3f}", s.start_us, s.duration_us);
    }
    out +=
        fmt::format(",\"pid\":1,\"tid\":{},\"args\":{{\"cache\":\"{}\"", s.worker, cache_state(s));
    if (!s.key.empty()) out += ",\"key\":\"" + s.key + "\"";
    if (s.items_computed + s.items_cached + s.chunks > 0) {
      out += fmt::format(",\"items_computed\":{},\"items_cached\":{},\"chunks\":{}",
                         s.items_computed, s.items_cached, s.chunks);
    }
    if (s.attempt > 0 || s.will_retry) out += fmt::format(",\"attempt\":{}", s.attempt + 1);
    if (s.will_retry) out += ",\"retried\":true";
    if (s.timed_out) out += ",\"timed_out\":true";
    out += "}},\n";
  }
  if (out.ends_with(",\n")) out.erase(out.size() - 2, 1);
  return out + "]}\n";
}

namespace {

// The layout of a timeline picture: one lane per worker (and one for cache hits), time along x,
// one colour per op.
struct Timeline {
  static constexpr double kLeft = 90, kPlotWidth = 900, kLane = 24, kTop = 30;

  std::size_t threads = 1;  // compute workers; lanes past them are I/O threads
  std::size_t workers = 1;  // lanes of threads, I/O ones included
  double end_us = 0;
  bool any_hit = false;
  std::map<std::string, std::size_t> colour_of;  // op -> palette index, by first appearance
  std::vector<std::string> ops;

  Timeline(const std::vector<TraceSpan>& spans, std::size_t compute_threads)
      : threads(std::max<std::size_t>(compute_threads, 1)), workers(threads) {
    for (const TraceSpan& s : spans) {
      workers = std::max(workers, s.worker + 1);
      end_us = std::max(end_us, s.start_us + s.duration_us);
      any_hit = any_hit || is_hit(s);
      if (!is_hit(s) && colour_of.emplace(op_of(s), ops.size()).second) ops.push_back(op_of(s));
    }
    if (end_us <= 0) end_us = 1;
  }
  static std::string op_of(const TraceSpan& s) { return s.op.empty() ? "(anonymous)" : s.op; }
  [[nodiscard]] std::size_t lanes() const { return workers + (any_hit ? 1 : 0); }
  [[nodiscard]] double plot_bottom() const { return kTop + kLane * static_cast<double>(lanes()); }
  [[nodiscard]] double x(double us) const { return kLeft + us / end_us * kPlotWidth; }
  [[nodiscard]] double lane_y(std::size_t lane) const {
    return kTop + kLane * static_cast<double>(lane);
  }
};

std::string svg_lanes(const Timeline& t, std::size_t tasks) {
  const double legend_rows = std::ceil(static_cast<double>(t.ops.size()) / 4.0);
  const double height = t.plot_bottom() + 40 + 20 * legend_rows + 10;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"18\" font-weight=\"bold\">dagflow timeline: {} tasks on {} "
      "workers</text>\n",
      Timeline::kLeft + Timeline::kPlotWidth + 20, height, Timeline::kLeft, tasks, t.threads);
  for (std::size_t lane = 0; lane < t.lanes(); ++lane) {
    const double y = t.lane_y(lane);
    const std::string name = t.any_hit && lane == 0
                                 ? std::string("cache hits")
                                 : lane_name(lane - (t.any_hit ? 1 : 0), t.threads);
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n"
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
        Timeline::kLeft, y, Timeline::kPlotWidth, Timeline::kLane,
        lane % 2 == 0 ? "#F4F4F4" : "#FAFAFA", Timeline::kLeft - 8, y + Timeline::kLane / 2 + 4,
        name);
  }
  return svg;
}

// The time axis, in milliseconds.
std::string svg_time_axis(const Timeline& t) {
  std::string svg;
  const double step = tick_step(t.end_us, 8);
  for (double us = 0; us <= t.end_us * 1.0001; us += step) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2:.1f}\" stroke=\"#CCCCCC\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4:g} ms</text>\n",
        t.x(us), Timeline::kTop, t.plot_bottom() + 4, t.plot_bottom() + 18, us / 1000);
  }
  return svg;
}

// Part of a map's work: a thin bar of its op's colour in the lower half of the worker's lane,
// so that it shows beside the task's own bar on the task's worker.
std::string svg_part(const Timeline& t, const TraceSpan& s) {
  const double y = t.lane_y(s.worker + (t.any_hit ? 1 : 0)) + Timeline::kLane / 2;
  const std::string_view colour =
      kPalette[t.colour_of.at(Timeline::op_of(s)) % std::size(kPalette)];
  return fmt::format(
      "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\" "
      "fill-opacity=\"0.6\"><title>{}</title></rect>\n",
      t.x(s.start_us), y, std::max(0.5, t.x(s.start_us + s.duration_us) - t.x(s.start_us)),
      Timeline::kLane / 2 - 3, colour,
      xml_escaped(fmt::format("{} (part): {} units in {} chunks, {:.3f} ms", s.name,
                              s.items_computed, s.chunks, s.duration_us / 1000)));
}

// One task: a bar in its worker's lane, or a diamond in the cache-hit lane.
std::string svg_span(const Timeline& t, const TraceSpan& s) {
  const std::string tooltip = xml_escaped(
      fmt::format("{} ({}): {}, {:.3f} ms{}{}{}", attempt_name(s),
                  s.op.empty() ? "anonymous" : s.op, cache_state(s), s.duration_us / 1000,
                  s.wait_us > 0 ? fmt::format(", waited {:.3f} ms for resources", s.wait_us / 1000)
                                : std::string(),
                  s.timed_out ? ", timed out" : "", s.will_retry ? ", retried" : "",
                  s.items_computed + s.items_cached > 0
                      ? fmt::format(", items {} computed / {} cached, {} chunks", s.items_computed,
                                    s.items_cached, s.chunks)
                      : std::string()));
  if (s.part) return svg_part(t, s);
  if (is_hit(s)) {
    return fmt::format(
        "<path d=\"M{:.1f},{:.1f} l5,-7 l5,7 l-5,7 z\" fill=\"{}\"><title>{}</title></path>\n",
        t.x(s.start_us) - 5, Timeline::kTop + Timeline::kLane / 2,
        s.outcome == TaskOutcome::kDiskHit ? "#2E7D32" : "#81C784", tooltip);
  }
  const double y = t.lane_y(s.worker + (t.any_hit ? 1 : 0)) + 3;
  const std::string_view colour =
      kPalette[t.colour_of.at(Timeline::op_of(s)) % std::size(kPalette)];
  const std::string outline = s.outcome != TaskOutcome::kFailed
                                  ? " stroke=\"white\" stroke-width=\"0.5\""
                              : s.will_retry ? " stroke=\"#F08000\" stroke-width=\"2\""
                                             : " stroke=\"#D00000\" stroke-width=\"2\"";
  std::string wait;
  if (s.wait_us > 0) {
    wait = fmt::format(
        "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"3\" fill=\"#9E9E9E\"/>\n",
        t.x(s.start_us - s.wait_us), y + (Timeline::kLane - 6) / 2 - 1.5,
        std::max(0.5, t.x(s.start_us) - t.x(s.start_us - s.wait_us)));
  }
  return wait + fmt::format(
                    "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\"{}>"
                    "<title>{}</title></rect>\n",
                    t.x(s.start_us), y,
                    std::max(0.5, t.x(s.start_us + s.duration_us) - t.x(s.start_us)),
                    Timeline::kLane - 6, colour, outline, tooltip);
}

// One swatch per op, four a row.
std::string svg_legend(const Timeline& t) {
  std::string svg;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    const double lx = Timeline::kLeft + static_cast<double>(i % 4) * 225;
    const std::size_t row = i / 4;
    const double ly = t.plot_bottom() + 32 + 20 * static_cast<double>(row);
    svg += fmt::format(
        "<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{:.0f}\" y=\"{:.0f}\">{}</text>\n",
        lx, ly, kPalette[i % std::size(kPalette)], lx + 18, ly + 11, xml_escaped(t.ops[i]));
  }
  return svg;
}

}  // namespace

std::string TraceRecorder::timeline_svg() const {
  const std::vector<TraceSpan> all = spans();
  const Timeline t(all, threads());
  const auto tasks = static_cast<std::size_t>(
      std::count_if(all.begin(), all.end(), [](const TraceSpan& s) { return !s.part; }));
  std::string svg = svg_lanes(t, tasks) + svg_time_axis(t);
  for (const TraceSpan& s : all) svg += svg_span(t, s);
  return svg + svg_legend(t) + "</svg>\n";
}

void TraceRecorder::write_chrome_trace(const std::filesystem::path& path) const {
  write_file(path, chrome_trace());
}

void TraceRecorder::write_timeline_svg(const std::filesystem::path& path) const {
  write_file(path, timeline_svg());
}

}  // namespace dagflow
