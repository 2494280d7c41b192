#include <dagflow/nodes/op_registry.hpp>

// The shell op, which runs commands only when the run allows it: argv passed literally (never
// through a shell), the process group killed on timeout, output capped, failures reported, no
// descriptors or processes left behind.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/syscall.h>
#include <sys/types.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/executor.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/graph.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/ops.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using dagflow::OpContext;
using dagflow::Value;
using dagflow::test::call_op;
using dagflow::test::read_file;
using dagflow::test::TempDir;

Value shell(const OpContext& ctx, Value::List argv, Value::Map args = {}) {
  args["argv"] = std::move(argv);
  return call_op("shell", {}, args, ctx);
}

OpContext allowed(const fs::path& dir) { return OpContext{.base_dir = dir, .allow_shell = true}; }

// Whether process `pid` is gone or has exited (a zombie waiting for its new parent), waiting up
// to 10 s for that: SIGKILL is delivered asynchronously. A pidfd becomes readable when the
// process exits, so nothing polls on a timer.
bool is_dead(pid_t pid) {
  // glibc 2.36 declares pidfd_open without C linkage: call the system call itself.
  const auto fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone (reaped)
  pollfd exited{.fd = fd, .events = POLLIN, .revents = 0};
  int ready = 0;
  do {
    ready = ::poll(&exited, 1, 10'000);
  } while (ready < 0 && errno == EINTR);
  ::close(fd);
  return ready == 1;
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++n;
  }
  return n;
}

}  // namespace

// No command runs without --allow-shell, and the op says so in its doc and flags.
TEST_CASE("shell: is refused unless the run allows commands", "[nodes][shell]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  CHECK_THROWS_WITH(shell(ctx, {"touch", "made"}),
                    "the shell op runs commands: running commands is not allowed");
  CHECK_THROWS_AS(shell(ctx, {"touch", "made"}), dagflow::CapabilityError);
  CHECK_FALSE(fs::exists(dir.path() / "made"));
  const dagflow::OpInfo* op = dagflow::test::builtin_ops().find("shell");
  REQUIRE(op != nullptr);
  CHECK(op->runs_commands());
  CHECK(op->has_side_effects());
  CHECK_THAT(op->doc(), Contains("UNSANDBOXED") && Contains("running commands is allowed"));
}

// Shell metacharacters in arguments reach the command as plain text.
TEST_CASE("shell: passes every argument literally, never through a shell", "[nodes][shell]") {
  TempDir dir;
  const Value result = shell(allowed(dir.path()), {"printf", "[%s]\n", "; rm -rf ~", "$(id)",
                                                   "`id`", "a\nb", "*", "$HOME", "'q\" \\"});
  CHECK(result.as_map().at("stdout") ==
        Value("[; rm -rf ~]\n[$(id)]\n[`id`]\n[a\nb]\n[*]\n[$HOME]\n['q\" \\]\n"));
  CHECK(result.as_map().at("exit_code") == Value(0));
  CHECK(result.as_map().at("stderr") == Value(""));
  CHECK(result.as_map().at("stdout_truncated") == Value(false));
  CHECK(result.as_map().at("stderr_truncated") == Value(false));
  const Value echoed = shell(allowed(dir.path()), {"/bin/echo", "; rm -rf ~", "$(id)"});
  CHECK(echoed.as_map().at("stdout") == Value("; rm -rf ~ $(id)\n"));
}

// Commands run where the pipeline is, and can never wait on an inherited terminal.
TEST_CASE("shell: runs in the pipeline directory with stdin empty", "[nodes][shell]") {
  TempDir dir;
  CHECK(shell(allowed(dir.path()), {"pwd"}).as_map().at("stdout") ==
        Value(dir.path().string() + "\n"));
  // cat would wait forever on an inherited terminal; /dev/null ends it at once.
  CHECK(shell(allowed(dir.path()), {"cat"}).as_map().at("stdout") == Value(""));
}

