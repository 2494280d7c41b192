#include <dagflow/nodes/op_registry.hpp>

// The file ops (glob, read_text, read_json, write_json, write_text) and OpContext's path rules:
// no op writes outside the pipeline's directory unless the run allows it, whatever path or
// symlink it is given.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/ops.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using dagflow::OpContext;
using dagflow::Value;
using dagflow::test::call_op;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using dagflow::test::write_file;

std::vector<std::string> shown_paths(const Value& paths) {
  std::vector<std::string> shown;
  for (const Value& p : paths.as_list()) shown.push_back(p.as_path().shown);
  return shown;
}

// The paths glob finds for `pattern` in `ctx`, as shown.
std::vector<std::string> globbed(const OpContext& ctx, const std::string& pattern) {
  return shown_paths(call_op("glob", {}, {{"pattern", pattern}}, ctx));
}

// The message of what output_path throws for `path`, or "(no error)".
std::string refusal(const OpContext& ctx, const fs::path& path) {
  return thrown_message<dagflow::Error>([&] { (void)ctx.output_path(path); });
}

// A tree for glob: texts/{a,b}.txt, c.md, sub/d.txt, sub/deep/e.txt, hidden files and dirs.
void make_tree(const fs::path& root) {
  for (const char* name :
       {"texts/b.txt", "texts/a.txt", "texts/c.md", "texts/sub/d.txt", "texts/sub/deep/e.txt",
        "texts/.hidden.txt", "texts/.git/f.txt", "other/x.txt"}) {
    write_file(root / name, name);
  }
}

// The name of a temp file whose writer has died: a child that exits at once, reaped.
std::string dead_writers_temp_name() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return ".dagflow-tmp-" + std::to_string(child) + "-0";
}

}  // namespace

// ---- glob ------------------------------------------------------------------------------------

// glob's wildcards match within one path component, results are sorted and shown relative to
// the pipeline directory, and hidden names need an explicit dot.
TEST_CASE("glob: matches *, ? and [..] within one directory, sorted, shown relative",
          "[nodes][file-ops]") {
  TempDir dir;
  make_tree(dir.path());
  const OpContext ctx{.base_dir = dir.path()};
  const Value txt = call_op("glob", {}, {{"pattern", "texts/*.txt"}}, ctx);
  CHECK(shown_paths(txt) == std::vector<std::string>{"texts/a.txt", "texts/b.txt"});
  CHECK(txt.as_list()[0].as_path().resolved == dir.path() / "texts" / "a.txt");
  CHECK(txt.as_list()[0].as_path().resolved.is_absolute());

  CHECK(globbed(ctx, "texts/?.md") == std::vector<std::string>{"texts/c.md"});
  CHECK(globbed(ctx, "texts/[bc].*") == std::vector<std::string>{"texts/b.txt", "texts/c.md"});
  // Directories are not files; hidden names need an explicit dot.
  CHECK(globbed(ctx, "texts/*") ==
        std::vector<std::string>{"texts/a.txt", "texts/b.txt", "texts/c.md"});
  CHECK(globbed(ctx, "texts/.*.txt") == std::vector<std::string>{"texts/.hidden.txt"});
  CHECK(globbed(ctx, "*/x.txt") == std::vector<std::string>{"other/x.txt"});
  CHECK(globbed(ctx, "texts/a.txt") == std::vector<std::string>{"texts/a.txt"});
}

// ** descends through every directory level but not into hidden directories.
TEST_CASE("glob: ** matches any number of directories and skips hidden ones", "[nodes][file-ops]") {
  TempDir dir;
  make_tree(dir.path());
  const OpContext ctx{.base_dir = dir.path()};
  CHECK(globbed(ctx, "texts/**/*.txt") == std::vector<std::string>{"texts/a.txt", "texts/b.txt",
                                                                   "texts/sub/d.txt",
                                                                   "texts/sub/deep/e.txt"});
  CHECK(globbed(ctx, "**/e.txt") == std::vector<std::string>{"texts/sub/deep/e.txt"});
  CHECK(globbed(ctx, "texts/**") == std::vector<std::string>{"texts/a.txt", "texts/b.txt",
                                                             "texts/c.md", "texts/sub/d.txt",
                                                             "texts/sub/deep/e.txt"});
  CHECK(globbed(ctx, "texts/**/deep/*") == std::vector<std::string>{"texts/sub/deep/e.txt"});
  // ** twice finds each file once.
  CHECK(globbed(ctx, "**/**/d.txt") == std::vector<std::string>{"texts/sub/d.txt"});
}

