// bench/streaming: what dagflow's streaming and map_reduce cost beside hand-written oneTBB, in time
// and in peak memory, printed as one table from one run.
//
//   (a) map -> map -> reduce over N doubles (default 10^8): dagflow reduce(map(f, map(h, xs)))
//       fused (the default) and unfused (ExecutorOptions::fuse_maps off), dagflow
//       map_reduce(f o h) (the chain composed by hand) and a hand-written tbb::parallel_reduce of
//       f(h(x)). Targets: peak RSS <= 1.1x the input, time <= 1.1x the hand-written loop.
//   (b) word counts over generated text files (default 500, 1000 and 2000 MB): dagflow
//       map_reduce over read_chunks(4 MiB) beside a hand-written tbb::parallel_pipeline (serial
//       read of 4 MiB chunks ending at a newline, parallel count, serial merge), both counting
//       with dagflow::count_words and merging with the one merge() below. Targets: throughput
//       >= 0.9x the hand-written pipeline, peak RSS <= 256 MB at every size; both must agree.
//   (c) the middle file with a disk cache (memory cache off, the functions as dagflow::ops so
//       that every 4 MiB block has an entry): cold, unchanged re-run, then 1% of new text
//       appended and re-run at once, then another 1% and re-run once the file is 2 s old.
//       Target: a re-run after an append <= 10% of the cold run.
//
// Each measurement runs in a child process of its own (fork), so that each has its own peak RSS
// and none inherits another's heap or threads; see run_in_child for how the peak is read. The
// parent never starts oneTBB (a fork would copy a half-initialised scheduler into the child).
// The page cache is not dropped (that needs root): every word-count run reads its file right
// after the parent has read it through once, so both sides always read from a warm page cache.
//
//   ./build/release/bench/streaming          (8 min on an idle 2-core machine, 18 min shared with
//                                               other builds; 3.5 GB of temp files and ~250 MB of
//                                               cache entries)
//   ./build/release/bench/streaming --quick  (10^7 doubles, 50/100/200 MB, one run each: 20-50 s)
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <utility>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>

#include <dagflow/dagflow.hpp>

#include "command_line.hpp"
#include "process.hpp"
#include "timing.hpp"

namespace {

namespace fs = std::filesystem;
using bench::Clock;
using bench::format;
using bench::kMB;
using bench::seconds_since;
using bench::yes_no;
using dagflow::WordCounts;

constexpr std::size_t kChunkBytes = 4 << 20;     // read_chunks' and the pipeline's chunk
constexpr std::size_t kVocabulary = 50'000;      // distinct generated words
constexpr double kZipfExponent = 1.0;            // word of rank r drawn with weight 1/(r+1)^s
constexpr std::uint64_t kTextSeed = 20241201;    // the files' text
constexpr std::uint64_t kAppendSeed = 20241202;  // (c)'s appended text (and + 1)
constexpr double kRssTargetMB = 256;             // (b): peak RSS at every size
constexpr double kChainTimeTarget = 1.1;         // (a): time / hand-written
constexpr double kChainRssTarget = 1.1;          // (a): peak RSS / input
constexpr double kSpeedTarget = 0.9;             // (b): throughput / hand-written
constexpr double kAppendTarget = 0.10;           // (c): re-run after the append / cold

// ---- command line -------------------------------------------------------------------------------

struct Options {
  std::size_t n = 100'000'000;                        // (a) doubles
  std::vector<std::uint64_t> sizes{500, 1000, 2000};  // (b) files, MB
  std::size_t threads = 0;                            // 0: all cores
  int repeat = 3;
  fs::path dir;  // where the temp dir goes
  bool quick = false;
};

void print_usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: streaming [--quick] [--n N] [--sizes MB,MB,...] [--threads T] [--repeat R]\n"
      "                 [--dir PATH] [--help]\n"
      "  --quick        N = 10^7, files of 50,100,200 MB and one run per case (unless given)\n"
      "  --n N          doubles of the map -> map -> reduce case (default 10^8)\n"
      "  --sizes LIST   sizes of the generated text files in MB (default 500,1000,2000); the\n"
      "                 disk-cache case uses the middle one\n"
      "  --threads T    Executor and hand-written arena threads (default: all cores)\n"
      "  --repeat R     runs per case: the best time and the highest peak RSS are reported\n"
      "                 (default 3)\n"
      "  --dir PATH     where to make the temp dir for the files (default $TMPDIR or /tmp);\n"
      "                 it is deleted at the end\n"
      "Prints a Markdown table: seconds, MB/s and peak RSS, each run in a process of its own.\n");
}

const bench::CommandLine kCommandLine{"streaming", print_usage};