// A command past its timeout is killed with everything it started, even when it closed its
// output.
TEST_CASE("shell: a timeout kills the command's whole process group", "[nodes][shell]") {
  TempDir dir;
  // The shell starts a background sleep (same process group) and waits for it.
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"sh", "-c", "sleep 30 & echo $! > bg.pid; wait"},
                          {{"timeout", 1}}),
                    "command 'sh' timed out after 1 s");
  const std::string pid_text = read_file(dir.path() / "bg.pid");
  REQUIRE_FALSE(pid_text.empty());
  const auto pid = static_cast<pid_t>(std::stol(pid_text));
  CHECK(is_dead(pid));

  // A command that closes its output and keeps running still times out.
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"sh", "-c", "exec >/dev/null 2>&1; sleep 30"},
                          {{"timeout", 0.5}}),
                    "command 'sh' timed out after 0.5 s");
}

// Waits (polling the file system, not the clock) until `file` exists; false after 60 s.
bool appears(const fs::path& file) {
  for (int i = 0; i < 6000 && !fs::exists(file); ++i) ::usleep(10'000);
  return fs::exists(file);
}

// A task asked to stop (its timeout, a cancelled run) kills its command's whole process group
// rather than waiting for it: the shell op polls this_task::stop_requested.
TEST_CASE("shell: a stopped task kills the command's whole process group", "[nodes][shell]") {
  TempDir dir;
  const OpContext ctx = allowed(dir.path());
  const Value::List argv = {"sh", "-c", "sleep 30 & echo $! > bg.pid; touch started; wait"};
  dagflow::Graph g;
  auto task = g.delayed([&ctx, argv] { return shell(ctx, argv); });

  SECTION("its node's timeout") {
    g.set_options(task, {.timeout = std::chrono::milliseconds(300)});
    dagflow::Executor ex({.threads = 2});
    CHECK_THROWS_AS(ex.compute(task), dagflow::TimeoutError);
  }
  SECTION("a cancelled run") {
    dagflow::Executor ex({.threads = 2});
    std::thread canceller([&] {
      if (appears(dir.path() / "started")) ex.cancel();
    });
    CHECK_THROWS_AS(ex.compute(task), dagflow::Cancelled);
    canceller.join();
  }
  const std::string pid_text = read_file(dir.path() / "bg.pid");
  REQUIRE_FALSE(pid_text.empty());
  CHECK(is_dead(static_cast<pid_t>(std::stol(pid_text))));
}

// Background processes a command leaves behind are killed when it exits.
TEST_CASE("shell: leaves no background process of the command running", "[nodes][shell]") {
  TempDir dir;
  const Value result =
      shell(allowed(dir.path()), {"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"});
  const auto pid = static_cast<pid_t>(std::stol(result.as_map().at("stdout").as_string()));
  CHECK(is_dead(pid));
}

// A command's output cannot grow without bound; truncation is reported per stream.
TEST_CASE("shell: caps each output at max_output and says so", "[nodes][shell]") {
  TempDir dir;
  const Value result =
      shell(allowed(dir.path()), {"head", "-c", "300000", "/dev/zero"}, {{"max_output", 1000}});
  CHECK(result.as_map().at("stdout").as_string() == std::string(1000, '\0'));
  CHECK(result.as_map().at("stdout_truncated") == Value(true));
  CHECK(result.as_map().at("stderr_truncated") == Value(false));
  CHECK(result.as_map().at("exit_code") == Value(0));

  const Value both =
      shell(allowed(dir.path()), {"sh", "-c", "echo 123456 >&2; echo abc"}, {{"max_output", 3}});
  CHECK(both.as_map().at("stdout") == Value("abc"));
  CHECK(both.as_map().at("stderr") == Value("123"));
  CHECK(both.as_map().at("stdout_truncated") == Value(true));
  CHECK(both.as_map().at("stderr_truncated") == Value(true));
  CHECK(shell(allowed(dir.path()), {"echo", "x"}, {{"max_output", 0}}).as_map().at("stdout") ==
        Value(""));
}

// Failing commands fail the node with their exit code or signal and first stderr line.
TEST_CASE("shell: a non-zero exit is an error unless check is false", "[nodes][shell][errors]") {
  TempDir dir;
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"false"}), "command 'false' exited with code 1");
  CHECK_THROWS_WITH(
      shell(allowed(dir.path()), {"sh", "-c", "echo 'first line' >&2; echo more >&2; exit 3"}),
      "command 'sh' exited with code 3: first line");
  const Value result =
      shell(allowed(dir.path()), {"sh", "-c", "echo oops >&2; exit 3"}, {{"check", false}});
  CHECK(result.as_map().at("exit_code") == Value(3));
  CHECK(result.as_map().at("stderr") == Value("oops\n"));

  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"sh", "-c", "kill -9 $$"}),
                    StartsWith("command 'sh' was killed by signal 9"));
  CHECK(shell(allowed(dir.path()), {"sh", "-c", "kill -9 $$"}, {{"check", false}})
            .as_map()
            .at("exit_code") == Value(128 + 9));
}

