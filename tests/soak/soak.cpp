// dagflow_soak: long runs that must not drift — memory that grows with every compute() or every
// Executor, and races that only show after thousands of random runs. Three modes, each printing
// its counts and exiting 1 when a check fails (2 for a bad command line):
//
//   dagflow_soak computes   --computes N [--tasks N] [--cache-mb N]
//       rebuilds the same graph and computes it N times on one Executor; the resident set may
//       grow by less than 5% between compute N/10 and compute N. With --cache-mb, the memory
//       cache is on with that budget and the graphs of the last 32 computes stay alive (so the
//       cache fills and evicts): the resident set must stay under the one before the first
//       compute plus the budget plus a fixed margin.
//   dagflow_soak executors  --executors N
//       creates an Executor, computes a small graph on it and destroys it, N times; the
//       resident set may grow by less than 5% between Executor N/10 and Executor N.
//   dagflow_soak random-dags --seconds S [--seed N]
//       random DAGs with throwing tasks, retries, I/O tasks, a resource, keep-going and
//       cancellation from another thread, until S seconds have passed (meant for the TSan
//       build); every outcome is checked against what the DAG's tasks did.
//
// scripts/soak.sh runs the long forms; CTest runs short ones (tests/soak/CMakeLists.txt).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/executor.hpp>

namespace {

using Clock = std::chrono::steady_clock;

// The resident set now, in bytes (not the peak: growth is what matters).
std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

struct Args {
  std::string mode;
  std::size_t computes = 10'000;
  std::size_t tasks = 1'000;
  std::size_t cache_mb = 0;
  std::size_t executors = 30'000;
  double seconds = 30;
  std::uint64_t seed = 20261202;
};

const char* const kUsage =
    "usage: dagflow_soak computes [--computes N] [--tasks N] [--cache-mb N]\n"
    "       dagflow_soak executors [--executors N]\n"
    "       dagflow_soak random-dags [--seconds S] [--seed N]\n";

std::optional<Args> parse(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  Args args;
  args.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--computes") {
      args.computes = std::stoul(value);
    } else if (flag == "--tasks") {
      args.tasks = std::stoul(value);
    } else if (flag == "--cache-mb") {
      args.cache_mb = std::stoul(value);
    } else if (flag == "--executors") {
      args.executors = std::stoul(value);
    } else if (flag == "--seconds") {
      args.seconds = std::stod(value);
    } else if (flag == "--seed") {
      args.seed = std::stoull(value);
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 != 0) return std::nullopt;  // a flag without its value
  return args;
}

// ---- computes ---------------------------------------------------------------------------------

// Task v reads tasks v-1 and v/2 (a chain with long jumps: fusable runs and joins) and returns a
// kilobyte of numbers, so that a cache has something to keep.
using Block = std::vector<std::uint64_t>;
constexpr std::size_t kBlockWords = 128;

Block step(std::uint64_t v, const std::vector<Block>& in) {
  Block out(kBlockWords, v);
  for (const Block& b : in) {
    for (std::size_t i = 0; i < kBlockWords; ++i) out[i] = out[i] * 31 + b[i];
  }
  return out;
}

struct Soaked {
  dagflow::Graph graph;
  dagflow::Delayed<Block> last;
};

std::unique_ptr<Soaked> build(std::size_t tasks) {
  auto s = std::make_unique<Soaked>();
  std::vector<dagflow::Delayed<Block>> nodes;
  nodes.reserve(tasks);
  for (std::size_t v = 0; v < tasks; ++v) {
    std::vector<dagflow::Delayed<Block>> inputs;
    if (v > 0) inputs.push_back(nodes[v - 1]);
    if (v > 1) inputs.push_back(nodes[v / 2]);
    nodes.push_back(
        s->graph.delayed([v](const std::vector<Block>& in) { return step(v, in); }, inputs));
  }
  s->last = nodes.back();
  return s;
}

Block expected_last(std::size_t tasks) {
  std::vector<Block> values;
  values.reserve(tasks);
  for (std::size_t v = 0; v < tasks; ++v) {
    std::vector<Block> in;
    if (v > 0) in.push_back(values[v - 1]);
    if (v > 1) in.push_back(values[v / 2]);
    values.push_back(step(v, in));
  }
  return values.back();
}

