// `dagflow run` re-running like make, on real files: a typo'd data folder loses nothing, writers
// leave their files alone or restore them, a punctuation-only edit stops at the item it changed
// (early cut-off), named targets, --force, -B, -j, dry-run reasons, and `cache clear` of one of
// two pipelines sharing a cache.
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/unprivileged.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::Value;
using dagflow::test::DataDir;
using dagflow::test::example_pipelines_dir;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::TempDir;
using dagflow::test::write_file;

// A copy of examples/pipelines (its pipelines, texts/ and data/) to run in.
class ExamplesDir : public TempDir {
 public:
  ExamplesDir() {
    fs::copy(example_pipelines_dir(), path(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::remove_all(path() / ".dagflow");
    fs::remove_all(path() / "out");
  }
};

// Every regular file below `dir`: relative path -> bytes.
std::map<std::string, std::string> files_below(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = read_file(e.path());
  }
  return files;
}

// Every regular file below `dir`: relative path -> mtime.
std::map<std::string, fs::file_time_type> mtimes_below(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> times;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) times[fs::relative(e.path(), dir).string()] = e.last_write_time();
  }
  return times;
}

// A run with --stats-json: its stats object.
Value::Map run_stats(const fs::path& dir, std::vector<std::string> args) {
  const std::string stats = (dir / "stats.json").string();
  args.insert(args.begin(), "run");
  args.insert(args.end(), {"--stats-json", stats, "-q"});
  const auto r = run_dagflow(args, dir);
  REQUIRE(r.exit_code == 0);
  return from_json(read_file(stats)).as_map();
}

// Node id -> outcome in a stats object.
std::map<std::string, std::string> outcomes(const Value::Map& stats) {
  std::map<std::string, std::string> out;
  for (const Value& n : stats.at("nodes").as_list()) {
    out[n.as_map().at("id").as_string()] = n.as_map().at("outcome").as_string();
  }
  return out;
}

std::int64_t count(const Value::Map& stats, const std::string& name) {
  return stats.at(name).as_int();
}

}  // namespace

// The story that started it: `--set data=salez` exited 0 and replaced good reports with empty
// ones. Now the glob fails the run and out/ keeps every byte.
TEST_CASE("dagflow run: a typo'd data folder fails and leaves out/ byte-identical",
          "[cli][rerun]") {
  ExamplesDir dir;
  REQUIRE(run_dagflow({"run", "csv_report.yaml", "-q"}, dir.path()).exit_code == 0);
  const auto before = files_below(dir.path() / "out");
  REQUIRE(before.size() == 2);
  CHECK(before.at("by_region.json").size() > 10);

  const auto typo = run_dagflow({"run", "csv_report.yaml", "--set", "data=salez"}, dir.path());
  CHECK(typo.exit_code == 1);
  CHECK_THAT(typo.err, Catch::Contains("node 'files' (op glob) failed") &&
                           Catch::Contains("'salez/*.csv' matched no file"));
  CHECK(files_below(dir.path() / "out") == before);
}

// Writers are cached: a second run writes nothing (every mtime unchanged) and counts them as
// cache hits.
TEST_CASE("dagflow run: a second run of image_filter leaves every output untouched",
          "[cli][rerun]") {
  ExamplesDir dir;
  REQUIRE(
      run_dagflow({"run", "image_filter.yaml", "--set", "images=3", "-q"}, dir.path()).exit_code ==
      0);
  const auto before = mtimes_below(dir.path() / "out");
  REQUIRE(before.size() == 12);  // 3 drawn, 3 x 3 filtered
  const Value::Map again = run_stats(dir.path(), {"image_filter.yaml", "--set", "images=3"});
  CHECK(mtimes_below(dir.path() / "out") == before);
  CHECK(count(again, "items_executed") == 0);
  CHECK(outcomes(again).at("blurred") == "cached");
  CHECK(outcomes(again).at("drawn") == "cached");
}

