#include <dagflow/util/process.hpp>
// (the header under test first)

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::util::ProcessOptions;
using dagflow::util::ProcessResult;
using dagflow::util::run_process;
using namespace std::chrono_literals;

// Runs `script` with /bin/sh -c.
ProcessResult sh(const std::string& script, ProcessOptions options = {}) {
  options.argv = {"sh", "-c", script};
  return run_process(options);
}

// How many descriptors this process has open.
std::ptrdiff_t open_descriptors() {
  return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator());
}

// Whether process `pid` has ended (a zombie or reaped), waiting up to 5 s for SIGKILL to land.
bool is_gone(int pid) {
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  do {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    // The state follows the command name, which is in parentheses and may hold spaces.
    const std::size_t end = line.rfind(')');
    if (end != std::string::npos && end + 2 < line.size() && line[end + 2] == 'Z') return true;
    std::this_thread::sleep_for(10ms);
  } while (std::chrono::steady_clock::now() < give_up);
  return false;
}

}  // namespace

// stdout and stderr are kept apart, and the exit code comes back as it is.
TEST_CASE("run_process: captures stdout, stderr and the exit code", "[util][process]") {
  const ProcessResult r = sh("echo out; echo err >&2; exit 3");
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(r.exit_code == 3);
  CHECK(r.signal == 0);
  CHECK_FALSE(r.timed_out);
}

// The input arrives whole even when it is larger than a pipe holds while output flows back.
TEST_CASE("run_process: feeds input while it reads output", "[util][process]") {
  const std::string input(1 << 20, 'x');
  const ProcessResult r = run_process({.argv = {"cat"}, .input = input});
  CHECK(r.exit_code == 0);
  CHECK(r.out == input);
  // A program that stops reading is no error of the caller's: its exit status says what happened.
  const ProcessResult early = run_process({.argv = {"true"}, .input = input});
  CHECK(early.exit_code == 0);
  CHECK(run_process({.argv = {"sh", "-c", "test -t 0 || wc -c"}}).out == "0\n");  // /dev/null
}

// Output past the cap is read and dropped: kept up to the cap, flagged, and the program ends.
TEST_CASE("run_process: keeps at most max_output bytes of each stream", "[util][process]") {
  const ProcessResult r =
      sh("head -c 300000 /dev/zero; head -c 10 /dev/zero >&2", {.max_output = 1000});
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 1000);
  CHECK(r.out_truncated);
  CHECK(r.err.size() == 10);
  CHECK_FALSE(r.err_truncated);
}

// A timeout kills the program and, with its own group, what it left running in the background.
TEST_CASE("run_process: a timeout kills the process group", "[util][process]") {
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r =
      sh("echo started; sleep 30 & sleep 30", {.timeout = 300ms, .own_process_group = true});
  CHECK(r.timed_out);
  CHECK(r.out == "started\n");
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  // What it leaves running after it exits goes too: the group is killed once the leader is gone.
  const ProcessResult detached =
      sh("sleep 30 >/dev/null 2>&1 & echo $!", {.timeout = 20s, .own_process_group = true});
  CHECK_FALSE(detached.timed_out);
  CHECK(detached.exit_code == 0);
  CHECK(is_gone(std::stoi(detached.out)));
}

// should_stop ends the program with everything it started, once the program is under way; a
// should_stop that never says so changes nothing.
TEST_CASE("run_process: should_stop kills the process group", "[util][process]") {
  const dagflow::test::TempDir temp;
  const fs::path& dir = temp.path();
  const fs::path marker = dir / "started";
  std::size_t asked = 0;
  const ProcessResult r = sh("sleep 30 & echo $! > '" + (dir / "background").string() +
                                 "'; echo started; touch '" + marker.string() + "'; sleep 30",
                             {.timeout = 60s, .own_process_group = true, .should_stop = [&] {
                                ++asked;
                                return fs::exists(marker);
                              }});
  CHECK(r.stopped);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == -1);
  CHECK(r.signal == 0);
  CHECK(r.out == "started\n");
  CHECK(asked > 0);
  std::ifstream background(dir / "background");
  int pid = 0;
  background >> pid;
  REQUIRE(pid > 0);
  CHECK(is_gone(pid));

  const ProcessResult never = sh("echo hi", {.should_stop = [] { return false; }});
  CHECK_FALSE(never.stopped);
  CHECK(never.exit_code == 0);
  CHECK(never.out == "hi\n");
}

// A signal is reported as the signal, not as an exit code.
TEST_CASE("run_process: reports the signal that ended the program", "[util][process]") {
  const ProcessResult r = sh("kill -TERM $$");
  CHECK(r.signal == SIGTERM);
  CHECK(r.exit_code == -1);
}

// A missing program is a SpawnError with its errno; nothing is left open either way.
TEST_CASE("run_process: a program that cannot start is a SpawnError", "[util][process]") {
  const std::ptrdiff_t before = open_descriptors();
  try {
    (void)run_process({.argv = {"dagflow-no-such-program"}});
    FAIL("started a program that does not exist");
  } catch (const dagflow::util::SpawnError& e) {
    CHECK(e.code().value() == ENOENT);
    CHECK_THAT(e.what(), Catch::StartsWith("cannot start 'dagflow-no-such-program': "));
  }
  CHECK_THROWS_AS(run_process({.argv = {"x"}, .program = "/nonexistent/x"}),
                  dagflow::util::SpawnError);
  CHECK_THROWS_AS(run_process({}), std::invalid_argument);
  (void)sh("true");
  CHECK(open_descriptors() == before);
}

// The working directory and an explicit program file are honoured.
TEST_CASE("run_process: runs in working_dir, the program given", "[util][process]") {
  const ProcessResult r =
      run_process({.argv = {"not-sh", "-c", "pwd"}, .program = "/bin/sh", .working_dir = "/"});
  CHECK(r.out == "/\n");
  CHECK(r.exit_code == 0);
}
