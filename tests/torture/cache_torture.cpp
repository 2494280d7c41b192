// cache_torture: the program scripts/torture.sh drives to put the disk cache through kill -9 and
// races at full scale. Each mode is one process of a check; the script does the killing, the
// timing and the counting.
//
//   write --cache DIR [--blocks N] [--threads T] [--refresh]
//       computes the kill-trial graph with DIR as its disk cache (memory cache off), every task
//       recomputed and rewritten with --refresh; prints `answer=ok`. The script kills it.
//   check --cache DIR [--blocks N] [--threads T]
//       verifies every file in DIR (each entry must load as the value its key stands for),
//       computes every task of the graph with DIR (all of them targets, so each entry is read),
//       then verifies again. Prints one line of counts; exits 1 on any damage or warning.
//   race --cache DIR --barrier DIR --procs P --id I [--threads T] [--blocks N] [--rounds R]
//       one of P processes whose T threads all store, compute and read the same keys in DIR,
//       round after round; every round starts at once in all processes (a barrier of files).
//       Prints its counts and a digest of the bytes its readers saw, which every process and
//       race-check must agree on.
//   race-check --cache DIR [--blocks N] [--rounds R]
//       after a race: exactly one valid entry per key of every round, nothing else; prints the
//       digest of the entry files.
//
// Exit codes: 0 all checks passed, 1 a check failed (details on stderr), 2 a usage error.
//
// The kill-trial graph: N blocks of 2 to 16 KiB of numbers, folded 20 at a time into groups,
// the groups folded into one total; every task is a keyed dagflow::op of the same result type,
// so every entry in the directory can be checked against the value computed here without
// dagflow.
//
//   block(0..N-1) --fold x20--> group(0..N/20) --fold--> total
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <dagflow/dagflow.hpp>

namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::uint64_t>;

constexpr int kGroupSize = 20;
constexpr std::string_view kEntrySuffix = ".entry";
constexpr std::string_view kTempPrefix = ".tmp-";

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 256 to 2048 numbers (2 to 16 KiB) that differ from block to block and from salt to salt.
Words block(int index, int salt) {
  Words w(256 * static_cast<std::size_t>(1 + index % 8));
  std::uint64_t x =
      mix((static_cast<std::uint64_t>(salt) << 32) ^ static_cast<std::uint64_t>(index));
  for (std::uint64_t& v : w) v = x = mix(x);
  return w;
}

// One number per part (a digest of its numbers), then a digest of those.
Words fold(const std::vector<Words>& parts) {
  Words out;
  out.reserve(parts.size() + 1);
  std::uint64_t all = parts.size();
  for (const Words& p : parts) {
    std::uint64_t d = p.size();
    for (const std::uint64_t v : p) d = mix(d ^ v);
    out.push_back(d);
    all = mix(all ^ d);
  }
  out.push_back(all);
  return out;
}

// The graph, its tasks (the total last), and the value each task's key stands for.
struct Workload {
  dagflow::Graph graph;
  std::vector<dagflow::Delayed<Words>> tasks;
  std::vector<Words> values;                  // by position in `tasks`
  std::vector<dagflow::Hash128> keys;         // by position in `tasks`
  std::map<std::string, std::size_t> by_hex;  // key -> position in `tasks`
};

Workload build(int blocks, int salt) {
  static const auto block_op = dagflow::op("torture_block", &block);
  static const auto fold_op = dagflow::op("torture_fold", &fold);
  Workload w;
  std::vector<dagflow::Delayed<Words>> groups;
  std::vector<Words> group_values;
  for (int first = 0; first < blocks; first += kGroupSize) {
    std::vector<dagflow::Delayed<Words>> members;
    std::vector<Words> member_values;
    for (int i = first; i < std::min(blocks, first + kGroupSize); ++i) {
      members.push_back(w.graph.delayed(block_op, i, salt));
      member_values.push_back(block(i, salt));
      w.tasks.push_back(members.back());
      w.values.push_back(member_values.back());
    }
    groups.push_back(w.graph.delayed(fold_op, members));
    group_values.push_back(fold(member_values));
    w.tasks.push_back(groups.back());
    w.values.push_back(group_values.back());
  }
  w.tasks.push_back(w.graph.delayed(fold_op, groups));
  w.values.push_back(fold(group_values));

  const std::vector<std::optional<dagflow::Hash128>> keys = dagflow::task_keys(w.graph);
  for (std::size_t i = 0; i < w.tasks.size(); ++i) {
    const std::optional<dagflow::Hash128>& key = keys.at(w.tasks[i].id());
    if (!key) throw std::logic_error("a torture task has no content key");
    w.keys.push_back(*key);
    w.by_hex.emplace(key->to_hex(), i);
  }
  return w;
}