// A deleted or edited report comes back from the cache, without its upstream running; a deleted
// image (whose bytes are not kept) makes its writer run again.
TEST_CASE("dagflow run: a deleted or edited output is restored without re-running upstream",
          "[cli][rerun]") {
  ExamplesDir dir;
  REQUIRE(run_dagflow({"run", "csv_report.yaml", "-q"}, dir.path()).exit_code == 0);
  const auto good = files_below(dir.path() / "out");
  fs::remove(dir.path() / "out" / "by_region.json");
  write_file(dir.path() / "out" / "all_rows.csv", "edited by hand\n");

  const auto dry = run_dagflow({"run", "csv_report.yaml", "-n"}, dir.path());
  CHECK_THAT(dry.out,
             Catch::Contains("cached      summary_json (write_json): output out/by_region.json "
                             "would be restored from the cache"));
  const Value::Map stats = run_stats(dir.path(), {"csv_report.yaml"});
  CHECK(files_below(dir.path() / "out") == good);
  CHECK(count(stats, "executed") == 1);  // the glob alone
  CHECK(outcomes(stats).at("summary_json") == "cached");
  CHECK(outcomes(stats).at("rows_csv") == "cached");
  CHECK(outcomes(stats).at("summary") == "not_needed");

  SECTION("an image is written again by its writer") {
    REQUIRE(run_dagflow({"run", "image_filter.yaml", "--set", "images=2", "-q"}, dir.path())
                .exit_code == 0);
    const fs::path blurred = dir.path() / "out" / "blur" / "img_0001_blur.ppm";
    const std::string bytes = read_file(blurred);
    fs::remove(blurred);
    const auto why =
        run_dagflow({"run", "image_filter.yaml", "--set", "images=2", "-n"}, dir.path());
    CHECK_THAT(why.out, Catch::Contains("would run   blurred (map image_filter): output "
                                        "out/blur/img_0001_blur.ppm missing"));
    const Value::Map images = run_stats(dir.path(), {"image_filter.yaml", "--set", "images=2"});
    CHECK(read_file(blurred) == bytes);
    CHECK(outcomes(images).at("blurred") == "executed");
    CHECK(outcomes(images).at("drawn") == "cached");
  }
}

// Early cut-off: editing only punctuation re-runs word_count for that file, and nothing after it.
TEST_CASE("dagflow run: a punctuation-only edit re-runs one item and nothing downstream",
          "[cli][rerun]") {
  ExamplesDir dir;
  REQUIRE(run_dagflow({"run", "wordcount.yaml", "-q"}, dir.path()).exit_code == 0);
  const fs::path text = dir.path() / "texts" / "market.txt";
  write_file(text, read_file(text) + "!!! ... ,,,\n");

  const auto why = run_dagflow({"run", "wordcount.yaml", "-n"}, dir.path());
  CHECK_THAT(why.out, Catch::Contains("would run   counts (map word_count): 1 of 6 items "
                                      "changed: texts/market.txt\n"));
  const Value::Map stats = run_stats(dir.path(), {"wordcount.yaml"});
  CHECK(count(stats, "items_executed") == 1);
  CHECK(count(stats, "items_cached") == 5);
  CHECK(outcomes(stats).at("counts") == "executed");
  CHECK(outcomes(stats).at("total") == "cached");
  CHECK(outcomes(stats).at("top") == "cached");

  SECTION("a real edit goes all the way down") {
    write_file(text, read_file(text) + "zebra zebra zebra zebra zebra zebra zebra zebra\n");
    const Value::Map changed = run_stats(dir.path(), {"wordcount.yaml", "--set", "k=4"});
    CHECK(outcomes(changed).at("total") == "executed");
    CHECK(outcomes(changed).at("top") == "executed");
  }
}

// `run FILE NODE...` computes only what the named nodes need; writers elsewhere do not run.
TEST_CASE("dagflow run FILE NODE: runs only what the named nodes need", "[cli][rerun]") {
  ExamplesDir dir;
  const auto r = run_dagflow({"run", "csv_report.yaml", "summary", "-q"}, dir.path());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("summary: {\"east\":"));
  CHECK_FALSE(fs::exists(dir.path() / "out"));  // no writer ran
  const Value::Map stats = run_stats(dir.path(), {"wordcount.yaml", "counts"});
  CHECK(outcomes(stats).at("counts") == "executed");
  CHECK(outcomes(stats).at("total") == "not_needed");
  CHECK(outcomes(stats).at("top") == "not_needed");

  const auto unknown = run_dagflow({"run", "wordcount.yaml", "totl"}, dir.path());
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("target 'totl' is not a node of this pipeline (did you "
                                          "mean 'total'?)"));
}