Options parse_options(int argc, char** argv) {
  Options o;
  bool n_given = false, sizes_given = false, repeat_given = false;
  o.dir = bench::temp_parent();
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&] { return kCommandLine.value(argc, argv, i); };
    if (arg == "--help" || arg == "-h") {
      print_usage(stdout);
      std::exit(0);
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--n") {
      o.n = kCommandLine.positive("--n", value());
      n_given = true;
    } else if (arg == "--sizes") {
      o.sizes = kCommandLine.positive_list("--sizes", value());
      sizes_given = true;
    } else if (arg == "--threads") {
      o.threads = kCommandLine.positive("--threads", value());
    } else if (arg == "--repeat") {
      o.repeat = static_cast<int>(
          std::min<std::uint64_t>(kCommandLine.positive("--repeat", value()), 100));
      repeat_given = true;
    } else if (arg == "--dir") {
      o.dir = value();
    } else {
      kCommandLine.error("unknown argument ", argv[i]);
    }
  }
  if (o.quick && !n_given) o.n = 10'000'000;
  if (o.quick && !sizes_given) o.sizes = {50, 100, 200};
  if (o.quick && !repeat_given) o.repeat = 1;
  return o;
}

// ---- child processes ----------------------------------------------------------------------------

// What a child sends back through its pipe (plain bytes: the same program on both ends).
struct Report {
  double seconds = 0;             // wall
  double cpu_seconds = 0;         // user + system, all the process's threads, same interval
  double sum = 0;                 // (a)
  std::uint64_t fingerprint = 0;  // (b), (c): a hash of every word and its count
  std::uint64_t words = 0;        // total count
  std::uint64_t distinct = 0;
  std::uint64_t threads = 0;
  std::uint64_t tasks_run = 0;       // (c): RunStats::executed
  std::uint64_t blocks_counted = 0;  // (c): RunStats::items_executed (a chunk is one item)
  std::uint64_t blocks_cached = 0;   // (c): RunStats::items_cached
  std::uint64_t disk_hits = 0;       // (c): RunStats::disk_hits
};

struct ChildRun {
  Report report;
  double peak_mb = 0;
  bool ok = false;
};

// Runs `body` (returning a Report) in a forked child and returns its report and peak RSS.
//
// The peak is the child's ru_maxrss as wait4() returns it: the kernel's high-water mark of the
// child's resident set, kept across its whole life, threads included, and read after it exited,
// so nothing the child does after measuring can be missed. A forked child starts with the pages
// it shares with the parent counted as its own (the kernel sets the mark to that RSS at fork),
// so the parent stays small: it never holds a dataset, only the generator's vocabulary (a few
// MB, printed in the header as the floor every figure includes). No exec: the child is this
// process image, so it needs no hidden command-line flag, and the parent has started no threads.
template <class Body>
ChildRun run_in_child(Body&& body) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    int code = 0;
    Report report;
    try {
      report = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "streaming: child failed: %s\n", e.what());
      code = 1;
    }
    if (::write(fds[1], &report, sizeof report) != static_cast<ssize_t>(sizeof report)) code = 1;
    ::_exit(code);  // no atexit handlers, no stdio buffers flushed twice
  }
  ::close(fds[1]);
  ChildRun run;
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&run.report);
  while (got < sizeof run.report) {
    const ssize_t n = ::read(fds[0], bytes + got, sizeof run.report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  const bench::ChildExit exit = bench::wait_for_child(pid);
  run.peak_mb = exit.peak_mb;
  run.ok = got == sizeof run.report && exit.ok();
  return run;
}

// The parent's own resident set, in MB (VmRSS of /proc/self/status).
double own_rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtod(line + 6, nullptr);
  }
  std::fclose(f);
  return kib * 1024.0 / kMB;
}

// A hand-written side's arena of `threads` (raising oneTBB's cap as dagflow's Executor does when
// more threads than cores are asked for). Made in the child, before the clock starts.
struct HandArena {
  std::optional<tbb::global_control> cap;
  tbb::task_arena arena;
  explicit HandArena(std::size_t threads) : arena(static_cast<int>(threads)) {
    if (threads > static_cast<std::size_t>(tbb::info::default_concurrency()))
      cap.emplace(tbb::global_control::max_allowed_parallelism, threads);
    arena.execute([] {});  // start the workers
  }
};

// Wall time and the process's CPU time (user + system, every thread) since it was made: on a
// machine shared with other work, CPU time is the steadier of the two.
class Stopwatch {
 public:
  [[nodiscard]] double wall() const { return seconds_since(wall_); }
  [[nodiscard]] double cpu() const { return cpu_now() - cpu_; }

 private:
  static double cpu_now() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return bench::cpu_seconds(usage);
  }
  Clock::time_point wall_ = Clock::now();
  double cpu_ = cpu_now();
};

// ---- (a) map -> map -> reduce over doubles ------------------------------------------------------

// Cheap, but a multiply-add and a square root per item that no compiler folds away: std::sqrt
// keeps its errno path (no -ffast-math), so no side is vectorised.
double h(double x) { return x * 1.0000001 + 0.5; }
double f(double x) { return std::sqrt(x); }