// ---- command line -------------------------------------------------------------------------------

struct Args {
  std::string mode;
  fs::path cache;
  fs::path barrier;
  int blocks = 400;
  int threads = 2;
  int procs = 1;
  int id = 0;
  int rounds = 4;
  bool refresh = false;
};

int usage(const std::string& problem) {
  std::fprintf(stderr,
               "cache_torture: %s\n"
               "usage: cache_torture write|check|race|race-check --cache DIR [--blocks N]\n"
               "       [--threads T] [--refresh] [--barrier DIR --procs P --id I] [--rounds R]\n"
               "(scripts/torture.sh runs it; see the top of tests/torture/cache_torture.cpp)\n",
               problem.c_str());
  return 2;
}

std::optional<Args> parse(int argc, char** argv, std::string& problem) {
  Args a;
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) {
    problem = "no mode given";
    return std::nullopt;
  }
  a.mode = words[0];
  const std::map<std::string, int*> ints = {{"--blocks", &a.blocks},
                                            {"--threads", &a.threads},
                                            {"--procs", &a.procs},
                                            {"--id", &a.id},
                                            {"--rounds", &a.rounds}};
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    const bool has_value = i + 1 < words.size();
    if (w == "--refresh") {
      a.refresh = true;
    } else if ((w == "--cache" || w == "--barrier") && has_value) {
      (w == "--cache" ? a.cache : a.barrier) = words[++i];
    } else if (ints.contains(w) && has_value) {
      try {
        *ints.at(w) = std::stoi(words[++i]);
      } catch (const std::exception&) {
        problem = "not a number after " + w + ": '" + words[i] + "'";
        return std::nullopt;
      }
    } else {
      problem = "unknown or incomplete option '" + w + "'";
      return std::nullopt;
    }
  }
  if (a.cache.empty()) problem = "--cache DIR is required";
  if (a.blocks < 1 || a.threads < 1 || a.procs < 1 || a.rounds < 1) problem = "counts must be >= 1";
  if (a.mode == "race" && a.barrier.empty()) problem = "race needs --barrier DIR";
  if (!problem.empty()) return std::nullopt;
  return a;
}

// ---- checking a cache directory -----------------------------------------------------------------

// What a look at every file of a cache directory found.
struct Scan {
  std::size_t entries = 0;     // entry files
  std::size_t verified = 0;    // ... that loaded as the value their key stands for
  std::size_t damaged = 0;     // ... that did not (or whose key is none of the workload's)
  std::size_t temps = 0;       // temp files of writers
  std::size_t strays = 0;      // anything else
  std::set<std::string> keys;  // the keys of the verified entries
  std::uint64_t digest = 0;    // of the verified entries' file bytes, whatever the order
};

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A digest of one key's entry file, summed over keys so the order of reading does not matter.
std::uint64_t entry_digest(const std::string& hex, std::string_view bytes) {
  return mix(dagflow::hash64_bytes(hex.data(), hex.size()) ^
             dagflow::hash64_bytes(bytes.data(), bytes.size()));
}

// Every file under `dir`, each entry loaded through DiskCache (which verifies its header and
// checksums) and compared with the value of its task in one of `workloads`.
Scan scan(const fs::path& dir, const std::vector<Workload>& workloads) {
  Scan s;
  std::optional<dagflow::DiskCache> cache = dagflow::DiskCache::open(dir);
  if (!cache) return s;
  for (const fs::directory_entry& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_directory()) continue;
    const std::string name = f.path().filename().string();
    if (name.starts_with(kTempPrefix)) {
      ++s.temps;
      continue;
    }
    if (!name.ends_with(kEntrySuffix)) {
      ++s.strays;
      std::fprintf(stderr, "stray file in the cache: %s\n", f.path().c_str());
      continue;
    }
    const std::string hex = name.substr(0, name.size() - kEntrySuffix.size());
    if (f.path().parent_path().filename() != hex.substr(0, 2)) {
      ++s.strays;  // an entry file outside its key's directory is no entry
      std::fprintf(stderr, "misplaced entry file in the cache: %s\n", f.path().c_str());
      continue;
    }
    ++s.entries;
    bool good = false;
    for (const Workload& w : workloads) {
      const auto it = w.by_hex.find(hex);
      if (it == w.by_hex.end()) continue;
      const std::optional<Words> got = cache->load<Words>(w.keys[it->second]);
      good = got && *got == w.values[it->second];
    }
    if (good) {
      ++s.verified;
      s.keys.insert(hex);
      s.digest += entry_digest(hex, file_bytes(f.path()));
    } else {
      ++s.damaged;
      std::fprintf(stderr, "damaged or unknown cache entry: %s\n", f.path().c_str());
    }
  }
  return s;
}

