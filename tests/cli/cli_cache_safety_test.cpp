// `dagflow run`'s disk cache when the disk gets in the way, as users see it: --durable-cache
// (every entry synced, found again), and, run as an unprivileged user (`nobody`, so root's rights
// do not hide the problems), a read-only cache root, entries and entry directories of another
// user, a full disk and a root owned by another user. Each run gives the right total and a
// warning, and leaves no temp file and no partial entry; only the last is refused. The
// unprivileged cases need root (CI's tests run as root) and skip with a warning otherwise.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"
#include "support/unprivileged.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::test::count_of;
using dagflow::test::example_pipelines_dir;
using dagflow::test::kUnprivilegedId;
using dagflow::test::ProcessResult;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::TempDir;
using dagflow::test::UnprivilegedDagflow;

// examples/pipelines/sum_squares.yaml with n = 20000: the sum of the squares of 0..19999.
constexpr std::int64_t kTotal = 2666466670000;
const std::vector<std::string> kPipelineArgs = {"sum_squares.yaml", "--set", "n=20000", "--json",
                                                "--no-progress"};

std::int64_t total_of(const ProcessResult& r) {
  return from_json(r.out).as_map().at("total").as_int();
}

// The regular files below `dir` whose names satisfy `pred`.
std::vector<fs::path> files_below(const fs::path& dir,
                                  const std::function<bool(const std::string&)>& pred) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && pred(e.path().filename().string())) out.push_back(e.path());
  }
  return out;
}
std::vector<fs::path> entries_below(const fs::path& dir) {
  return files_below(dir, [](const std::string& n) { return n.ends_with(".entry"); });
}
std::vector<fs::path> temps_below(const fs::path& dir) {
  return files_below(dir, [](const std::string& n) { return n.starts_with(".tmp-"); });
}

// An entry file that is whole: the 64-byte header the README describes, whose payload length
// (bytes 24..31, little-endian) accounts for the rest of the file. A write cut short fails this.
bool is_whole_entry(const fs::path& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 64 || std::string_view(bytes).substr(0, 7) != "DAGFLOW") return false;
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) {
    length = length << 8 | static_cast<unsigned char>(bytes[24 + static_cast<std::size_t>(i)]);
  }
  return length == bytes.size() - 64;
}

void make_owned(const fs::path& path, unsigned id, fs::perms perms) {
  REQUIRE(::chown(path.c_str(), id, id) == 0);
  fs::permissions(path, perms);
}

// `nobody` runs sum_squares.yaml here: a 0755 directory of root's holding the program, the
// pipeline (read-only for nobody) and `out/`, nobody's, for its --stats-json files.
struct NobodyRuns {
  TempDir dir;
  UnprivilegedDagflow dagflow{dir.path()};

  NobodyRuns() {
    fs::copy_file(example_pipelines_dir() / "sum_squares.yaml", dir.path() / "sum_squares.yaml");
    fs::create_directory(dir.path() / "out");
    make_owned(dir.path() / "out", kUnprivilegedId, fs::perms::owner_all);
  }
  // An empty cache root, nobody's, with `perms`.
  [[nodiscard]] fs::path cache(fs::perms perms) const {
    fs::path root = dir.path() / "cache";
    fs::create_directory(root);
    make_owned(root, kUnprivilegedId, perms);
    return root;
  }
  // The command line of `dagflow run` on the pipeline with `cache` (after a wrapper, or run()).
  [[nodiscard]] std::vector<std::string> run_args(const fs::path& cache) const {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), kPipelineArgs.begin(), kPipelineArgs.end());
    args.insert(args.end(), {"--cache-dir", cache.string()});
    return args;
  }
  ProcessResult run(const fs::path& cache) const {
    return dagflow.run(run_args(cache), {}, dir.path());
  }
  // A run that writes its --stats-json: how many nodes it executed.
  std::int64_t executed_by_run(const fs::path& cache) const {
    std::vector<std::string> args = run_args(cache);
    const fs::path stats = dir.path() / "out" / "stats.json";
    args.insert(args.end(), {"--stats-json", stats.string()});
    const ProcessResult r = dagflow.run(args, {}, dir.path());
    REQUIRE(r.exit_code == 0);
    CHECK(total_of(r) == kTotal);
    CHECK_THAT(r.err, !Catch::Contains("warning"));
    return from_json(read_file(stats)).as_map().at("executed").as_int();
  }
};

}  // namespace

// --durable-cache writes the entries a run finds again, and makes no sense with --no-cache.
TEST_CASE("dagflow run --durable-cache: entries are written and found again", "[cli][cache]") {
  TempDir dir;
  fs::copy_file(example_pipelines_dir() / "sum_squares.yaml", dir.path() / "sum_squares.yaml");
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), kPipelineArgs.begin(), kPipelineArgs.end());
  args.insert(args.end(), {"--durable-cache", "--cache-dir", "cache", "--stats-json", "s.json"});
  for (const std::int64_t executed_nodes : {3, 0}) {
    const ProcessResult r = run_dagflow(args, dir.path());
    REQUIRE(r.exit_code == 0);
    CHECK(total_of(r) == kTotal);
    CHECK_THAT(r.err, !Catch::Contains("warning"));
    const auto stats = from_json(read_file(dir.path() / "s.json")).as_map();
    CHECK(stats.at("executed").as_int() == executed_nodes);
  }
  CHECK_FALSE(entries_below(dir.path() / "cache").empty());
  CHECK(temps_below(dir.path() / "cache").empty());

  const ProcessResult both =
      run_dagflow({"run", "sum_squares.yaml", "--durable-cache", "--no-cache"}, dir.path());
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Catch::Contains("--durable-cache") && Catch::Contains("--no-cache"));
}