std::vector<double> chain_input(std::size_t n) {
  std::vector<double> xs(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = 1.0 + static_cast<double>(i % 4096) * 0.25;
  return xs;
}

enum class Chain { kHand, kMapReduce, kFused, kUnfused };

// One run in this (child) process. dagflow's run takes the input moved into a new Graph (made
// before the clock starts) and is timed from building the graph to compute()'s return: the
// Graph's destruction, which frees the input the hand-written loop never frees, is outside the
// clock. The Executor and the arena are made (threads started) before.
Report run_chain(Chain variant, std::size_t n, std::size_t threads) {
  Report r;
  if (variant == Chain::kHand) {
    HandArena hand(threads);
    const std::vector<double> xs = chain_input(n);
    r.threads = threads;
    {
      const Stopwatch clock;
      r.sum = hand.arena.execute([&] {
        return tbb::parallel_reduce(
            tbb::blocked_range<std::size_t>(0, n), 0.0,
            [&](const tbb::blocked_range<std::size_t>& range, double acc) {
              for (std::size_t i = range.begin(); i < range.end(); ++i) acc += f(h(xs[i]));
              return acc;
            },
            std::plus<>{});
      });
      r.seconds = clock.wall();
      r.cpu_seconds = clock.cpu();
    }
  } else {
    dagflow::ExecutorOptions options{.threads = threads};
    options.fuse_maps = variant != Chain::kUnfused;
    dagflow::Executor ex(options);
    r.threads = ex.options().threads;
    {
      dagflow::Graph g;  // starts the workers
      (void)ex.compute(dagflow::reduce(g, std::plus<>{}, 0.0, std::vector<double>(1000, 1.0)));
    }
    {
      std::vector<double> xs = chain_input(n);
      dagflow::Graph g;
      const Stopwatch clock;
      if (variant != Chain::kMapReduce) {
        auto hs = dagflow::map(
            g, [](double x) { return h(x); }, std::move(xs));
        auto fhs = dagflow::map(
            g, [](double x) { return f(x); }, hs);
        r.sum = ex.compute(dagflow::reduce(g, std::plus<>{}, 0.0, fhs));
      } else {
        auto f_of_h = [](double x) { return f(h(x)); };
        r.sum = ex.compute(dagflow::map_reduce(g, f_of_h, std::plus<>{}, 0.0, std::move(xs)));
      }
      r.seconds = clock.wall();
      r.cpu_seconds = clock.cpu();
    }
  }
  return r;
}

// ---- generated text -----------------------------------------------------------------------------

// Draws indices with given weights in O(1) each: Walker's alias method (Vose's construction).
class AliasTable {
 public:
  explicit AliasTable(const std::vector<double>& weights)
      : keep_(weights.size()), alias_(weights.size()) {
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    const double count = static_cast<double>(weights.size());
    std::vector<double> scaled(weights.size());
    std::vector<std::uint32_t> small, large;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      scaled[i] = weights[i] * count / total;
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const std::uint32_t s = small.back();
      small.pop_back();
      const std::uint32_t l = large.back();
      keep_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (std::uint32_t i : large) keep_[i] = 1.0;
    for (std::uint32_t i : small) keep_[i] = 1.0;  // rounding leftovers
  }

  // An index drawn from 64 random bits: the high half picks a column, the low half the coin.
  [[nodiscard]] std::uint32_t draw(std::uint64_t bits) const {
    const auto column =
        static_cast<std::uint32_t>(((bits >> 32) * static_cast<std::uint64_t>(keep_.size())) >> 32);
    const double coin = static_cast<double>(bits & 0xffff'ffffU) * 0x1p-32;
    return coin < keep_[column] ? column : alias_[column];
  }

 private:
  std::vector<double> keep_;
  std::vector<std::uint32_t> alias_;
};

// Lines of words up to a length drawn in 60-100 bytes (so about 50-100 bytes), the words from a
// fixed vocabulary of kVocabulary made-up ones (2-11 lowercase letters, the shorter ones the more
// frequent, as in real text) drawn with Zipf weights;
// about 1% of the tokens are numbers, sentences end with '.', some words take a ',', and a
// sentence's first word is capitalised. Deterministic for a seed.
class TextGenerator {
 public:
  TextGenerator() : table_(zipf_weights()) {
    std::mt19937_64 rng(kTextSeed);
    std::unordered_set<std::string> seen;
    while (words_.size() < kVocabulary) {
      const std::size_t length = 2 + rng() % 4 + rng() % 4 + rng() % 4;
      std::string w(length, 'a');
      for (char& c : w) c = static_cast<char>('a' + rng() % 26);
      if (seen.insert(w).second) words_.push_back(std::move(w));
    }
    std::stable_sort(words_.begin(), words_.end(), [](const std::string& a, const std::string& b) {
      return a.size() < b.size();
    });
  }

  // Appends one line, newline included.
  void line(std::mt19937_64& rng, std::string& out) const {
    const std::size_t start = out.size();
    const std::size_t target = 60 + rng() % 41;
    bool capital = true;
    std::string token;
    for (;;) {
      const std::uint64_t bits = rng();
      if (bits % 100 == 0) {
        token = std::to_string((bits >> 16) % 2100);  // a year, say
      } else {
        token = words_[table_.draw(rng())];
        if (capital) token[0] = static_cast<char>(token[0] - 'a' + 'A');
      }
      const std::size_t length = out.size() - start;
      if (length > 0 && length + 1 + token.size() + 1 > target) break;
      if (length > 0) out += ' ';
      out += token;
      const std::uint64_t mark = (bits >> 32) % 100;
      capital = mark < 6;
      if (mark < 6) {
        out += '.';
      } else if (mark < 14) {
        out += ',';
      }
    }
    if (out.back() == ',') out.back() = '.';
    if (out.back() != '.') out += '.';
    out += '\n';
  }

 private:
  static std::vector<double> zipf_weights() {
    std::vector<double> w(kVocabulary);
    for (std::size_t r = 0; r < w.size(); ++r)
      w[r] = 1.0 / std::pow(static_cast<double>(r + 1), kZipfExponent);
    return w;
  }

  AliasTable table_;
  std::vector<std::string> words_;
};

// Writes the files of `bytes` each (rounded up to a whole line) from one stream of lines, so that
// each file is a prefix of the larger ones. Returns their sizes.
std::vector<std::uint64_t> write_files(const TextGenerator& gen, const std::vector<fs::path>& paths,
                                       const std::vector<std::uint64_t>& bytes) {
  std::vector<std::FILE*> files;
  for (const fs::path& p : paths) {
    std::FILE* file = std::fopen(p.c_str(), "wb");
    if (file == nullptr) throw std::runtime_error("cannot create " + p.string());
    files.push_back(file);
  }
  std::vector<std::uint64_t> written(paths.size(), 0);
  std::mt19937_64 rng(kTextSeed);
  std::string batch;
  const std::uint64_t largest = *std::max_element(bytes.begin(), bytes.end());
  for (std::uint64_t total = 0; total < largest;) {
    batch.clear();
    while (batch.size() < (1 << 20)) gen.line(rng, batch);
    // The last batch is cut at a line end for each file whose size falls inside it.
    for (std::size_t k = 0; k < files.size(); ++k) {
      if (written[k] >= bytes[k]) continue;
      std::size_t take = batch.size();
      if (written[k] + take > bytes[k]) {
        take = batch.find('\n', static_cast<std::size_t>(bytes[k] - written[k]) - 1) + 1;
      }
      if (std::fwrite(batch.data(), 1, take, files[k]) != take)
        throw std::runtime_error("cannot write " + paths[k].string());
      written[k] += take;
    }
    total += batch.size();
  }
  for (std::size_t k = 0; k < files.size(); ++k) {
    if (std::fclose(files[k]) != 0) throw std::runtime_error("cannot write " + paths[k].string());
  }
  return written;
}

// Appends about `bytes` of new lines (drawn with `seed`) to `path`; returns the bytes appended.
std::uint64_t append_text(const TextGenerator& gen, const fs::path& path, std::uint64_t bytes,
                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string text;
  while (text.size() < bytes) gen.line(rng, text);
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr || std::fwrite(text.data(), 1, text.size(), file) != text.size() ||
      std::fclose(file) != 0)
    throw std::runtime_error("cannot append to " + path.string());
  return text.size();
}

// Reads the file through once, so that the next run finds it in the page cache.
void warm_page_cache(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string());
  std::vector<char> buffer(1 << 20);
  while (::read(fd, buffer.data(), buffer.size()) > 0) {
  }
  ::close(fd);
}