// An Executor on `dir` with the memory cache off, counting the warnings it gives.
dagflow::ExecutorOptions options_for(const fs::path& dir, int threads,
                                     std::atomic<std::size_t>& warnings) {
  dagflow::ExecutorOptions o;
  o.threads = static_cast<std::size_t>(threads);
  o.io_threads = 2;
  o.memory_cache_bytes = 0;
  o.cache_dir = dir;
  o.log = [&warnings](std::string_view message) {
    warnings.fetch_add(1);
    std::fprintf(stderr, "warning: %.*s\n", static_cast<int>(message.size()), message.data());
  };
  return o;
}

int run_write(const Args& a) {
  Workload w = build(a.blocks, 0);
  if (a.refresh) {
    for (const auto& t : w.tasks) w.graph.set_refresh(t);
  }
  std::atomic<std::size_t> warnings{0};
  dagflow::Executor ex(options_for(a.cache, a.threads, warnings));
  const bool ok = ex.compute(w.tasks.back()) == w.values.back();
  std::printf("answer=%s warnings=%zu\n", ok ? "ok" : "WRONG", warnings.load());
  return ok && warnings == 0 ? 0 : 1;
}

int run_check(const Args& a) {
  std::vector<Workload> ws;
  ws.push_back(build(a.blocks, 0));
  const Workload& w = ws.front();
  const Scan before = scan(a.cache, ws);

  std::atomic<std::size_t> warnings{0};
  std::size_t wrong = 0;
  dagflow::RunStats stats;
  {
    dagflow::Executor ex(options_for(a.cache, a.threads, warnings));
    const std::vector<Words> got = ex.compute(w.tasks);
    for (std::size_t i = 0; i < got.size(); ++i) wrong += got[i] == w.values[i] ? 0 : 1;
    stats = ex.last_run_stats();
  }
  const Scan after = scan(a.cache, ws);
  const bool complete = after.verified == w.tasks.size();
  std::printf(
      "entries=%zu verified=%zu damaged=%zu strays=%zu answer=%s warnings=%zu disk_hits=%zu "
      "executed=%zu entries_after=%zu verified_after=%zu damaged_after=%zu strays_after=%zu\n",
      before.entries, before.verified, before.damaged, before.strays, wrong == 0 ? "ok" : "WRONG",
      warnings.load(), stats.disk_hits, stats.executed, after.entries, after.verified,
      after.damaged, after.strays);
  const bool ok = before.damaged == 0 && before.strays == 0 && wrong == 0 && warnings == 0 &&
                  after.damaged == 0 && after.strays == 0 && complete;
  return ok ? 0 : 1;
}

// ---- racing processes ---------------------------------------------------------------------------

