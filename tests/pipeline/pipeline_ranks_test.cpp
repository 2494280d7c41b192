#include <dagflow/pipeline/pipeline.hpp>

// Tests of pipelines run across ranks (ExecutorOptions::cluster) with ranks that are threads of
// this process (ThreadCluster, one worker thread each): every rank gets the plain run's outputs
// and counts, writers write once, failures, keep-going and cancels reach every rank alike, the
// run record written by rank 0 serves the next run (alone or across ranks), and a rank whose
// options differ fails every rank instead of leaving the others waiting.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/thread_cluster.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::NodeOutcome;
using dagflow::OpRegistry;
using dagflow::Pipeline;
using dagflow::PipelineResult;
using dagflow::Value;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::ThreadCluster;

std::atomic<int> g_writes{0};         // calls of `counted_write`
std::atomic<bool> g_stalling{false};  // `stall` is running

// What the tests start from: the built-in ops, plus a writer that counts its calls, a node that
// fails on one value, and one that waits until its run is stopped.
OpRegistry test_ops() {
  OpRegistry ops = OpRegistry::builtins();
  ops.add("counted_write",
          [](const dagflow::OpContext& ctx, const Value& value, const Value& path) {
            ++g_writes;
            const fs::path where = path.kind() == dagflow::ValueKind::kPath
                                       ? path.as_path().resolved
                                       : fs::path(path.as_string());
            return ctx.write_file(where, dagflow::to_json(value) + "\n");
          },
          "writes a value as JSON (counting the writes)", {dagflow::output_path_arg("path")})
      .set_writes_files();
  ops.add("fail_on",
          [](std::int64_t x, std::int64_t bad) {
            if (x == bad) throw std::runtime_error("refused " + std::to_string(x));
            return x * 10;
          },
          "x * 10, except for `bad`", {dagflow::arg("bad")});
  ops.add(
      "stall",
      [](std::int64_t x) -> std::int64_t {
        g_stalling = true;
        while (!dagflow::this_task::stop_requested()) std::this_thread::yield();
        throw std::runtime_error("stopped at " + std::to_string(x));
      },
      "waits until its run is stopped");
  return ops;
}

Pipeline load(const fs::path& file, dagflow::LoadOptions options = {}) {
  return Pipeline::load(file, test_ops(), std::move(options));
}

// Each node's id, outcome and item counts: what must be the same on every rank as alone.
std::vector<std::string> node_lines(const PipelineResult& r) {
  std::vector<std::string> lines;
  for (const auto& n : r.nodes) {
    lines.push_back(n.id + " " + std::to_string(static_cast<int>(n.outcome)) + " " +
                    std::to_string(n.items_executed) + " " + std::to_string(n.items_cached));
  }
  return lines;
}

// The counts of PipelineStats that do not depend on time or rank.
std::vector<std::size_t> counts_of(const PipelineResult& r) {
  const dagflow::PipelineStats& s = r.stats;
  return {s.executed, s.cache_hits, s.items_executed, s.items_cached, s.failed, s.not_run};
}

dagflow::ExecutorOptions rank_options(std::shared_ptr<dagflow::Cluster> cluster,
                                      const fs::path& cache_dir = {}) {
  dagflow::ExecutorOptions options;
  options.threads = 1;
  options.cache_dir = cache_dir;
  options.cluster = std::move(cluster);
  return options;
}

// Runs `run(rank, cluster)` on `ranks` ranks; what each returned, by rank.
template <class T>
std::vector<T> on_ranks(
    std::size_t ranks,
    const std::function<T(std::size_t, std::shared_ptr<dagflow::Cluster>)>& run) {
  std::vector<std::optional<T>> got(ranks);
  ThreadCluster cluster(ranks);
  cluster.run([&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
    got[rank] = run(rank, std::move(c));
  });
  std::vector<T> out;
  for (auto& g : got) out.push_back(std::move(g.value()));
  return out;
}

