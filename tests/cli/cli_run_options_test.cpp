// `dagflow run` with the nodes' run keys and the run controls, as users see them: retries of a
// flaky command, resource capacities (the file's and --resource), mistakes in the keys (exit 2
// with FILE:LINE:COL), -k printing every failure while independent work is written, --io-threads,
// and Ctrl-C: exit 130, the trace written, "interrupted", the command's process group gone, and
// a re-run that resumes from what finished.
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::test::count_of;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::TempDir;

// Polls (the file system or the process's stderr, never the clock's answer) until `ready`;
// false after about a minute, far beyond what a loaded machine needs.
template <class Ready>
bool eventually(Ready ready) {
  for (int i = 0; i < 6000; ++i) {
    if (ready()) return true;
    ::usleep(10'000);
  }
  return ready();
}

// Whether process `pid` is gone (or a zombie nobody reaps yet).
bool is_gone(int pid) {
  return eventually([pid] {
    const fs::path stat = "/proc/" + std::to_string(pid) + "/stat";
    std::string text;
    try {
      text = read_file(stat);
    } catch (const std::exception&) {
      return true;
    }
    const std::size_t end = text.rfind(')');
    return end != std::string::npos && end + 2 < text.size() && text[end + 2] == 'Z';
  });
}

}  // namespace

// A node with `retries: 2` whose command fails twice then succeeds: the run succeeds on the
// third attempt (the count is kept in a file by the command itself).
TEST_CASE("dagflow run: retries run a failing node again", "[cli][options]") {
  TempDir dir;
  const auto flaky = [&](const std::string& file, int retries) {
    dir.write(file,
              "name: flaky\n"
              "nodes:\n"
              "  flaky:\n"
              "    op: shell\n"
              "    args: {argv: [sh, -c, 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); "
              "echo $n > count; test $n -ge 3']}\n"
              "    retries: " +
                  std::to_string(retries) + "\n    retry_delay: 10ms\n");
  };
  flaky("p.yaml", 2);
  const auto r = run_dagflow({"run", "p.yaml", "--allow-shell", "-q"}, dir.path());
  CHECK(r.exit_code == 0);
  CHECK(read_file(dir.path() / "count") == "3\n");

  // One retry is not enough: the error says how many attempts ran.
  fs::remove(dir.path() / "count");
  flaky("q.yaml", 1);
  const auto once = run_dagflow({"run", "q.yaml", "--allow-shell", "-q"}, dir.path());
  CHECK(once.exit_code == 1);
  CHECK_THAT(once.err, Catch::Contains("q.yaml:3:3: node 'flaky' (op shell) failed after 2 "
                                       "attempts: command 'sh' exited with code 1"));
}

// A node's timeout and the shell op's own one both hold: the shorter ends the command.
TEST_CASE("dagflow run: the shorter of a node's and its command's timeouts applies",
          "[cli][options]") {
  TempDir dir;
  dir.write("p.yaml",
            "name: timeouts\n"
            "nodes:\n"
            "  node_limit: {op: shell, args: {argv: [sleep, '30']}, timeout: 300ms}\n"
            "  op_limit: {op: shell, args: {argv: [sleep, '30'], timeout: 0.3}, timeout: 1h}\n");
  const auto node = run_dagflow({"run", "p.yaml", "node_limit", "--allow-shell", "-q"}, dir.path());
  CHECK(node.exit_code == 1);
  CHECK_THAT(node.err,
             Catch::Contains("p.yaml:3:3: node 'node_limit' (op shell) timed out after 300 ms"));
  const auto op = run_dagflow({"run", "p.yaml", "op_limit", "--allow-shell", "-q"}, dir.path());
  CHECK(op.exit_code == 1);
  CHECK_THAT(op.err, Catch::Contains("node 'op_limit' (op shell) failed: command 'sleep' timed "
                                     "out after 0.3 s"));
}