int soak_computes(const Args& args) {
  const std::size_t budget = args.cache_mb << 20;
  dagflow::Executor ex({.memory_cache_bytes = budget});
  const Block expected = expected_last(args.tasks);
  std::deque<std::unique_ptr<Soaked>> alive;  // with a cache: the graphs whose results it keeps
  const std::uint64_t before = resident_bytes();
  std::uint64_t at_tenth = 0;
  std::uint64_t highest = 0;
  std::size_t wrong = 0;
  for (std::size_t i = 1; i <= args.computes; ++i) {
    alive.push_back(build(args.tasks));
    if (ex.compute(alive.back()->last) != expected) ++wrong;
    if (budget == 0 || alive.size() > 32) alive.pop_front();
    const std::uint64_t now = resident_bytes();
    highest = std::max(highest, now);
    if (i == args.computes / 10) at_tenth = now;
  }
  const std::uint64_t at_end = resident_bytes();
  fmt::print("computes: {} of {} tasks on one Executor ({} threads), memory cache {} MiB\n",
             args.computes, args.tasks, ex.options().threads, args.cache_mb);
  fmt::print("  wrong results: {}\n", wrong);
  fmt::print(
      "  resident: {:.1f} MiB before, {:.1f} MiB at compute {}, {:.1f} MiB at the end, "
      "{:.1f} MiB at most\n",
      mib(before), mib(at_tenth), args.computes / 10, mib(at_end), mib(highest));
  bool ok = wrong == 0;
  if (budget == 0) {
    const double growth = (static_cast<double>(at_end) / static_cast<double>(at_tenth)) - 1;
    const bool held = growth < 0.05;
    fmt::print("  growth from compute {} to {}: {:+.2f}% (< 5%: {})\n", args.computes / 10,
               args.computes, growth * 100, held ? "yes" : "NO");
    ok = ok && held;
  } else {
    constexpr std::uint64_t kMargin = std::uint64_t{64} << 20;
    const dagflow::CacheStats kept = ex.memory_cache_stats();
    const bool held = highest <= before + budget + kMargin && kept.bytes <= budget;
    fmt::print(
        "  cache holds {} entries, {:.1f} MiB; highest resident within before + budget + "
        "64 MiB ({:.1f} MiB): {}\n",
        kept.entries, mib(kept.bytes), mib(before + budget + kMargin), held ? "yes" : "NO");
    ok = ok && held;
  }
  return ok ? 0 : 1;
}

// ---- executors --------------------------------------------------------------------------------

int soak_executors(const Args& args) {
  const std::size_t tasks = 16;
  const Block expected = expected_last(tasks);
  std::size_t wrong = 0;
  std::uint64_t at_tenth = 0;
  const std::uint64_t before = resident_bytes();
  for (std::size_t i = 1; i <= args.executors; ++i) {
    {
      dagflow::Executor ex;
      const auto s = build(tasks);
      if (ex.compute(s->last) != expected) ++wrong;
    }
    if (i == args.executors / 10) at_tenth = resident_bytes();
  }
  const std::uint64_t at_end = resident_bytes();
  const std::size_t first_tenth = args.executors / 10;
  const double per_executor = static_cast<double>(at_end - std::min(at_end, at_tenth)) /
                              static_cast<double>(args.executors - first_tenth);
  const double growth = (static_cast<double>(at_end) / static_cast<double>(at_tenth)) - 1;
  const bool held = growth < 0.05;
  fmt::print("executors: {} created, used once and destroyed\n", args.executors);
  fmt::print("  wrong results: {}\n", wrong);
  fmt::print(
      "  resident: {:.1f} MiB before, {:.1f} MiB after Executor {}, {:.1f} MiB at the end "
      "({:.0f} bytes per Executor after the first tenth)\n",
      mib(before), mib(at_tenth), args.executors / 10, mib(at_end), per_executor);
  fmt::print("  growth: {:+.2f}% (< 5%: {})\n", growth * 100, held ? "yes" : "NO");
  return wrong == 0 && held ? 0 : 1;
}

// ---- random DAGs ------------------------------------------------------------------------------

// What one random task does: succeed, throw on every attempt, or throw on its first attempts
// only (and has the retries to get through).
enum class Kind : std::uint8_t { kPlain, kThrows, kFlaky };

struct RandomDag {
  std::vector<Kind> kinds;
  std::vector<std::vector<std::size_t>> deps;
  std::vector<dagflow::TaskOptions> options;
};

RandomDag make_dag(std::mt19937_64& rng) {
  RandomDag d;
  const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 120)(rng);
  std::uniform_int_distribution<int> percent(0, 99);
  for (std::size_t v = 0; v < n; ++v) {
    const int p = percent(rng);
    d.kinds.push_back(p < 1 ? Kind::kThrows : p < 8 ? Kind::kFlaky : Kind::kPlain);
    std::vector<std::size_t> deps;
    const std::size_t fan_in = v == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, 4)(rng);
    for (std::size_t k = 0; k < fan_in; ++k) {
      deps.push_back(std::uniform_int_distribution<std::size_t>(0, v - 1)(rng));
    }
    d.deps.push_back(std::move(deps));
    dagflow::TaskOptions o;
    o.io = percent(rng) < 15;
    if (percent(rng) < 10) o.resources = {{"slots", 1}};
    if (d.kinds.back() == Kind::kFlaky) o.retries = 2;
    d.options.push_back(o);
  }
  return d;
}

struct Counts {
  std::size_t runs = 0, succeeded = 0, failed = 0, keep_going_failed = 0, cancelled = 0;
  std::size_t tasks_run = 0, problems = 0;
};