// A pipeline across `ranks` ranks (each with `cache_dir`) against the same pipeline alone (with
// a cache of its own): every rank's outputs, node outcomes and counts are the plain run's.
void check_same_as_alone(const fs::path& file, std::size_t ranks,
                         const dagflow::LoadOptions& load_options = {}) {
  TempDir dir;
  const Pipeline p = load(file, load_options);
  const PipelineResult alone = p.run(rank_options(nullptr, dir.path() / "alone"));
  const std::vector<PipelineResult> results =
      on_ranks<PipelineResult>(ranks, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
        return p.run(rank_options(std::move(c), dir.path() / "ranks"));
      });
  std::size_t items = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    INFO("rank " << r << " of " << ranks);
    CHECK(results[r].outputs == alone.outputs);
    CHECK(node_lines(results[r]) == node_lines(alone));
    CHECK(counts_of(results[r]) == counts_of(alone));
    REQUIRE(results[r].stats.ranks.size() == ranks);
    items += results[0].stats.ranks[r].items_executed;
  }
  // Every rank reports the same per-rank figures, and the map items add up to the plain run's.
  CHECK(items == alone.stats.items_executed);
  CHECK(alone.stats.ranks.empty());
}

}  // namespace

// The bundled examples, with their default params: the same results on 2 and 3 ranks as alone.
TEST_CASE("Pipeline across ranks: the examples give every rank the plain run's results",
          "[pipeline][ranks]") {
  const std::size_t ranks = GENERATE(2, 3);
  const fs::path dir = dagflow::test::example_pipelines_dir();
  SECTION("wordcount") { check_same_as_alone(dir / "wordcount.yaml", ranks); }
  SECTION("csv_rollup") { check_same_as_alone(dir / "csv_rollup.yaml", ranks); }
  SECTION("sum_squares, smaller") {
    check_same_as_alone(dir / "sum_squares.yaml", ranks, {.set = {"n=5000"}});
  }
}

// A map with `reduce` (one map_reduce task, its blocks split across the ranks): every rank gets
// the plain run's value, also for word counts merged by a registry op and for no items.
TEST_CASE("Pipeline across ranks: a map with reduce gives every rank the plain run's result",
          "[pipeline][ranks][reduce]") {
  const std::size_t ranks = GENERATE(2, 3);
  TempDir dir;
  const fs::path file = dir.write("reduce.yaml", R"(name: reduce
nodes:
  xs: {op: range, args: {start: 1, stop: 3001}}
  squares: {op: square, map: xs, reduce: sum}
  none: {op: range, args: {stop: 0}}
  nothing: {op: square, map: none, reduce: sum}
  files: {op: glob, args: {pattern: "texts/*.txt"}}
  counts: {op: word_count, map: files, reduce: merge_counts}
  top: {op: top_k, inputs: [counts], args: {k: 2}}
outputs: [squares, nothing, counts, top]
)");
  for (int i = 0; i < 12; ++i) {
    dir.write("texts/" + std::to_string(i) + ".txt",
              "the cat " + std::to_string(i % 5) + " and the hat " + std::to_string(i) + "\n");
  }
  check_same_as_alone(file, ranks);
  const PipelineResult alone = load(file).run();
  CHECK(alone.outputs.at("squares") == Value(std::int64_t{3000} * 3001 * 6001 / 6));
  CHECK(alone.outputs.at("nothing") == Value(0));
  CHECK(alone.outputs.at("top") ==
        Value(Value::List{Value::List{"the", 24}, Value::List{"and", 12}}));
}

// A streamed file (read_chunks, read by maps only): each rank reads and counts its share of the
// chunks, and every rank gets the plain run's counts and lines.
TEST_CASE("Pipeline across ranks: a streamed file gives every rank the plain run's result",
          "[pipeline][ranks][stream]") {
  const std::size_t ranks = GENERATE(2, 3);
  TempDir dir;
  const fs::path file = dir.write("stream.yaml", R"(name: stream
nodes:
  text: {op: read_chunks, args: {path: text.txt, bytes: 2K}}
  counts: {op: word_count, map: text, reduce: merge_counts}
  lines: {op: read_lines, args: {path: text.txt}}
  each: {op: word_count, map: lines}
outputs: [counts, each]
)");
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "the cat " + std::to_string(i % 37) + " sat\n";
  dir.write("text.txt", text);
  check_same_as_alone(file, ranks);
  const PipelineResult alone = load(file).run();
  CHECK(alone.outputs.at("counts").as_map().at("cat") == Value(3000));
  CHECK(alone.outputs.at("each").as_list().size() == 3000);
}