// ---- (b), (c) word counts -----------------------------------------------------------------------

// Adds b's counts into a: the one merge of both sides (and of dagflow's partial results).
WordCounts merge(WordCounts a, const WordCounts& b) {
  auto at = a.begin();  // b is sorted too: each word is found or placed near the last one
  for (const auto& [word, count] : b) {
    at = a.try_emplace(at, word, 0);
    at->second += count;
    ++at;
  }
  return a;
}

void summarise(const WordCounts& counts, Report& r) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a over words and counts
  const auto add = [&hash](const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ULL;
  };
  r.words = 0;
  for (const auto& [word, count] : counts) {
    add(word.data(), word.size() + 1);  // with its terminating '\0' as a separator
    add(&count, sizeof count);
    r.words += static_cast<std::uint64_t>(count);
  }
  r.fingerprint = hash;
  r.distinct = counts.size();
}

// dagflow: map_reduce over read_chunks, default options but the threads, and `any_order` (the
// merge adds counts: any order gives the same total).
Report count_dagflow(const fs::path& path, std::size_t threads, bool any_order) {
  dagflow::Executor ex({.threads = threads});
  Report r;
  r.threads = ex.options().threads;
  const Stopwatch clock;
  dagflow::Graph g;
  auto chunks = dagflow::read_chunks(g, path, kChunkBytes);
  auto counts = dagflow::map_reduce(
      g, [](std::string_view chunk) { return dagflow::count_words(chunk); },
      [](WordCounts a, const WordCounts& b) { return merge(std::move(a), b); }, WordCounts{},
      chunks, {.any_order = any_order});
  const WordCounts total = ex.compute(counts);
  r.seconds = clock.wall();
  r.cpu_seconds = clock.cpu();
  summarise(total, r);
  return r;
}