// The syncs really happen: with --durable-cache each entry (and the run record) costs two fsync
// calls (its file, then its directory); without it a run makes none.
TEST_CASE("dagflow run --durable-cache: each entry is synced twice, and only then",
          "[cli][cache]") {
  const std::string strace = dagflow::test::strace_program();
  if (strace.empty()) {
    WARN("skipped: needs strace to see the fsync calls");
    return;
  }
  for (const bool durable : {false, true}) {
    INFO("--durable-cache: " << durable);
    TempDir dir;
    fs::copy_file(example_pipelines_dir() / "sum_squares.yaml", dir.path() / "sum_squares.yaml");
    const fs::path trace = dir.path() / "fsync.trace";
    // LeakSanitizer stops the process's threads with ptrace at exit, which a traced process
    // cannot do (in the ASan build it would fail the run); other builds ignore the variable.
    std::vector<std::string> argv = {strace,
                                     "-f",
                                     "-qq",
                                     "-E",
                                     "ASAN_OPTIONS=detect_leaks=0",
                                     "-e",
                                     "trace=fsync",
                                     "-e",
                                     "signal=none",
                                     "-o",
                                     trace.string(),
                                     dagflow::test::dagflow_program(),
                                     "run"};
    argv.insert(argv.end(), kPipelineArgs.begin(), kPipelineArgs.end());
    argv.insert(argv.end(), {"--cache-dir", "cache"});
    if (durable) argv.emplace_back("--durable-cache");
    const ProcessResult r =
        dagflow::test::show_result(dagflow::test::run_process(argv, dir.path()));
    if (r.exit_code != 0 && r.err.starts_with("strace:")) {
      WARN("skipped: strace cannot trace here: " << r.err);
      return;
    }
    REQUIRE(r.exit_code == 0);
    CHECK(total_of(r) == kTotal);
    const std::size_t entries = entries_below(dir.path() / "cache").size();
    CHECK(entries > 0);
    // The run record (when the pipeline writes one) is synced like an entry.
    std::size_t records = 0;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(dir.path() / "cache" / "records", ec))
      records += f.path().extension() == ".json" ? 1 : 0;
    const std::string calls = read_file(trace);
    CHECK(count_of(calls, "fsync(") == (durable ? 2 * (entries + records) : 0));
    CHECK(count_of(calls, "= -1") == 0);
  }
}

// A cache root its owner made read-only: nothing can be written, so each entry is a warning and
// the run computes what it needs; entries already there are still used.
TEST_CASE("dagflow run: a read-only cache root warns and computes", "[cli][cache][unprivileged]") {
  if (const std::string skip = dagflow::test::unprivileged_runs_unavailable(); !skip.empty()) {
    WARN(skip);
    return;
  }
  const NobodyRuns nobody;
  const fs::path cache = nobody.cache(fs::perms::owner_read | fs::perms::owner_exec);
  const ProcessResult r = nobody.run(cache);
  CHECK(r.exit_code == 0);
  CHECK(total_of(r) == kTotal);
  CHECK_THAT(r.err, Catch::Contains("dagflow: warning: cannot store cache entry") &&
                        Catch::Contains("Permission denied"));
  CHECK(fs::is_empty(cache));

  fs::permissions(cache, fs::perms::owner_all);
  CHECK(nobody.executed_by_run(cache) == 3);  // fills it
  fs::permissions(cache, fs::perms::owner_read | fs::perms::owner_exec);
  CHECK(nobody.executed_by_run(cache) == 0);  // a hit, though nothing can be written
}