// sum_squares at its default size (10^6 items): a map and a reduce split across the ranks.
TEST_CASE("Pipeline across ranks: sum_squares at its default size", "[pipeline][ranks][slow]") {
  const std::size_t ranks = GENERATE(2, 3);
  check_same_as_alone(dagflow::test::example_pipelines_dir() / "sum_squares.yaml", ranks);
}

// A writer runs on one rank, once, and its file holds the plain run's bytes; the next run leaves
// it alone, and a deleted file is restored (by rank 0) with the same bytes.
TEST_CASE("Pipeline across ranks: writers write once, as alone", "[pipeline][ranks][writers]") {
  const std::size_t ranks = GENERATE(2, 3);
  TempDir alone_dir;
  TempDir ranks_dir;
  for (const TempDir* d : {&alone_dir, &ranks_dir}) {
    fs::copy(dagflow::test::example_pipelines_dir() / "data", d->path() / "data");
    fs::copy(dagflow::test::example_pipelines_dir() / "csv_report.yaml",
             d->path() / "csv_report.yaml");
    d->write("counted.yaml",
             "name: counted\n"
             "nodes:\n"
             "  files: {op: glob, args: {pattern: \"data/*.csv\"}}\n"
             "  tables: {op: read_csv, map: files}\n"
             "  rows: {op: concat, inputs: [tables]}\n"
             "  summary: {op: rollup, inputs: [rows], args: {key: region, value: amount}}\n"
             "  saved: {op: counted_write, inputs: [summary], args: {path: out/summary.json}}\n");
  }
  const auto run_across = [&](const fs::path& file) {
    const Pipeline p = load(file);
    return on_ranks<PipelineResult>(ranks, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
      return p.run(rank_options(std::move(c), ranks_dir.path() / "cache"));
    });
  };
  const auto run_alone = [&](const fs::path& file) {
    return load(file).run(rank_options(nullptr, alone_dir.path() / "cache"));
  };

  SECTION("csv_report: the same files, the same bytes") {
    const PipelineResult alone = run_alone(alone_dir.path() / "csv_report.yaml");
    const std::vector<PipelineResult> first = run_across(ranks_dir.path() / "csv_report.yaml");
    for (const std::string name : {"out/by_region.json", "out/all_rows.csv"}) {
      INFO(name);
      CHECK(read_file(ranks_dir.path() / name) == read_file(alone_dir.path() / name));
    }
    for (const PipelineResult& r : first) CHECK(node_lines(r) == node_lines(alone));

    // Again: nothing but the probe runs, and the files are left as they were.
    const auto mtime = fs::last_write_time(ranks_dir.path() / "out/by_region.json");
    for (const PipelineResult& r : run_across(ranks_dir.path() / "csv_report.yaml")) {
      CHECK(r.stats.executed == 1);
      CHECK(r.outputs == first.front().outputs);
    }
    CHECK(fs::last_write_time(ranks_dir.path() / "out/by_region.json") == mtime);

    // A deleted report comes back from the cache, byte for byte, on every rank's say-so.
    fs::remove(ranks_dir.path() / "out/by_region.json");
    for (const PipelineResult& r : run_across(ranks_dir.path() / "csv_report.yaml")) {
      CHECK(r.stats.executed == 1);
      for (const auto& n : r.nodes) {
        if (n.id == "summary_json") CHECK(n.outcome == NodeOutcome::kCached);
      }
    }
    CHECK(read_file(ranks_dir.path() / "out/by_region.json") ==
          read_file(alone_dir.path() / "out/by_region.json"));
  }

  SECTION("a counting writer is called once across the ranks") {
    g_writes = 0;
    (void)run_alone(alone_dir.path() / "counted.yaml");
    CHECK(g_writes == 1);
    g_writes = 0;
    const std::vector<PipelineResult> results = run_across(ranks_dir.path() / "counted.yaml");
    CHECK(g_writes == 1);
    CHECK(read_file(ranks_dir.path() / "out/summary.json") ==
          read_file(alone_dir.path() / "out/summary.json"));
    // Deleted, then edited: restored both times by rank 0, never written by the op again.
    fs::remove(ranks_dir.path() / "out/summary.json");
    (void)run_across(ranks_dir.path() / "counted.yaml");
    dagflow::test::write_file(ranks_dir.path() / "out/summary.json", "edited\n");
    (void)run_across(ranks_dir.path() / "counted.yaml");
    CHECK(g_writes == 1);
    CHECK(read_file(ranks_dir.path() / "out/summary.json") ==
          read_file(alone_dir.path() / "out/summary.json"));
  }
}

