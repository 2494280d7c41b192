#include "support/unprivileged.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

namespace dagflow::test {

namespace fs = std::filesystem;

namespace {
const fs::path kSetpriv = DAGFLOW_TEST_SETPRIV_PROGRAM;
}  // namespace

std::string unprivileged_runs_unavailable() {
  if (::geteuid() != 0) return "skipped: needs root to run dagflow as an unprivileged user";
  if (kSetpriv.empty()) return "skipped: needs setpriv (util-linux) to run as another user";
  return {};
}

UnprivilegedDagflow::UnprivilegedDagflow(const fs::path& dir) : bin_(dir / "bin") {
  REQUIRE(unprivileged_runs_unavailable().empty());
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  // The build tree may not be readable by `nobody`: the binary and the libraries it loads from
  // there (dagflow's own, shared in the default build) are copied beside each other.
  const fs::path program = dagflow_program();
  const fs::path build = program.parent_path().parent_path();
  fs::create_directories(bin_);
  fs::copy_file(program, bin_ / "dagflow");
  for (const char* lib : {"util", "graph", "engine", "nodes", "pipeline", "mpi"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(build / lib, ec)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("libdagflow_") && name.find(".so") != std::string::npos) {
        fs::copy(e.path(), bin_ / e.path().filename(), fs::copy_options::copy_symlinks);
      }
    }
  }
}

std::vector<std::string> UnprivilegedDagflow::argv(const std::vector<std::string>& args,
                                                   std::vector<std::string> env) const {
  const std::string id = std::to_string(kUnprivilegedId);
  std::vector<std::string> out = {kSetpriv.string(), "--reuid=" + id, "--regid=" + id,
                                  "--clear-groups",  "/usr/bin/env",  "-i"};
  env.push_back("LD_LIBRARY_PATH=" + bin_.string());
  out.insert(out.end(), env.begin(), env.end());
  out.push_back((bin_ / "dagflow").string());
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

ProcessResult UnprivilegedDagflow::run(const std::vector<std::string>& args,
                                       std::vector<std::string> env, const fs::path& cwd) const {
  ProcessResult result = run_process(argv(args, std::move(env)), cwd);
  show_result(result);
  return result;
}

}  // namespace dagflow::test