// Nodes holding `db` never run more at once than its capacity: each command counts the marker
// files of the commands running beside it.
TEST_CASE("dagflow run: resource capacities bound how many nodes run at once", "[cli][options]") {
  TempDir dir;
  std::string text = "name: db\nresources: {db: 1}\nnodes:\n";
  for (int i = 0; i < 6; ++i) {
    text += "  n" + std::to_string(i) +
            ":\n    op: shell\n    resources: {db: 1}\n    args: {argv: [sh, -c, 'touch "
            "running." +
            std::to_string(i) + "; ls running.* | wc -l >> seen; sleep 0.1; rm running." +
            std::to_string(i) + "']}\n";
  }
  dir.write("p.yaml", text);
  const auto max_seen = [&] {
    const std::string seen = read_file(dir.path() / "seen");
    int most = 0;
    for (std::size_t at = 0; at < seen.size();) {
      const std::size_t end = seen.find('\n', at);
      most = std::max(most, std::stoi(seen.substr(at, end - at)));
      at = end + 1;
    }
    fs::remove(dir.path() / "seen");
    return most;
  };
  CHECK(run_dagflow({"run", "p.yaml", "--allow-shell", "-q"}, dir.path()).exit_code == 0);
  CHECK(max_seen() == 1);
  // --resource replaces the file's capacity.
  CHECK(run_dagflow(
            {"run", "p.yaml", "--allow-shell", "-q", "--resource", "db=2", "--io-threads", "4"},
            dir.path())
            .exit_code == 0);
  CHECK(max_seen() <= 2);
}

// Mistakes in the run keys are found before anything runs: exit 2, FILE:LINE:COL first, every
// one at once; --resource declares what the file does not.
TEST_CASE("dagflow run: bad run keys exit 2 with their position", "[cli][options][errors]") {
  TempDir dir;
  dir.write("p.yaml",
            "name: bad\n"
            "nodes:\n"
            "  a: {op: range, args: {stop: 3}, timeout: 30}\n"
            "  b: {op: range, args: {stop: 3}, retries: -1, resources: {db: 1}}\n");
  for (const char* command : {"run", "validate"}) {
    INFO(command);
    const auto r = run_dagflow({command, "p.yaml"}, dir.path());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("p.yaml:3:44: 'timeout' of node 'a': a duration needs a "
                                        "unit (ms, s, min or h, as in 30s or 100ms), got 30\n"));
    CHECK_THAT(r.err, Catch::Contains("p.yaml:4:44: 'retries' of node 'b' cannot be negative"));
    CHECK_THAT(r.err, Catch::Contains("p.yaml:4:60: node 'b' needs resource 'db', which is not "
                                      "declared"));
  }
  CHECK_FALSE(fs::exists(dir.path() / ".dagflow"));

  dir.write("ok.yaml",
            "name: ok\n"
            "resources: {db: 1}\n"
            "nodes:\n"
            "  a: {op: range, args: {stop: 3}, timeout: 30s, resources: {db: 2, gpu: 1}}\n");
  const auto over = run_dagflow({"validate", "ok.yaml"}, dir.path());
  CHECK(over.exit_code == 2);
  CHECK_THAT(over.err, Catch::Contains("ok.yaml:4:65: node 'a' needs 2 units of resource 'db', "
                                       "more than its capacity of 1"));
  CHECK_THAT(over.err, Catch::Contains("needs resource 'gpu', which is not declared"));
  const auto declared = run_dagflow(
      {"run", "ok.yaml", "-q", "--resource", "db=2", "--resource", "gpu=1"}, dir.path());
  CHECK(declared.exit_code == 0);
  CHECK(declared.out == "a: [0,1,2]\n");
  for (const char* bad : {"db=-1", "db", "=2", "db=two"}) {
    INFO(bad);
    const auto r = run_dagflow({"validate", "ok.yaml", "--resource", bad}, dir.path());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--resource"));
  }
  CHECK(run_dagflow({"run", "ok.yaml", "--io-threads", "-1"}, dir.path()).exit_code == 2);
}