// A symlink loop cannot make glob recurse forever; no match is an error naming the pattern and
// where it was searched (a typo must not flow on as an empty list), unless allow_empty.
TEST_CASE("glob: survives a symlink loop, and no match fails unless allow_empty",
          "[nodes][file-ops]") {
  TempDir dir;
  make_tree(dir.path());
  fs::create_directory_symlink(dir.path() / "texts", dir.path() / "texts" / "sub" / "loop");
  const OpContext ctx{.base_dir = dir.path()};
  CHECK(globbed(ctx, "texts/**/d.txt") == std::vector<std::string>{"texts/sub/d.txt"});
  // A named symlinked directory is followed.
  CHECK(globbed(ctx, "texts/sub/loop/*.md") == std::vector<std::string>{"texts/sub/loop/c.md"});
  CHECK_THROWS_WITH(call_op("glob", {}, {{"pattern", "texts/*.csv"}}, ctx),
                    Contains("glob 'texts/*.csv' matched no file") &&
                        Contains(dir.path().string()) && Contains("allow_empty: true"));
  CHECK_THROWS_WITH(call_op("glob", {}, {{"pattern", "missing/**/*.txt"}}, ctx),
                    Contains("matched no file"));
  CHECK(call_op("glob", {}, {{"pattern", "texts/*.csv"}, {"allow_empty", true}}, ctx) ==
        Value(Value::List{}));
  CHECK(call_op("glob", {}, {{"pattern", "missing/**/*.txt"}, {"allow_empty", true}}, ctx) ==
        Value(Value::List{}));
  CHECK_THROWS_WITH(call_op("glob", {}, {{"pattern", ""}}, ctx), Contains("empty"));
}

// Many ** over a deep tree: each (directory, component) is walked once, so this takes
// milliseconds (it was exponential in the number of **: minutes for six).
TEST_CASE("glob: many ** over a deep tree stay polynomial", "[nodes][file-ops]") {
  TempDir dir;
  fs::path deep = dir.path() / "h";
  for (int level = 0; level < 12; ++level) {
    deep /= "d" + std::to_string(level);
    fs::create_directories(deep / "side");
    std::ofstream(deep / ("f" + std::to_string(level) + ".txt")) << "x";
  }
  const OpContext ctx{.base_dir = dir.path()};
  const std::vector<std::string> found = globbed(ctx, "h/**/**/**/**/**/**/*.txt");
  CHECK(found.size() == 12);  // each file once
  CHECK(globbed(ctx, "h/**/**/**") == found);
}

// Reading may leave the pipeline directory: absolute and .. patterns are shown as written.
TEST_CASE("glob: takes absolute patterns and .. as written", "[nodes][file-ops]") {
  TempDir dir;
  make_tree(dir.path());
  const std::string absolute = (dir.path() / "texts" / "*.md").string();
  const Value found = call_op("glob", {}, {{"pattern", absolute}}, OpContext{.base_dir = "/"});
  CHECK(shown_paths(found) == std::vector<std::string>{(dir.path() / "texts" / "c.md").string()});
  const OpContext in_texts{.base_dir = dir.path() / "texts"};
  const Value up = call_op("glob", {}, {{"pattern", "../other/*.txt"}}, in_texts);
  CHECK(shown_paths(up) == std::vector<std::string>{"../other/x.txt"});
  CHECK(up.as_list()[0].as_path().resolved == dir.path() / "other" / "x.txt");
}