// Waits until all `procs` processes have arrived at `phase`: each leaves a file
// `<barrier>/<phase>-<id>` and polls for the others' (short sleeps: the point is that the
// processes start their round within a fraction of a millisecond of each other).
void cross_process_barrier(const Args& a, int phase) {
  const std::string prefix = std::to_string(phase) + "-";
  std::ofstream(a.barrier / (prefix + std::to_string(a.id))).put('\n');
  for (;;) {
    int arrived = 0;
    for (const fs::directory_entry& f : fs::directory_iterator(a.barrier)) {
      arrived += f.path().filename().string().starts_with(prefix) ? 1 : 0;
    }
    if (arrived >= a.procs) return;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

struct RaceCounts {
  std::atomic<std::size_t> loads{0};
  std::atomic<std::size_t> stores{0};
  std::atomic<std::size_t> computes{0};
  std::atomic<std::size_t> errors{0};
  std::atomic<std::size_t> warnings{0};
  std::mutex seen_mutex;
  std::map<std::string, std::uint64_t> seen;  // key -> digest of the entry file first read
};

void race_error(RaceCounts& c, const std::string& what) {
  c.errors.fetch_add(1);
  std::fprintf(stderr, "race error: %s\n", what.c_str());
}

// Stores what is missing, in a shuffled order, through a DiskCache of its own (whose opening
// also sweeps the temp files of dead writers while the others write).
void store_all(const fs::path& dir, const Workload& w, std::mt19937_64& rng, RaceCounts& c) {
  std::optional<dagflow::DiskCache> cache = dagflow::DiskCache::open(dir);
  if (!cache) return race_error(c, "the cache directory is missing");
  std::vector<std::size_t> order(w.tasks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (const std::size_t i : order) {
    const dagflow::Hash128& key = w.keys[i];
    std::optional<Words> got = cache->load<Words>(key);
    c.loads.fetch_add(1);
    if (got && *got != w.values[i]) race_error(c, "a load gave another value");
    if (got) continue;
    c.stores.fetch_add(1);
    if (!cache->store(key, w.values[i])) race_error(c, "a store failed");
  }
}

void compute_all(const fs::path& dir, const Workload& w, RaceCounts& c) {
  dagflow::Executor ex(options_for(dir, 1, c.warnings));
  const std::vector<Words> got = ex.compute(w.tasks);
  c.computes.fetch_add(1);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != w.values[i]) race_error(c, "a compute gave another value");
  }
}

// Every key read back twice: as a value (checked) and as the entry file's bytes, which every
// reader in this process must see identical (the digest printed lets the script compare
// processes).
void read_all(const fs::path& dir, const Workload& w, RaceCounts& c) {
  std::optional<dagflow::DiskCache> cache = dagflow::DiskCache::open(dir);
  if (!cache) return race_error(c, "the cache directory is missing");
  for (const auto& [hex, i] : w.by_hex) {
    const std::optional<Words> got = cache->load<Words>(w.keys[i]);
    c.loads.fetch_add(1);
    if (!got || *got != w.values[i]) {
      race_error(c, "entry " + hex + " is missing or wrong after the writes");
      continue;
    }
    const std::uint64_t d =
        entry_digest(hex, file_bytes(dir / hex.substr(0, 2) / (hex + std::string(kEntrySuffix))));
    const std::lock_guard lock(c.seen_mutex);
    const auto [it, first] = c.seen.emplace(hex, d);
    if (!first && it->second != d) race_error(c, "readers of entry " + hex + " saw other bytes");
  }
}

int run_race(const Args& a) {
  std::vector<Workload> rounds;
  rounds.reserve(static_cast<std::size_t>(a.rounds));
  for (int r = 0; r < a.rounds; ++r) rounds.push_back(build(a.blocks, 1000 + r));
  RaceCounts c;
  // Each round starts and ends at a barrier of all threads of all processes: the last thread of
  // this process to arrive waits for the other processes, then all threads go on together.
  int phase = 0;
  std::barrier sync(a.threads, [&]() noexcept { cross_process_barrier(a, phase++); });
  const auto worker = [&](int t) {
    std::mt19937_64 rng(mix(static_cast<std::uint64_t>(a.id) * 64 + static_cast<std::uint64_t>(t)));
    for (int r = 0; r < a.rounds; ++r) {
      sync.arrive_and_wait();
      const Workload& w = rounds[static_cast<std::size_t>(r)];
      try {
        // Half the threads store the values themselves, half have an Executor compute them.
        if (t % 2 == 0) {
          store_all(a.cache, w, rng, c);
        } else {
          compute_all(a.cache, w, c);
        }
        read_all(a.cache, w, c);
      } catch (const std::exception& e) {
        race_error(c, std::string("exception: ") + e.what());
      }
      sync.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(a.threads));
  for (int t = 0; t < a.threads; ++t) threads.emplace_back(worker, t);
  for (std::thread& th : threads) th.join();

  std::uint64_t digest = 0;
  for (const auto& [hex, d] : c.seen) digest += d;
  std::printf("loads=%zu stores=%zu computes=%zu keys=%zu errors=%zu warnings=%zu digest=%016llx\n",
              c.loads.load(), c.stores.load(), c.computes.load(), c.seen.size(), c.errors.load(),
              c.warnings.load(), static_cast<unsigned long long>(digest));
  return c.errors == 0 && c.warnings == 0 ? 0 : 1;
}

int run_race_check(const Args& a) {
  std::vector<Workload> rounds;
  rounds.reserve(static_cast<std::size_t>(a.rounds));
  std::size_t expected = 0;
  for (int r = 0; r < a.rounds; ++r) {
    rounds.push_back(build(a.blocks, 1000 + r));
    expected += rounds.back().by_hex.size();
  }
  const Scan s = scan(a.cache, rounds);
  std::printf("entries=%zu keys=%zu verified=%zu damaged=%zu temps=%zu strays=%zu digest=%016llx\n",
              s.entries, expected, s.verified, s.damaged, s.temps, s.strays,
              static_cast<unsigned long long>(s.digest));
  const bool ok = s.entries == expected && s.keys.size() == expected && s.verified == expected &&
                  s.damaged == 0 && s.temps == 0 && s.strays == 0;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string problem;
  const std::optional<Args> args = parse(argc, argv, problem);
  if (!args) return usage(problem);
  try {
    if (args->mode == "write") return run_write(*args);
    if (args->mode == "check") return run_check(*args);
    if (args->mode == "race") return run_race(*args);
    if (args->mode == "race-check") return run_race_check(*args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cache_torture %s: %s\n", args->mode.c_str(), e.what());
    return 1;
  }
  return usage("unknown mode '" + args->mode + "'");
}