// The hand-written pipeline's reads: chunks of up to kChunkBytes, each cut after its last
// newline; the bytes after it start the next chunk.
class ChunkReader {
 public:
  explicit ChunkReader(const fs::path& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path.string());
  }
  ~ChunkReader() { ::close(fd_); }
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  [[nodiscard]] bool done() const { return at_end_ && carry_.empty(); }

  std::string next() {
    std::string chunk = std::move(carry_);
    carry_.clear();
    std::size_t have = chunk.size();
    chunk.resize(kChunkBytes);
    while (!at_end_ && have < chunk.size()) {
      const ssize_t n = ::read(fd_, chunk.data() + have, chunk.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error("cannot read " + path_.string());
      if (n == 0) at_end_ = true;
      have += static_cast<std::size_t>(n);
    }
    chunk.resize(have);
    const std::size_t last_newline = chunk.rfind('\n');
    if (!at_end_ && last_newline != std::string::npos) {
      carry_.assign(chunk, last_newline + 1);
      chunk.resize(last_newline + 1);
    }
    return chunk;
  }

 private:
  fs::path path_;
  int fd_;
  std::string carry_;
  bool at_end_ = false;
};

// By hand: a serial stage reads the chunks (ChunkReader), a parallel stage counts them, a serial
// stage merges each into the total as it comes (out of order: a sum does not care, and no chunk
// waits for a slower one). At most 2 x threads chunks in flight, as in dagflow's stream.
Report count_by_hand(const fs::path& path, std::size_t threads) {
  HandArena hand(threads);
  Report r;
  r.threads = threads;
  const Stopwatch clock;
  ChunkReader reader(path);
  WordCounts total;
  const auto read = tbb::make_filter<void, std::string>(
      tbb::filter_mode::serial_in_order, [&](tbb::flow_control& control) -> std::string {
        if (reader.done()) {
          control.stop();
          return {};
        }
        return reader.next();
      });
  const auto count = tbb::make_filter<std::string, WordCounts>(
      tbb::filter_mode::parallel,
      [](const std::string& chunk) { return dagflow::count_words(chunk); });
  const auto add = tbb::make_filter<WordCounts, void>(
      tbb::filter_mode::serial_out_of_order,
      [&](const WordCounts& counts) { total = merge(std::move(total), counts); });
  hand.arena.execute([&] { tbb::parallel_pipeline(2 * threads, read & count & add); });
  r.seconds = clock.wall();
  r.cpu_seconds = clock.cpu();
  summarise(total, r);
  return r;
}

// (c): a new Executor with a disk cache and no memory cache, counting and merging with ops (so the
// map_reduce task has a content key and every chunk an entry), timed as a fresh process would
// run: from the Executor's construction to its destruction (which waits for the cache's writes).
Report count_cached(const fs::path& path, const fs::path& cache_dir, std::size_t threads) {
  Report r;
  const Stopwatch clock;
  dagflow::RunStats stats;
  WordCounts total;
  {
    dagflow::Executor ex({.threads = threads, .memory_cache_bytes = 0, .cache_dir = cache_dir});
    r.threads = ex.options().threads;
    dagflow::Graph g;
    auto chunks = dagflow::read_chunks(g, path, kChunkBytes);
    auto counts = dagflow::map_reduce(
        g,
        dagflow::op("bench_count",
                    [](std::string_view chunk) { return dagflow::count_words(chunk); }),
        dagflow::op("bench_merge",
                    [](WordCounts a, const WordCounts& b) { return merge(std::move(a), b); }),
        WordCounts{}, chunks);
    total = ex.compute(counts);
    stats = ex.last_run_stats();
  }
  r.seconds = clock.wall();
  r.cpu_seconds = clock.cpu();
  r.tasks_run = stats.executed;
  r.blocks_counted = stats.items_executed;
  r.blocks_cached = stats.items_cached;
  r.disk_hits = stats.disk_hits;
  summarise(total, r);
  return r;
}

// ---- the table ----------------------------------------------------------------------------------

// The runs of one case: the best time, the highest peak, and whether every answer was the first's.
struct Best {
  std::optional<Report> first;  // its answer (fingerprint, sum) is the one compared
  double seconds = 0;
  double cpu_seconds = 0;
  double peak_mb = 0;
  bool ok = true;
  bool agree = true;

  std::vector<double> times;  // every run's, in order: (b) pairs them with the other side's