// The paths glob returns are accepted by the ops that read files.
TEST_CASE("glob: results feed read_text and word_count", "[nodes][file-ops]") {
  TempDir dir;
  write_file(dir.path() / "in" / "a.txt", "one two two");
  const OpContext ctx{.base_dir = dir.path()};
  const Value files = call_op("glob", {}, {{"pattern", "in/*.txt"}}, ctx);
  REQUIRE(files.as_list().size() == 1);
  CHECK(call_op("read_text", {files.as_list()[0]}, {}, ctx) == Value("one two two"));
  CHECK(call_op("word_count", {files.as_list()[0]}, {}, ctx) ==
        Value(Value::Map{{"one", 1}, {"two", 2}}));
}

// ---- JSON and text files ---------------------------------------------------------------------

// write_json's file is the pretty JSON of the value, written through a temp file, and
// read_json returns the same value.
TEST_CASE("write_json: writes pretty JSON atomically and read_json reads it back",
          "[nodes][file-ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  const Value v = Value::Map{{"k", 3}, {"words", Value::List{"a", "b"}}, {"x", 1.5}};
  const Value written = call_op("write_json", {v}, {{"path", "out/deeper/r.json"}}, ctx);
  CHECK(written.as_path().shown == "out/deeper/r.json");
  CHECK(written.as_path().resolved == dir.path() / "out" / "deeper" / "r.json");
  CHECK(read_file(dir.path() / "out" / "deeper" / "r.json") ==
        dagflow::to_json(v, dagflow::JsonStyle::kPretty) + "\n");
  CHECK(call_op("read_json", {written}, {}, ctx) == v);
  CHECK(call_op("read_json", {"out/deeper/r.json"}, {}, ctx) == v);
  // Overwriting leaves no temp file behind.
  call_op("write_json", {Value(1)}, {{"path", "out/deeper/r.json"}}, ctx);
  CHECK(read_file(dir.path() / "out" / "deeper" / "r.json") == "1\n");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path() / "out" / "deeper")) {
    names.push_back(e.path().filename().string());
  }
  CHECK(names == std::vector<std::string>{"r.json"});

  write_file(dir.path() / "bad.json", "{\"a\": [1, }");
  CHECK_THROWS_WITH(call_op("read_json", {"bad.json"}, {}, ctx),
                    Contains("cannot parse 'bad.json'") && Contains("json:1:"));
  CHECK_THROWS_WITH(call_op("read_json", {"none.json"}, {}, ctx),
                    "cannot read 'none.json': No such file or directory");
}

// A temp file a killed run left beside the outputs is removed by the next write there; one of a
// writer still alive (here, pid 1) stays.
TEST_CASE("write_text: removes the temp files of dead writers beside its output",
          "[nodes][file-ops]") {
  TempDir dir;
  const std::string stale = dead_writers_temp_name();
  fs::create_directory(dir.path() / "out");
  std::ofstream(dir.path() / "out" / stale) << "half a file";
  std::ofstream(dir.path() / "out" / ".dagflow-tmp-1-0") << "someone else's";
  const OpContext ctx{.base_dir = dir.path()};
  call_op("write_text", {"x"}, {{"path", "out/t.txt"}}, ctx);
  CHECK(read_file(dir.path() / "out" / "t.txt") == "x");
  CHECK_FALSE(fs::exists(dir.path() / "out" / stale));
  CHECK(fs::exists(dir.path() / "out" / ".dagflow-tmp-1-0"));
}

// A directory is swept once per process, but one removed and made again (often with the same
// inode) is another directory: it is swept again.
TEST_CASE("write_text: sweeps a directory made again at the same path", "[nodes][file-ops]") {
  TempDir dir;
  const std::string stale = dead_writers_temp_name();
  const OpContext ctx{.base_dir = dir.path()};
  for (int round = 0; round < 3; ++round) {
    fs::remove_all(dir.path() / "out");
    fs::create_directory(dir.path() / "out");
    std::ofstream(dir.path() / "out" / stale) << "half a file";
    call_op("write_text", {"x"}, {{"path", "out/t.txt"}}, ctx);
    CHECK_FALSE(fs::exists(dir.path() / "out" / stale));
  }
}