// Runs `d` once on `ex` and checks the outcome; `cancel_after` (if any) cancels it from another
// thread after that long.
void run_one(const RandomDag& d, dagflow::Executor& ex, bool keep_going,
             std::optional<std::chrono::microseconds> cancel_after, Counts& counts) {
  const std::size_t n = d.kinds.size();
  std::vector<std::atomic<int>> attempts(n);
  std::vector<std::atomic<bool>> finished(n);
  dagflow::Graph g;
  std::vector<dagflow::Delayed<std::uint64_t>> nodes;
  for (std::size_t v = 0; v < n; ++v) {
    std::vector<dagflow::Delayed<std::uint64_t>> inputs;
    for (std::size_t dep : d.deps[v]) inputs.push_back(nodes[dep]);
    const Kind kind = d.kinds[v];
    auto* tried = &attempts[v];
    auto* done = &finished[v];
    nodes.push_back(g.delayed(
        [v, kind, tried, done](const std::vector<std::uint64_t>& in) {
          const int attempt = tried->fetch_add(1) + 1;
          if (kind == Kind::kThrows || (kind == Kind::kFlaky && attempt <= 2)) {
            throw std::runtime_error(fmt::format("task {} attempt {}", v, attempt));
          }
          std::uint64_t s = v;
          for (std::uint64_t x : in) s = s * 1'000'003 + x;
          done->store(true);
          return s;
        },
        inputs));
    if (d.options[v] != dagflow::TaskOptions{}) g.set_options(nodes.back(), d.options[v]);
  }
  auto all = g.delayed([](const std::vector<std::uint64_t>& v) { return v.size(); }, nodes);
  std::jthread canceller;
  if (cancel_after) {
    canceller = std::jthread([&ex, after = *cancel_after] {
      std::this_thread::sleep_for(after);
      ex.cancel();
    });
  }
  bool throws_expected = false;
  for (Kind k : d.kinds) throws_expected = throws_expected || k == Kind::kThrows;
  ++counts.runs;
  try {
    const std::size_t collected = ex.compute(all);
    // Each flaky task failed twice, then succeeded on its last retry.
    std::size_t flaky = 0;
    for (Kind k : d.kinds) flaky += k == Kind::kFlaky ? 1 : 0;
    if (collected != n || throws_expected || ex.last_run_stats().retries != 2 * flaky) {
      ++counts.problems;
    }
    ++counts.succeeded;
  } catch (const dagflow::Cancelled&) {
    if (!cancel_after) ++counts.problems;
    ++counts.cancelled;
  } catch (const dagflow::RunError& e) {
    if (!keep_going) ++counts.problems;
    for (const dagflow::TaskError& f : e.failures()) {
      if (f.node() >= n || d.kinds[f.node()] != Kind::kThrows) ++counts.problems;
    }
    ++counts.keep_going_failed;
  } catch (const dagflow::TaskError& e) {
    if (keep_going || e.node() >= n || d.kinds[e.node()] != Kind::kThrows) ++counts.problems;
    ++counts.failed;
  }
  canceller = {};  // joins: the cancel belongs to this run
  // A task that finished had every dependency finish first.
  for (std::size_t v = 0; v < n; ++v) {
    if (!finished[v].load()) continue;
    ++counts.tasks_run;
    for (std::size_t dep : d.deps[v]) {
      if (!finished[dep].load()) ++counts.problems;
    }
  }
}

int soak_random_dags(const Args& args) {
  std::mt19937_64 rng(args.seed);
  const std::map<std::string, std::size_t> slots{{"slots", 2}};
  dagflow::Executor strict(
      {.threads = 2, .memory_cache_bytes = 0, .io_threads = 4, .resources = slots});
  dagflow::Executor keep_going(
      {.threads = 2, .io_threads = 4, .resources = slots, .keep_going = true});
  Counts counts;
  const auto stop = Clock::now() + std::chrono::duration<double>(args.seconds);
  std::uniform_int_distribution<int> percent(0, 99);
  while (Clock::now() < stop) {
    const RandomDag d = make_dag(rng);
    const bool kg = percent(rng) < 40;
    std::optional<std::chrono::microseconds> cancel_after;
    if (percent(rng) < 15) {
      cancel_after = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng));
    }
    run_one(d, kg ? keep_going : strict, kg, cancel_after, counts);
  }
  fmt::print(
      "random DAGs: {} runs in {:.0f} s (seed {}): {} succeeded, {} failed with one "
      "TaskError, {} failed with a RunError (keep-going), {} cancelled; {} tasks "
      "finished\n",
      counts.runs, args.seconds, args.seed, counts.succeeded, counts.failed,
      counts.keep_going_failed, counts.cancelled, counts.tasks_run);
  fmt::print("  problems: {}\n", counts.problems);
  return counts.problems == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Args> args;
  try {
    args = parse(argc, argv);
  } catch (const std::exception&) {
    args.reset();  // a number that does not parse
  }
  if (!args) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    if (args->mode == "computes") return soak_computes(*args);
    if (args->mode == "executors") return soak_executors(*args);
    if (args->mode == "random-dags") return soak_random_dags(*args);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dagflow_soak: {}\n", e.what());
    return 1;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