// --force re-runs a node (and what follows only if its result changed); -B re-runs everything;
// -j is --threads.
TEST_CASE("dagflow run: --force, -B and -j", "[cli][rerun]") {
  ExamplesDir dir;
  REQUIRE(run_dagflow({"run", "wordcount.yaml", "-q"}, dir.path()).exit_code == 0);

  const auto why = run_dagflow({"run", "wordcount.yaml", "-n", "--force", "total"}, dir.path());
  CHECK_THAT(why.out, Catch::Contains("would run   total (merge_counts): forced\n"));
  const Value::Map forced = run_stats(dir.path(), {"wordcount.yaml", "--force", "total"});
  CHECK(outcomes(forced).at("total") == "executed");
  CHECK(outcomes(forced).at("top") == "cached");  // total came out the same
  CHECK(outcomes(forced).at("counts") == "cached");

  const Value::Map all = run_stats(dir.path(), {"wordcount.yaml", "-B", "-j", "1"});
  CHECK(count(all, "cache_hits") == 0);
  CHECK(count(all, "items_executed") == 6);
  CHECK(outcomes(all).at("top") == "executed");
  const Value::Map after = run_stats(dir.path(), {"wordcount.yaml", "--jobs", "2"});
  CHECK(outcomes(after).at("top") == "cached");  // -B still wrote the cache

  const auto bad = run_dagflow({"run", "wordcount.yaml", "--force", "nope"}, dir.path());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("forced node 'nope' is not a node"));
}

// Dry-run reasons for a changed --set and in JSON; -v prints them as the run goes.
TEST_CASE("dagflow run --dry-run: says why each node would run", "[cli][rerun][dry-run]") {
  ExamplesDir dir;
  REQUIRE(run_dagflow({"run", "wordcount.yaml", "-q"}, dir.path()).exit_code == 0);
  const auto set = run_dagflow({"run", "wordcount.yaml", "-n", "--set", "k=5"}, dir.path());
  CHECK_THAT(set.out, Catch::Contains("would run   top (top_k): argument k changed\n") &&
                          Catch::Contains("cached      total (merge_counts)\n"));

  const auto json =
      run_dagflow({"run", "wordcount.yaml", "-n", "--set", "k=5", "--json"}, dir.path());
  REQUIRE(json.exit_code == 0);
  std::map<std::string, Value::Map> nodes;
  const Value plan = from_json(json.out);
  for (const Value& n : plan.as_map().at("nodes").as_list()) {
    nodes[n.as_map().at("id").as_string()] = n.as_map();
  }
  CHECK(nodes.at("top").at("state").as_string() == "would_run");
  CHECK(nodes.at("top").at("reason").as_string() == "argument k changed");
  CHECK(nodes.at("total").at("reason").is_null());

  const auto verbose = run_dagflow({"run", "wordcount.yaml", "-v", "--set", "k=5"}, dir.path());
  REQUIRE(verbose.exit_code == 0);
  CHECK_THAT(verbose.err, Catch::Contains("ran         top (top_k): argument k changed\n"));
}