// write_text adds nothing to the string and refuses a path that names a directory.
TEST_CASE("write_text: writes the string as it is", "[nodes][file-ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  const std::string text("no newline at the end\0!", 23);
  const Value written = call_op("write_text", {text}, {{"path", "t.txt"}}, ctx);
  CHECK(read_file(dir.path() / "t.txt") == text);
  CHECK(call_op("read_text", {written}, {}, ctx) == Value(text));
  // A path Value as the destination (what the loader passes) works too.
  call_op("write_text", {"x"}, {{"path", Value::path(dir.path() / "p.txt", "p.txt")}}, ctx);
  CHECK(read_file(dir.path() / "p.txt") == "x");
  fs::create_directory(dir.path() / "adir");
  CHECK_THROWS_WITH(call_op("write_text", {"x"}, {{"path", "adir"}}, ctx),
                    Contains("cannot write 'adir'"));
  CHECK_THROWS_WITH(call_op("write_text", {"x"}, {{"path", "adir/"}}, ctx),
                    Contains("cannot write 'adir/'"));
}

// A symlink planted at an output path cannot redirect a write outside the pipeline directory.
TEST_CASE(
    "write_text: a symlink at the target is refused when it points out, replaced when dangling",
    "[nodes][file-ops]") {
  TempDir dir;
  TempDir outside;
  write_file(outside.path() / "victim.txt", "precious");
  fs::create_symlink(outside.path() / "victim.txt", dir.path() / "out.txt");
  const OpContext ctx{.base_dir = dir.path()};
  CHECK_THROWS_WITH(call_op("write_text", {"new"}, {{"path", "out.txt"}}, ctx),
                    Contains("outside the pipeline directory"));
  CHECK(read_file(outside.path() / "victim.txt") == "precious");

  // A dangling link resolves to itself (nothing exists behind it): the write replaces the link
  // and never creates the file it names.
  fs::create_symlink(outside.path() / "created.txt", dir.path() / "dangling.txt");
  call_op("write_text", {"new"}, {{"path", "dangling.txt"}}, ctx);
  CHECK_FALSE(fs::exists(outside.path() / "created.txt"));
  CHECK_FALSE(fs::is_symlink(dir.path() / "dangling.txt"));
  CHECK(read_file(dir.path() / "dangling.txt") == "new");
}

// ---- OpContext paths --------------------------------------------------------------------------

// Relative input paths mean the same thing wherever dagflow is run from.
TEST_CASE("OpContext: input_path resolves relative paths against the pipeline directory",
          "[nodes][file-ops][paths]") {
  const OpContext ctx{.base_dir = "/data/pipe"};
  CHECK(ctx.input_path("texts/a.txt") == fs::path("/data/pipe/texts/a.txt"));
  CHECK(ctx.input_path("./x/../b.txt") == fs::path("/data/pipe/b.txt"));
  CHECK(ctx.input_path("../shared/c.txt") == fs::path("/data/shared/c.txt"));
  CHECK(ctx.input_path("/etc/hosts") == fs::path("/etc/hosts"));
}