  void add(const ChildRun& run) {
    if (!run.ok) {
      ok = false;
      return;
    }
    times.push_back(run.report.seconds);
    if (!first) {
      first = run.report;
      seconds = run.report.seconds;
      cpu_seconds = run.report.cpu_seconds;
    } else {
      agree = agree && run.report.fingerprint == first->fingerprint && run.report.sum == first->sum;
      seconds = std::min(seconds, run.report.seconds);
      cpu_seconds = std::min(cpu_seconds, run.report.cpu_seconds);
    }
    peak_mb = std::max(peak_mb, run.peak_mb);
  }
  [[nodiscard]] bool valid() const { return ok && first.has_value(); }
  [[nodiscard]] const Report& report() const { return *first; }
};

// What a row shows of one case's runs.
struct Figures {
  double seconds;
  double cpu_seconds;
  double peak_mb;
};
Figures figures(const Best& b) { return {b.seconds, b.cpu_seconds, b.peak_mb}; }
Figures figures(const ChildRun& run) {
  return {run.report.seconds, run.report.cpu_seconds, run.peak_mb};
}

void row(const std::string& what, const std::string& variant, double input_mb, const Figures& f,
         const std::string& reading) {
  std::printf("| %s | %s | %.0f | %.3f | %.3f | %.0f | %.0f | %s |\n", what.c_str(),
              variant.c_str(), input_mb, f.seconds, f.cpu_seconds, input_mb / f.seconds, f.peak_mb,
              reading.c_str());
  std::fflush(stdout);
}

void failed_row(const std::string& what, const std::string& variant) {
  std::printf("| %s | %s | | | | | | **FAILED** (see stderr) |\n", what.c_str(), variant.c_str());
  std::fflush(stdout);
}

// (c) on `path` (of `bytes`, whose word counts have the fingerprint `expected`): cold, unchanged,
// after appending 1% at once, and after appending another 1% and leaving the file 2 s (dagflow
// keys a file modified in the last 2 s by its bytes, read through, else by its size and time
// stamp). Each run is checked: the unchanged one against the cold one, the cold one against (b),
// each after an append against the hand-written pipeline over the new file. False: a wrong answer
// or a failed run.
bool disk_cache_case(const TextGenerator& gen, const fs::path& path, std::uint64_t bytes,
                     std::uint64_t expected, const fs::path& cache_dir, std::size_t threads) {
  const double mb = static_cast<double>(bytes) / kMB;
  const std::string what = format("(c) %.0f MB, disk cache", mb);
  const auto age = [&] {
    const auto modified = fs::last_write_time(path);
    return std::chrono::duration<double>(fs::file_time_type::clock::now() - modified).count();
  };
  const auto cached = [&] {
    return run_in_child([&] { return count_cached(path, cache_dir, threads); });
  };
  const auto by_hand = [&] {
    warm_page_cache(path);
    return run_in_child([&] { return count_by_hand(path, threads); });
  };
  const auto what_ran = [](const Report& r) {
    if (r.tasks_run == 0)
      return format("nothing run: the result from disk (%llu hit)",
                    static_cast<unsigned long long>(r.disk_hits));
    if (r.blocks_cached == 0)
      return format("all %llu chunks counted", static_cast<unsigned long long>(r.blocks_counted));
    const std::uint64_t chunks = r.blocks_counted + r.blocks_cached;
    return format("%llu of %llu chunks counted, the rest from disk",
                  static_cast<unsigned long long>(r.blocks_counted),
                  static_cast<unsigned long long>(chunks));
  };

  warm_page_cache(path);
  const ChildRun cold = cached();
  warm_page_cache(path);
  const double unchanged_age = age();
  const ChildRun unchanged = cached();

  std::uint64_t size = bytes;
  const std::uint64_t appended = append_text(gen, path, bytes / 100, kAppendSeed);
  size += appended;
  const double appended_age = age();
  const ChildRun after = cached();
  const ChildRun check = by_hand();

  const std::uint64_t appended2 = append_text(gen, path, bytes / 100, kAppendSeed + 1);
  size += appended2;
  while (age() < 2.1) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double appended2_age = age();
  const ChildRun after2 = cached();
  const ChildRun check2 = by_hand();

  if (!cold.ok || !unchanged.ok || !after.ok || !check.ok || !after2.ok || !check2.ok) {
    failed_row(what, "cold, re-runs");
    return false;
  }
  const double c = cold.report.seconds;
  const bool cold_same = cold.report.fingerprint == expected &&
                         unchanged.report.fingerprint == cold.report.fingerprint;
  const bool after_same = after.report.fingerprint == check.report.fingerprint;
  const bool after2_same = after2.report.fingerprint == check2.report.fingerprint;
  row(what, "cold: empty cache, an entry written per chunk", mb, figures(cold),
      format("baseline; %s; same result as (b): %s", what_ran(cold.report).c_str(),
             yes_no(cold_same)));
  row(what, format("re-run, file unchanged (modified %.0f s before)", unchanged_age), mb,
      figures(unchanged),
      format("%.2f%% of cold (~0 expected); %s", 100 * unchanged.report.seconds / c,
             what_ran(unchanged.report).c_str()));
  const auto append_row = [&](const ChildRun& run, std::uint64_t added, std::uint64_t total,
                              double modified, const char* when, bool same) {
    const double ratio = run.report.seconds / c;
    row(what,
        format("re-run after appending %.1f MB (1%%)%s, modified %.2f s before",
               static_cast<double>(added) / kMB, when, modified),
        static_cast<double>(total) / kMB, figures(run),
        format("%.1f%% of cold (<= %.0f%%): %s; %s; same result as by hand: %s", 100 * ratio,
               100 * kAppendTarget, yes_no(ratio <= kAppendTarget), what_ran(run.report).c_str(),
               yes_no(same)));
  };
  append_row(after, appended, bytes + appended, appended_age, "", after_same);
  append_row(after2, appended2, size, appended2_age, " again, then waiting 2 s", after2_same);
  return cold_same && after_same && after2_same;
}