// The record rank 0 writes is the one a plain run writes: a run alone after a run across ranks
// finds everything cached, and the other way round.
TEST_CASE("Pipeline across ranks: the run record and cache serve the next run, alone or not",
          "[pipeline][ranks][rerun]") {
  TempDir dir;
  fs::copy(dagflow::test::example_pipelines_dir() / "texts", dir.path() / "texts");
  fs::copy(dagflow::test::example_pipelines_dir() / "wordcount.yaml",
           dir.path() / "wordcount.yaml");
  const Pipeline p = load(dir.path() / "wordcount.yaml");
  const fs::path cache = dir.path() / "cache";
  const auto across = [&](std::size_t ranks) {
    return on_ranks<PipelineResult>(ranks, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
      return p.run(rank_options(std::move(c), cache));
    });
  };
  const std::vector<PipelineResult> first = across(2);
  for (const PipelineResult& r : first) CHECK(r.stats.cache_hits == 0);
  const PipelineResult alone = p.run(rank_options(nullptr, cache));
  CHECK(alone.stats.executed == 1);  // the glob
  CHECK(alone.outputs == first.front().outputs);

  // One text edited: its count runs again (one item), the rest is cut off or cached, as alone.
  dagflow::test::write_file(dir.path() / "texts/market.txt", "the end of the market\n");
  const std::vector<PipelineResult> edited = across(3);
  for (const PipelineResult& r : edited) {
    CHECK(r.stats.items_executed == 1);
    CHECK(r.stats.items_cached == 5);
    CHECK(node_lines(r) == node_lines(edited.front()));
  }
  CHECK(across(2).front().stats.executed == 1);
}

// A node that fails gives the same NodeError on every rank (naming the rank it failed on), and
// what finished is recorded for the next run.
TEST_CASE("Pipeline across ranks: a failing node fails every rank alike",
          "[pipeline][ranks][errors]") {
  const std::size_t ranks = GENERATE(2, 3);
  TempDir dir;
  const auto file = dir.write("fails.yaml",
                              "name: fails\n"
                              "params: {bad: 7}\n"
                              "nodes:\n"
                              "  xs: {op: range, args: {stop: 20}}\n"
                              "  tens: {op: fail_on, map: xs, args: {bad: \"${bad}\"}}\n"
                              "  total: {op: sum, inputs: [tens]}\n");
  const Pipeline p = load(file);
  std::string alone;
  try {
    (void)p.run(rank_options(nullptr));
  } catch (const dagflow::NodeError& e) {
    alone = e.what();
  }
  REQUIRE_THAT(alone, Catch::Contains("node 'tens' (op fail_on) failed at item 7: refused 7"));
  const std::vector<std::string> errors =
      on_ranks<std::string>(ranks, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
        try {
          (void)p.run(rank_options(std::move(c), dir.path() / "cache"));
        } catch (const dagflow::NodeError& e) {
          return e.node() + ": " + e.what();
        }
        return std::string("no error");
      });
  for (const std::string& e : errors) {
    CHECK(e == errors.front());
    CHECK_THAT(e, Catch::StartsWith("tens: "));
    CHECK_THAT(e, Catch::Contains("node 'tens' (op fail_on) failed on rank ") &&
                      Catch::EndsWith("at item 7: refused 7"));
  }
  // The range finished and was recorded: fixed, the next run takes it from the cache.
  const Pipeline fixed = load(file, {.set = {"bad=-1"}});
  const std::vector<PipelineResult> again =
      on_ranks<PipelineResult>(ranks, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
        return fixed.run(rank_options(std::move(c), dir.path() / "cache"));
      });
  for (const PipelineResult& r : again) {
    CHECK(r.outputs.at("total").as_int() == 1900);
    CHECK(r.nodes.front().outcome == NodeOutcome::kCached);
  }
}