// No op writes outside the pipeline directory unless allowed: .., absolute paths, symlinked
// directories, NULs and overlong paths are all refused with a message.
TEST_CASE("OpContext: output_path refuses every way out of the pipeline directory",
          "[nodes][file-ops][paths]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "root";
  fs::create_directories(root / "sub");
  fs::create_directories(tmp.path() / "root2");  // a sibling sharing the root's name as prefix
  fs::create_directories(tmp.path() / "outside");
  fs::create_directory_symlink(tmp.path() / "outside", root / "escape");
  fs::create_directory_symlink(root / "sub", root / "inner");
  const OpContext ctx{.base_dir = root};

  CHECK(refusal(ctx, "../x") == "output path '../x' is outside the pipeline directory " +
                                    root.string() +
                                    ": writing outside the pipeline's directory is not allowed");
  // Which capability was refused is on the error, for a front end to say how to allow it.
  try {
    (void)ctx.output_path("../x");
    FAIL("accepted a path outside");
  } catch (const dagflow::CapabilityError& e) {
    CHECK(e.refused() == dagflow::Capability::kWriteOutside);
  }
  CHECK_THAT(refusal(ctx, "/etc/passwd"), Contains("outside the pipeline directory"));
  CHECK_THAT(refusal(ctx, "a/../../x"), Contains("outside the pipeline directory"));
  CHECK_THAT(refusal(ctx, "sub/../../root2/x"), Contains("outside the pipeline directory"));
  CHECK_THAT(refusal(ctx, root.string() + "2/x"), Contains("outside the pipeline directory"));
  CHECK_THAT(refusal(ctx, "escape/x.json"), Contains("outside the pipeline directory"));
  CHECK_THAT(refusal(ctx, "escape/new/dir/x.json"), Contains("outside the pipeline directory"));
  CHECK_THAT(refusal(ctx, std::string("a\0b", 3)), Contains("NUL"));
  CHECK_THAT(refusal(ctx, std::string(4096, 'a')), Contains("too long"));
  CHECK_THAT(refusal(ctx, "d/" + std::string(4094, 'a')), Contains("too long"));
  CHECK_THAT(refusal(ctx, ""), Contains("empty"));

  // Inside: relative, absolute, not yet existing, through a symlink that stays inside.
  CHECK(ctx.output_path("out.json") == root / "out.json");
  CHECK(ctx.output_path("new/deeper/out.json") == root / "new" / "deeper" / "out.json");
  CHECK(ctx.output_path("sub/../out.json") == root / "out.json");
  CHECK(ctx.output_path(root / "sub" / "x") == root / "sub" / "x");
  CHECK(ctx.output_path("inner/x") == root / "sub" / "x");
  CHECK(ctx.output_path(".") == root);
}

// --allow-outside lifts the directory rule only; malformed paths stay refused.
TEST_CASE("OpContext: allow_outside lets output paths leave the directory, but not malformed ones",
          "[nodes][file-ops][paths]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "root";
  fs::create_directories(root);
  fs::create_directories(tmp.path() / "outside");
  fs::create_directory_symlink(tmp.path() / "outside", root / "escape");
  const OpContext ctx{.base_dir = root, .allow_outside = true};
  CHECK(ctx.output_path("../x") == tmp.path() / "x");
  CHECK(ctx.output_path("escape/y") == tmp.path() / "outside" / "y");
  CHECK_THAT(refusal(ctx, std::string("a\0b", 3)), Contains("NUL"));
  CHECK_THAT(refusal(ctx, std::string(4096, 'a')), Contains("too long"));

  call_op("write_text", {"out"}, {{"path", "escape/new/y.txt"}}, ctx);
  CHECK(read_file(tmp.path() / "outside" / "new" / "y.txt") == "out");
}

// The write ops check their paths as output_path does, including symlinks swapped in below
// the pipeline directory.
TEST_CASE("write_text: refuses outside paths and symlinked subdirectories",
          "[nodes][file-ops][paths]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "root";
  fs::create_directories(root);
  fs::create_directories(tmp.path() / "outside");
  fs::create_directory_symlink(tmp.path() / "outside", root / "escape");
  const OpContext ctx{.base_dir = root};
  CHECK_THROWS_WITH(call_op("write_json", {Value(1)}, {{"path", "escape/x.json"}}, ctx),
                    Contains("outside the pipeline directory"));
  CHECK_THROWS_WITH(
      call_op("write_text", {"x"}, {{"path", "../x.txt"}}, ctx),
      Contains("writing outside the pipeline's directory is not allowed") && !Contains("--allow"));
  CHECK_THROWS_WITH(call_op("write_text", {"x"}, {{"path", "/etc/passwd"}}, ctx),
                    Contains("outside the pipeline directory"));
  CHECK(fs::is_empty(tmp.path() / "outside"));
  CHECK_FALSE(fs::exists(tmp.path() / "x.txt"));
}