// With -k every failure is printed (each naming its node) and the summary, and what does not
// depend on a failure is done: its file is written. Without -k, the first failure stops it.
TEST_CASE("dagflow run: -k reports every failure and writes what it could", "[cli][options]") {
  TempDir dir;
  dir.write("p.yaml",
            "name: keep\n"
            "nodes:\n"
            "  a: {op: shell, args: {argv: [sh, -c, 'exit 3']}}\n"
            "  b: {op: shell, args: {argv: [sh, -c, 'exit 4']}}\n"
            "  numbers: {op: range, args: {stop: 3}}\n"
            "  saved: {op: write_json, inputs: [numbers], args: {path: out.json}}\n"
            "  total: {op: sum, inputs: [numbers]}\n");
  const auto r = run_dagflow(
      {"run", "p.yaml", "--allow-shell", "-k", "--io-threads", "2", "--stats-json", "s.json"},
      dir.path());
  CHECK(r.exit_code == 1);
  CHECK(count_of(r.err, "dagflow: error: ") == 2);
  CHECK_THAT(r.err, Catch::Contains("dagflow: error: p.yaml:3:3: node 'a' (op shell) failed: "
                                    "command 'sh' exited with code 3"));
  CHECK_THAT(r.err, Catch::Contains("dagflow: error: p.yaml:4:3: node 'b' (op shell) failed: "
                                    "command 'sh' exited with code 4"));
  CHECK_THAT(r.err, Catch::Contains("keep: 5 nodes, 3 executed, 0 cached, 2 failed"));
  CHECK(from_json(read_file(dir.path() / "out.json")) ==
        dagflow::Value(dagflow::Value::List{0, 1, 2}));
  const dagflow::Value stats = from_json(read_file(dir.path() / "s.json"));
  CHECK(stats.as_map().at("failed") == dagflow::Value(2));

  fs::remove(dir.path() / "out.json");
  const auto first = run_dagflow({"run", "p.yaml", "--allow-shell", "--no-cache"}, dir.path());
  CHECK(first.exit_code == 1);
  CHECK(count_of(first.err, "dagflow: error: ") == 1);
}

// Ctrl-C cancels the run: exit 130, "interrupted" with what finished, the trace and stats
// written, the running command's whole process group killed; the next run takes what finished
// from the cache.
TEST_CASE("dagflow run: SIGINT cancels the run, and the next run resumes", "[cli][options]") {
  TempDir dir;
  dir.write("p.yaml",
            "name: slow\n"
            "nodes:\n"
            "  numbers: {op: range, args: {stop: 4}}\n"
            "  saved: {op: write_json, inputs: [numbers], args: {path: out.json}}\n"
            "  slow:\n"
            "    op: shell\n"
            "    args: {argv: [sh, -c, 'test -f fast && exit 0; sleep 30 & echo $! > bg.pid; "
            "touch started; wait']}\n");
  auto running = dagflow::test::start_dagflow(
      {"run", "p.yaml", "--allow-shell", "-v", "--trace", "trace.json", "--stats-json", "s.json"},
      dir.path());
  // The writer has finished (its line is printed) and the command runs.
  REQUIRE(eventually([&] {
    return fs::exists(dir.path() / "started") &&
           running.err_so_far().find("ran         saved (write_json)") != std::string::npos;
  }));
  REQUIRE(::kill(running.pid(), SIGINT) == 0);
  const auto r = dagflow::test::show_result(running.wait());
  CHECK(r.exit_code == 130);
  CHECK_THAT(r.err, Catch::Contains("dagflow: interrupted: 2 of 3 needed nodes finished"));
  CHECK_THAT(r.err, Catch::Contains("not finished: slow"));
  CHECK_NOTHROW(from_json(read_file(dir.path() / "trace.json")));
  const dagflow::Value stats = from_json(read_file(dir.path() / "s.json"));
  CHECK(stats.as_map().at("not_run") == dagflow::Value(1));
  CHECK(is_gone(std::stoi(read_file(dir.path() / "bg.pid"))));

  dir.write("fast", "");
  const auto again = run_dagflow({"run", "p.yaml", "--allow-shell", "-v"}, dir.path());
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.err, Catch::Contains("cached      saved (write_json)"));
}