// With keep_going, every rank throws the same PipelineRunError, with the same outcomes.
// The failure is one node's, or one item's of a map split across the ranks.
TEST_CASE("Pipeline across ranks: keep-going reports the same failures on every rank",
          "[pipeline][ranks][errors]") {
  const bool map = GENERATE(false, true);
  const std::size_t ranks = GENERATE(2, 3);
  TempDir dir;
  const auto file = dir.write("keep.yaml", std::string("name: keep\n"
                                                       "nodes:\n"
                                                       "  a: {op: range, args: {stop: 5}}\n") +
                                               (map ? "  b: {op: fail_on, map: a, args: {bad: 3}}\n"
                                                      "  c: {op: sum, inputs: [b]}\n"
                                                    : "  s: {op: sum, inputs: [a]}\n"
                                                      "  b: {op: fail_on, inputs: [s], args: "
                                                      "{bad: 10}}\n"
                                                      "  c: {op: fail_on, inputs: [b], args: "
                                                      "{bad: -1}}\n") +
                                               "  d: {op: range, args: {stop: 9}}\n"
                                               "  e: {op: sum, inputs: [d]}\n"
                                               "outputs: [c, e]\n");
  const Pipeline p = load(file);
  struct Seen {
    std::vector<std::string> errors;
    std::vector<std::string> nodes;
    std::vector<std::size_t> counts;
  };
  const auto seen_of = [](const dagflow::PipelineRunError& e) {
    Seen s;
    for (const auto& n : e.node_errors()) s.errors.emplace_back(n.what());
    s.nodes = node_lines(e.result());
    s.counts = counts_of(e.result());
    return s;
  };
  Seen alone;
  try {
    (void)p.run({.threads = 1, .keep_going = true});
  } catch (const dagflow::PipelineRunError& e) {
    alone = seen_of(e);
  }
  const std::vector<Seen> seen =
      on_ranks<Seen>(ranks, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
        dagflow::ExecutorOptions options = rank_options(std::move(c));
        options.keep_going = true;
        try {
          (void)p.run(std::move(options));
        } catch (const dagflow::PipelineRunError& e) {
          return seen_of(e);
        }
        return Seen{};
      });
  REQUIRE(alone.errors.size() == 1);
  for (const Seen& s : seen) {
    CHECK(s.nodes == alone.nodes);
    CHECK(s.counts == alone.counts);
    REQUIRE(s.errors.size() == 1);
    CHECK(s.errors == seen.front().errors);
    CHECK_THAT(s.errors.front(), Catch::Contains("node 'b' (op fail_on) failed on rank"));
  }
}

// A CancelToken cancelled on one rank stops the run on every rank: before the run starts, and
// while a node runs.
TEST_CASE("Pipeline across ranks: a cancel on one rank cancels every rank",
          "[pipeline][ranks][cancel]") {
  TempDir dir;
  const auto file = dir.write("cancel.yaml",
                              "name: cancel\n"
                              "nodes:\n"
                              "  files: {op: glob, args: {pattern: \"*.yaml\"}}\n"
                              "  first: {op: range, args: {stop: 3}}\n"
                              "  total: {op: sum, inputs: [first]}\n"
                              "  slow: {op: stall, inputs: [total]}\n"
                              "outputs: [files, slow]\n");
  const Pipeline p = load(file);
  SECTION("cancelled before the run, on rank 1 only") {
    const std::vector<std::string> ends =
        on_ranks<std::string>(3, [&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
          auto token = std::make_shared<dagflow::CancelToken>();
          if (rank == 1) token->cancel();
          try {
            (void)p.run(rank_options(std::move(c)), {.cancel = token});
          } catch (const dagflow::PipelineCancelled& e) {
            return "cancelled, " + std::to_string(e.result().stats.executed) + " executed";
          }
          return std::string("ran");
        });
    CHECK(ends == std::vector<std::string>(3, "cancelled, 0 executed"));
  }
  SECTION("cancelled while a node runs, on rank 0") {
    g_stalling = false;
    const std::vector<std::string> ends =
        on_ranks<std::string>(2, [&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
          auto token = std::make_shared<dagflow::CancelToken>();
          std::thread canceller;
          if (rank == 0) {
            canceller = std::thread([&] {
              while (!g_stalling) std::this_thread::yield();  // on whichever rank it runs
              token->cancel();
            });
          }
          std::string end = "ran";
          try {
            (void)p.run(rank_options(std::move(c), dir.path() / "cache"), {.cancel = token});
          } catch (const dagflow::PipelineCancelled& e) {
            end = "cancelled";
            for (const auto& n : e.result().nodes) {
              end += " " + n.id + "=" + std::to_string(static_cast<int>(n.outcome));
            }
          }
          if (canceller.joinable()) canceller.join();
          return end;
        });
    // files and total executed (1), slow not run (4).
    CHECK(ends == std::vector<std::string>(2, "cancelled files=1 first=1 total=1 slow=4"));
  }
}