// Commands that cannot run, and bad arguments, are errors that say why.
TEST_CASE("shell: a command that cannot start names itself and the reason",
          "[nodes][shell][errors]") {
  TempDir dir;
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"dagflow-no-such-command"}),
                    "cannot run command 'dagflow-no-such-command': No such file or directory");
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {(dir.path() / "missing").string()}),
                    Contains("No such file or directory"));
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {}), Contains("argv is empty"));
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {std::string("ec\0ho", 5)}), Contains("NUL"));
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"true"}, {{"timeout", 0}}), Contains("timeout"));
  CHECK_THROWS_WITH(shell(allowed(dir.path()), {"true"}, {{"max_output", -1}}),
                    Contains("max_output"));
  CHECK_THROWS_AS(shell(allowed(dir.path()), {"true", 3}), dagflow::ValueError);
}

// Running commands, failing or not, leaves no descriptor open in this process and passes
// none of ours to the command.
TEST_CASE("shell: leaks no descriptors", "[nodes][shell]") {
  TempDir dir;
  const std::size_t before = open_descriptors();
  (void)shell(allowed(dir.path()), {"true"});
  (void)shell(allowed(dir.path()), {"sh", "-c", "echo x; echo y >&2"});
  CHECK_THROWS(shell(allowed(dir.path()), {"dagflow-no-such-command"}));
  CHECK_THROWS(shell(allowed(dir.path()), {"false"}));
  CHECK_THROWS(shell(allowed(dir.path()), {"sleep", "30"}, {{"timeout", 0.2}}));
  CHECK(open_descriptors() == before);
  // The command inherits nothing of ours: only 0-2 and what this process holds without
  // close-on-exec (a test harness may pass some down), plus the directory fd ls itself opens.
  std::set<std::string> inheritable = {"0", "1", "2"};
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    const std::string name = entry.path().filename().string();
    const int flags = ::fcntl(std::stoi(name), F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) inheritable.insert(name);
  }
  const Value listing = shell(allowed(dir.path()), {"ls", "/proc/self/fd"});
  std::istringstream lines(listing.as_map().at("stdout").as_string());
  std::vector<std::string> extra;
  for (std::string fd; std::getline(lines, fd);) {
    if (inheritable.count(fd) == 0) extra.push_back(fd);
  }
  CHECK(extra.size() == 1);
}

namespace {

// shell with `outputs` over `inputs`: its result is the outputs' paths; a failed attempt
// (non-zero exit with check, a timeout) leaves none of them, even partly written ones.
TEST_CASE("shell: declared outputs are its result, and a failure removes them (#16)",
          "[nodes][shell][errors]") {
  TempDir dir;
  const OpContext ctx = allowed(dir.path());
  dir.write("in.txt", "x\n");
  const Value in = Value::path(dir.path() / "in.txt", "in.txt");
  const Value made = call_op("shell", {in},
                             {{"argv", Value::List{"cp", "{input}", "sub/{input}.copy"}},
                              {"outputs", Value::List{"sub/{input}.copy"}}},
                             ctx);
  REQUIRE(made.as_list().size() == 1);
  CHECK(made.as_list()[0].as_path().shown == "sub/in.txt.copy");
  CHECK(read_file(dir.path() / "sub/in.txt.copy") == "x\n");

  const Value::List outputs{"a.txt", "b.txt"};
  CHECK_THROWS_WITH(call_op("shell", {},
                            {{"argv", Value::List{"sh", "-c", "echo part > a.txt; exit 4"}},
                             {"outputs", outputs}},
                            ctx),
                    "command 'sh' exited with code 4");
  CHECK_THROWS_WITH(call_op("shell", {},
                            {{"argv", Value::List{"sh", "-c", "echo part > b.txt; sleep 30"}},
                             {"outputs", outputs},
                             {"timeout", 0.2}},
                            ctx),
                    Contains("timed out"));
  CHECK_FALSE(fs::exists(dir.path() / "a.txt"));
  CHECK_FALSE(fs::exists(dir.path() / "b.txt"));
}

}  // namespace