// Entries and entry directories of another user (root's, mode 0600/0700: unreadable for nobody)
// inside a cache nobody owns: misses with a warning, never a crash; an entry file is replaced
// (nobody owns its directory), an entry directory cannot be written, and the total is right.
TEST_CASE("dagflow run: cache entries of another user are misses", "[cli][cache][unprivileged]") {
  if (const std::string skip = dagflow::test::unprivileged_runs_unavailable(); !skip.empty()) {
    WARN(skip);
    return;
  }
  const NobodyRuns nobody;
  const fs::path cache = nobody.cache(fs::perms::owner_all);
  CHECK(nobody.executed_by_run(cache) == 3);
  const std::vector<fs::path> entries = entries_below(cache);
  REQUIRE_FALSE(entries.empty());

  SECTION("entry files") {
    for (const fs::path& e : entries) {
      make_owned(e, 0, fs::perms::owner_read | fs::perms::owner_write);
    }
    const ProcessResult r = nobody.run(cache);
    CHECK(r.exit_code == 0);
    CHECK(total_of(r) == kTotal);
    CHECK_THAT(r.err, Catch::Contains("dagflow: warning: cache entry") &&
                          Catch::Contains("cannot be opened: Permission denied"));
    CHECK(nobody.executed_by_run(cache) == 0);  // replaced by nobody's
  }
  SECTION("entry directories") {
    for (const fs::path& e : entries) make_owned(e.parent_path(), 0, fs::perms::owner_all);
    for (int run = 0; run < 2; ++run) {  // nothing was replaced: the same again
      const ProcessResult r = nobody.run(cache);
      CHECK(r.exit_code == 0);
      CHECK(total_of(r) == kTotal);
      CHECK_THAT(r.err, Catch::Contains("its directory cannot be opened: Permission denied") &&
                            Catch::Contains("opening its directory failed: Permission denied"));
    }
  }
  CHECK(temps_below(cache).empty());
  for (const fs::path& e : entries_below(cache)) CHECK(is_whole_entry(e));
}

// A full disk: the cache root is a 64 KiB tmpfs (mounted in a mount namespace of the test's
// own, so nothing outlives it), or, where no tmpfs can be mounted, the file size limit stands in
// for it (EFBIG, SIGXFSZ ignored). The entries that fit are written, the others are a warning
// each; the total is right and nothing partial is left.
TEST_CASE("dagflow run: a full disk warns, computes and leaves no partial entry",
          "[cli][cache][unprivileged]") {
  if (const std::string skip = dagflow::test::unprivileged_runs_unavailable(); !skip.empty()) {
    WARN(skip);
    return;
  }
  const NobodyRuns nobody;
  const fs::path mount_point = nobody.dir.path() / "small";
  fs::create_directory(mount_point);
  const fs::path copy = nobody.dir.path() / "copy";  // what was in the tmpfs, copied out
  const std::string unshare = dagflow::test::unshare_program();
  const bool own_mounts =
      !unshare.empty() && dagflow::test::run_process({unshare, "--mount", "true"}).exit_code == 0;

  ProcessResult r;
  fs::path written;  // the cache as the run left it
  std::string error_text;
  if (own_mounts) {
    // Mounts, runs, copies the cache out (the mount is gone with the namespace) and exits with
    // the run's exit code; 90: the tmpfs could not be mounted.
    const std::string script =
        "mount -t tmpfs -o size=64k,mode=0700,uid=65534,gid=65534 dagflow-test \"$1\" || exit 90;"
        " mnt=$1; copy=$2; shift 2; \"$@\"; rc=$?; cp -R \"$mnt\" \"$copy\" || exit 91; exit $rc";
    std::vector<std::string> argv = {
        unshare, "--mount", "/bin/sh", "-c", script, "sh", mount_point.string(), copy.string()};
    const std::vector<std::string> run = nobody.dagflow.argv(nobody.run_args(mount_point));
    argv.insert(argv.end(), run.begin(), run.end());
    r = dagflow::test::show_result(dagflow::test::run_process(argv, nobody.dir.path()));
    written = copy;
    error_text = "No space left on device";
  }
  if (!own_mounts || r.exit_code == 90) {
    WARN("no tmpfs can be mounted here: the file size limit (EFBIG) stands in for a full disk");
    const fs::path cache = nobody.cache(fs::perms::owner_all);
    std::vector<std::string> argv = {"/bin/sh", "-c",
                                     "trap '' XFSZ; ulimit -f 64 || exit 92; exec \"$@\"", "sh"};
    const std::vector<std::string> run = nobody.dagflow.argv(nobody.run_args(cache));
    argv.insert(argv.end(), run.begin(), run.end());
    r = dagflow::test::show_result(dagflow::test::run_process(argv, nobody.dir.path()));
    written = cache;
    error_text = "File too large";
  }
  REQUIRE(r.exit_code == 0);
  CHECK(total_of(r) == kTotal);
  CHECK_THAT(r.err, Catch::Contains("dagflow: warning: cannot store cache entry") &&
                        Catch::Contains(error_text));
  REQUIRE(fs::is_directory(written));
  CHECK(temps_below(written).empty());
  for (const fs::path& e : entries_below(written)) {
    INFO(e);
    CHECK(is_whole_entry(e));
  }
}

// A cache root of another user (root's, 0755) stays refused: exit code 2, the reason named, and
// nothing runs or is written.
TEST_CASE("dagflow run: a cache root of another user is refused", "[cli][cache][unprivileged]") {
  if (const std::string skip = dagflow::test::unprivileged_runs_unavailable(); !skip.empty()) {
    WARN(skip);
    return;
  }
  const NobodyRuns nobody;
  const fs::path cache = nobody.dir.path() / "cache";
  fs::create_directory(cache);
  fs::permissions(cache, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  const ProcessResult r = nobody.run(cache);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains(cache.string()) &&
                        Catch::Contains("is owned by another user (uid 0, not uid 65534)"));
  CHECK(fs::is_empty(cache));
}