// Entries are shared; clearing one pipeline keeps what another pipeline's record names.
TEST_CASE("dagflow cache clear FILE: keeps the entries another pipeline uses", "[cli][rerun]") {
  ExamplesDir dir;
  fs::copy_file(dir.path() / "wordcount.yaml", dir.path() / "wordcount_top5.yaml");
  REQUIRE(run_dagflow({"run", "wordcount.yaml", "-q"}, dir.path()).exit_code == 0);
  REQUIRE(run_dagflow({"run", "wordcount_top5.yaml", "--set", "k=5", "-q"}, dir.path()).exit_code ==
          0);

  const auto list = run_dagflow({"cache", "list", "wordcount.yaml", "--json"}, dir.path());
  REQUIRE(list.exit_code == 0);
  CHECK(from_json(list.out).as_map().at("nodes").as_list().size() == 4);
  const auto cleared = run_dagflow({"cache", "clear", "wordcount.yaml"}, dir.path());
  REQUIRE(cleared.exit_code == 0);
  // The other pipeline's record names total (its run took total from the cache, so it never
  // needed counts): that one stays. The glob's list is no entry: its readers hold it as a literal.
  CHECK_THAT(cleared.out,
             Catch::Contains("; 1 entry,") && Catch::Contains("shared with other pipelines kept"));

  const Value::Map other = run_stats(dir.path(), {"wordcount_top5.yaml", "--set", "k=5"});
  CHECK(count(other, "executed") == 1);  // the glob: every other node a hit
  const Value::Map again = run_stats(dir.path(), {"wordcount.yaml"});
  CHECK(outcomes(again).at("top") == "executed");
  CHECK(outcomes(again).at("total") == "cached");

  const auto stats = run_dagflow({"cache", "stats", "wordcount.yaml", "--json"}, dir.path());
  REQUIRE(stats.exit_code == 0);
  const Value::Map s = from_json(stats.out).as_map();
  CHECK(s.at("pipeline").as_map().at("recorded").as_bool());
  CHECK(s.at("total").as_map().at("entries").as_int() > 0);
}

// A pipeline that no longer loads can still be cleared: the record says what it used.
TEST_CASE("dagflow cache clear FILE: works for a pipeline that no longer loads", "[cli][rerun]") {
  DataDir data;
  REQUIRE(run_dagflow({"run", "wordcount.yaml", "-q"}, data.path()).exit_code == 0);
  write_file(data.path() / "wordcount.yaml", "name: [broken\n");
  const auto cleared = run_dagflow({"cache", "clear", "wordcount.yaml"}, data.path());
  REQUIRE(cleared.exit_code == 0);
  CHECK_THAT(cleared.out, Catch::Contains("removed") && !Catch::Contains("removed 0 entries"));
}

// Installed examples run by another user: the pipeline's directory is read-only, so the default
// cache and records go to $XDG_CACHE_HOME/dagflow (~/.cache/dagflow) with one notice, and the run
// succeeds. Needs root (to become `nobody` through setpriv); skipped with a warning otherwise.
TEST_CASE("dagflow run: a read-only pipeline directory caches in the user's cache dir",
          "[cli][rerun][unprivileged]") {
  if (const std::string skip = dagflow::test::unprivileged_runs_unavailable(); !skip.empty()) {
    WARN(skip);
    return;
  }
  TempDir dir;
  const dagflow::test::UnprivilegedDagflow nobody(dir.path());
  const fs::path pipelines = dir.path() / "pipelines";  // root's, 0755: read-only for nobody
  fs::create_directories(pipelines);
  fs::copy(example_pipelines_dir() / "texts", pipelines / "texts", fs::copy_options::recursive);
  fs::copy_file(example_pipelines_dir() / "wordcount.yaml", pipelines / "wordcount.yaml");
  const fs::path home = dir.path() / "home";
  fs::create_directories(home);
  REQUIRE(::chown(home.c_str(), dagflow::test::kUnprivilegedId, dagflow::test::kUnprivilegedId) ==
          0);

  const auto as_nobody = [&](std::vector<std::string> env) {
    return nobody.run({"run", (pipelines / "wordcount.yaml").string(), "--no-progress"},
                      std::move(env));
  };
  const auto r = as_nobody({"HOME=" + home.string()});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("top: "));
  CHECK_THAT(r.err, Catch::Contains("dagflow: notice: cannot keep the cache beside the pipeline") &&
                        Catch::Contains((home / ".cache" / "dagflow").string()));
  CHECK(fs::is_directory(home / ".cache" / "dagflow" / "records"));
  CHECK_FALSE(fs::exists(pipelines / ".dagflow"));

  const auto xdg = as_nobody({"HOME=" + home.string(), "XDG_CACHE_HOME=" + (home / "x").string()});
  CHECK(xdg.exit_code == 0);
  CHECK(fs::is_directory(home / "x" / "dagflow" / "records"));
}