// Every rank calls on_node once per node that finished, in the same order, with the same outcome.
TEST_CASE("Pipeline across ranks: on_node tells every rank of every node once",
          "[pipeline][ranks]") {
  const Pipeline p = load(dagflow::test::example_pipelines_dir() / "wordcount.yaml");
  const std::vector<std::vector<std::string>> seen =
      on_ranks<std::vector<std::string>>(3, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
        std::vector<std::string> lines;
        dagflow::RunRequest request;
        request.on_node = [&](const dagflow::NodeRunInfo& n) {
          lines.push_back(n.id + " " + std::to_string(static_cast<int>(n.outcome)));
        };
        (void)p.run(rank_options(std::move(c)), request);
        return lines;
      });
  const std::vector<std::string> expected = {"files 1", "counts 1", "total 1", "top 1"};
  for (const auto& lines : seen) CHECK(lines == expected);
}

// Mistakes found before anything runs fail every rank at once, without waiting for the others:
// an unknown target everywhere, and a cache directory refused on one rank only.
TEST_CASE("Pipeline across ranks: a refused option fails every rank", "[pipeline][ranks][errors]") {
  const Pipeline p = load(dagflow::test::example_pipelines_dir() / "wordcount.yaml");
  SECTION("an unknown target") {
    const std::vector<std::string> errors =
        on_ranks<std::string>(2, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
          try {
            (void)p.run(rank_options(std::move(c)), {.targets = {"tpo"}});
          } catch (const dagflow::PipelineError& e) {
            return std::string(e.what());
          }
          return std::string();
        });
    for (const std::string& e : errors) CHECK_THAT(e, Catch::Contains("'tpo' is not a node"));
  }
  SECTION("a cache directory refused on rank 1 only") {
    TempDir dir;
    fs::create_directory(dir.path() / "open");
    fs::permissions(dir.path() / "open", fs::perms::all);  // world-writable: refused
    const std::vector<std::string> errors =
        on_ranks<std::string>(3, [&](std::size_t rank, std::shared_ptr<dagflow::Cluster> c) {
          const fs::path cache = dir.path() / (rank == 1 ? "open" : "fine");
          try {
            (void)p.run(rank_options(std::move(c), cache));
          } catch (const std::invalid_argument& e) {
            return std::string(e.what());
          }
          return std::string();
        });
    for (const std::string& e : errors) {
      CHECK(e == errors.front());
      CHECK_THAT(e, Catch::StartsWith("rank 1: ") && Catch::Contains("world-writable"));
    }
  }
}

// A dry run across ranks (the probes run across them) plans what a dry run alone plans.
TEST_CASE("Pipeline across ranks: a dry run plans as alone", "[pipeline][ranks]") {
  TempDir dir;
  fs::copy(dagflow::test::example_pipelines_dir() / "texts", dir.path() / "texts");
  fs::copy(dagflow::test::example_pipelines_dir() / "wordcount.yaml",
           dir.path() / "wordcount.yaml");
  const Pipeline p = load(dir.path() / "wordcount.yaml");
  const fs::path cache = dir.path() / "cache";
  (void)p.run(rank_options(nullptr, cache));
  dagflow::test::write_file(dir.path() / "texts/market.txt", "the end\n");
  const PipelineResult alone = p.dry_run(rank_options(nullptr, cache));
  const std::vector<PipelineResult> plans =
      on_ranks<PipelineResult>(2, [&](std::size_t, std::shared_ptr<dagflow::Cluster> c) {
        return p.dry_run(rank_options(std::move(c), cache));
      });
  for (const PipelineResult& r : plans) {
    CHECK(node_lines(r) == node_lines(alone));
    for (std::size_t i = 0; i < r.nodes.size(); ++i)
      CHECK(r.nodes[i].reason == alone.nodes[i].reason);
  }
}