bool run_all(const Options& o) {
  bool all_ok = true;
  // How many threads an Executor gets: asked of one in a child (the parent must not start TBB).
  const ChildRun probe = run_in_child([&] {
    dagflow::Executor ex({.threads = o.threads});
    Report r;
    r.threads = ex.options().threads;
    return r;
  });
  if (!probe.ok) throw std::runtime_error("cannot start an Executor");
  const std::size_t threads = probe.report.threads;

  std::uint64_t needed = 0;
  for (std::uint64_t mb : o.sizes) needed += mb;
  const std::uint64_t middle_mb = o.sizes[o.sizes.size() / 2];
  needed += middle_mb / 2 + 256;  // (c)'s append and cache entries, and room to spare
  struct statvfs disk {};
  if (::statvfs(o.dir.c_str(), &disk) == 0) {
    const double free_mb =
        static_cast<double>(disk.f_bavail) * static_cast<double>(disk.f_frsize) / kMB;
    if (free_mb < static_cast<double>(needed)) {
      std::fprintf(stderr, "streaming: %s has %.0f MB free, %llu MB needed: use --sizes or --dir\n",
                   o.dir.c_str(), free_mb, static_cast<unsigned long long>(needed));
      return false;
    }
  }
  const bench::TempDir temp(o.dir, "dagflow-streaming-");

  std::printf(
      "dagflow bench/streaming: %u hardware threads, Executor threads %zu (the hand-written side "
      "uses an arena of as many); best of %d runs, each in a process of its own%s\n",
      std::thread::hardware_concurrency(), threads, o.repeat, o.quick ? ", --quick sizes" : "");

  // Files first, so that the vocabulary (the parent's only sizeable state) is there for every fork.
  const TextGenerator gen;
  std::vector<fs::path> paths;
  std::vector<std::uint64_t> bytes;
  for (std::uint64_t mb : o.sizes) {
    paths.push_back(temp.path() / format("text_%llu_MB.txt", static_cast<unsigned long long>(mb)));
    bytes.push_back(mb * 1'000'000);
  }
  std::fprintf(stderr, "streaming: writing %zu text files to %s...\n", paths.size(),
               temp.path().c_str());
  const Clock::time_point gen_start = Clock::now();
  const std::vector<std::uint64_t> sizes = write_files(gen, paths, bytes);
  std::printf(
      "text files written in %.1f s (%zu words of vocabulary, Zipf s = %.1f); the parent's "
      "RSS, the floor of every peak below: %.0f MB\n\n",
      seconds_since(gen_start), kVocabulary, kZipfExponent, own_rss_mb());

  std::printf(
      "| case | variant | input (MB) | seconds | CPU s | MB/s | peak RSS (MB) | reading |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---|\n");

  // (a)
  {
    const double input_mb = static_cast<double>(o.n * sizeof(double)) / kMB;
    const std::string what = format("(a) map-map-reduce, %zu doubles", o.n);
    Best hand, fused, composed, unfused;
    // One run per child, the variants taking turns: a machine whose speed drifts over seconds
    // then slows every variant alike instead of one variant's runs.
    for (int rep = 0; rep < o.repeat; ++rep) {
      hand.add(run_in_child([&] { return run_chain(Chain::kHand, o.n, threads); }));
      fused.add(run_in_child([&] { return run_chain(Chain::kFused, o.n, threads); }));
      composed.add(run_in_child([&] { return run_chain(Chain::kMapReduce, o.n, threads); }));
      unfused.add(run_in_child([&] { return run_chain(Chain::kUnfused, o.n, threads); }));
    }
    if (hand.valid()) {
      row(what, "tbb::parallel_reduce of f(h(x)), by hand", input_mb, figures(hand),
          format("baseline; RSS %.2fx input; sum %.6e", hand.peak_mb / input_mb,
                 hand.report().sum));
    } else {
      failed_row(what, "tbb::parallel_reduce of f(h(x)), by hand");
      all_ok = false;
    }
    const auto dagflow_row = [&](const Best& b, const char* variant) {
      if (!b.valid() || !hand.valid()) {
        failed_row(what, variant);
        all_ok = false;
        return;
      }
      const double t = b.seconds / hand.seconds;
      const double m = b.peak_mb / input_mb;
      const bool same =
          std::abs(b.report().sum - hand.report().sum) <= 1e-9 * std::abs(hand.report().sum);
      all_ok = all_ok && same;
      row(what, variant, input_mb, figures(b),
          format("time %.2fx hand (<= %.1fx): %s (CPU %.2fx); RSS %.2fx input (<= %.1fx): %s; "
                 "same sum: %s",
                 t, kChainTimeTarget, yes_no(t <= kChainTimeTarget),
                 b.cpu_seconds / hand.cpu_seconds, m, kChainRssTarget, yes_no(m <= kChainRssTarget),
                 yes_no(same)));
    };
    dagflow_row(fused, "dagflow reduce(map(f, map(h, xs))), fused");
    dagflow_row(composed, "dagflow map_reduce(f o h), composed by hand");
    dagflow_row(unfused, "dagflow reduce(map(f, map(h, xs))), fuse_maps off");
    for (const Best* other : {&composed, &unfused}) {
      if (fused.valid() && other->valid() && fused.report().sum != other->report().sum) {
        std::printf("| | | | | | | | **the fused chain's sum differs in bits** |\n");
        all_ok = false;
      }
    }
  }

  // (b)
  std::vector<std::uint64_t> fingerprints(paths.size(), 0);
  for (std::size_t k = 0; k < paths.size(); ++k) {
    const double mb = static_cast<double>(sizes[k]) / kMB;
    const std::string what = format("(b) word count, %.0f MB", mb);
    Best hand, df, any;
    // Each repetition starts with another side, so that a drift of the machine's speed within a
    // repetition favours none of them (the k-th runs of the sides still make the k-th pairs).
    const std::function<void()> sides[] = {
        [&] { hand.add(run_in_child([&] { return count_by_hand(paths[k], threads); })); },
        [&] { df.add(run_in_child([&] { return count_dagflow(paths[k], threads, false); })); },
        [&] { any.add(run_in_child([&] { return count_dagflow(paths[k], threads, true); })); }};
    constexpr int kSides = 3;
    for (int rep = 0; rep < o.repeat; ++rep) {
      for (int side = 0; side < kSides; ++side) {
        warm_page_cache(paths[k]);
        sides[(rep + side) % kSides]();
      }
    }
    if (!hand.valid() || !df.valid() || !any.valid()) {
      failed_row(what, "tbb::parallel_pipeline / dagflow");
      all_ok = false;
      continue;
    }
    fingerprints[k] = hand.report().fingerprint;
    const auto same_as_hand = [&](const Best& b) {
      return hand.agree && b.agree && hand.report().fingerprint == b.report().fingerprint &&
             hand.report().words == b.report().words &&
             hand.report().distinct == b.report().distinct;
    };
    all_ok = all_ok && same_as_hand(df) && same_as_hand(any);
    row(what, "tbb::parallel_pipeline, by hand", mb, figures(hand),
        format("baseline; %llu words, %llu distinct",
               static_cast<unsigned long long>(hand.report().words),
               static_cast<unsigned long long>(hand.report().distinct)));
    const auto dagflow_row = [&](const Best& b, const char* variant) {
      const double speed = hand.seconds / b.seconds;
      const std::vector<double> pairs = bench::paired_ratios(hand.times, b.times);
      row(what, variant, mb, figures(b),
          format("speed %.2fx hand (>= %.1fx): %s (CPU %.2fx hand; the %zu run pairs "
                 "%.2f-%.2fx, median %.2fx); RSS <= %.0f MB: %s; same result: %s",
                 speed, kSpeedTarget, yes_no(speed >= kSpeedTarget),
                 b.cpu_seconds / hand.cpu_seconds, b.times.size(), pairs.front(), pairs.back(),
                 bench::paired_median(hand.times, b.times), kRssTargetMB,
                 yes_no(b.peak_mb <= kRssTargetMB), yes_no(same_as_hand(b))));
    };
    dagflow_row(df, "dagflow map_reduce over read_chunks(4 MiB)");
    dagflow_row(any, "dagflow map_reduce over read_chunks(4 MiB), any_order");
  }

  all_ok = disk_cache_case(gen, paths[paths.size() / 2], sizes[sizes.size() / 2],
                           fingerprints[paths.size() / 2], temp.path() / "cache", threads) &&
           all_ok;
  std::printf(
      "\nseconds: wall, best of %d ((a): graph building + compute, input made before the clock; "
      "(b): open to total; (c): one run each, Executor construction to destruction); CPU s: the "
      "process's user + system time over the same interval (best). MB/s: input / seconds. peak "
      "RSS: the highest ru_maxrss of the runs' processes. Every file was read "
      "through once just before each run (warm page cache on both sides).\n",
      o.repeat);
  bench::print_load();
  return all_ok;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  try {
    return run_all(options) ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "streaming: %s\n", e.what());
    return 1;
  }
}
