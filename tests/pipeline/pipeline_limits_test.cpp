#include <dagflow/pipeline/pipeline.hpp>

// Tests of the loader against hostile input: deep nesting, the
// inputs that make yaml-cpp's LoadAll run away, files that are not files or are too large,
// alias bombs, and encodings, through load_pipeline_spec as the CLI calls it. Each must end in a
// PipelineError with a position, quickly, on the calling thread or any thread with a normal stack.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "hostile_yaml.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::PipelineError;
using dagflow::PipelineSpec;
using dagflow::Value;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;

const dagflow::OpRegistry& test_ops() {
  static const dagflow::OpRegistry ops = [] {
    dagflow::OpRegistry r;
    r.add("constant", [](const Value& v) { return v; }, "its argument", {dagflow::arg("value")});
    r.add(
        "twice",
        [](const Value& v) {
          return Value::List{v, v};
        },
        "a pair of its input");
    return r;
  }();
  return ops;
}

constexpr std::string_view kValid =
    "name: small\n"
    "nodes:\n"
    "  a: {op: constant, args: {value: 1}}\n"
    "  b: {op: twice, inputs: [a]}\n";

// what() of the PipelineError parsing `text` throws, or "(no error)".
std::string parse_error(std::string_view text) {
  return thrown_message<PipelineError>(
      [&] { (void)dagflow::parse_pipeline_spec(text, "p.yaml", test_ops()); });
}

// what() of the PipelineError loading the file at `file` throws, or "(no error)".
std::string load_error(const fs::path& file) {
  return thrown_message<PipelineError>(
      [&] { (void)dagflow::load_pipeline_spec(file, test_ops()); });
}

// parse_error run on a new std::thread (a default, 8 MiB stack).
std::string parse_error_on_thread(const std::string& text) {
  std::string result;
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      result = parse_error(text);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
  return result;
}

// The read-ahead guard's refusal, and an item count three times its limit of 2^17 indicators.
constexpr std::size_t kGuardItems = 3 * 131072;
std::string guard_message() {
  return "the YAML parser would hold too much in memory to read on from here (over 131072 "
         "brackets, commas and other indicators before the next node ends): write long [...] or "
         "{...} collections in block style or as the value of a key";
}

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

}  // namespace

// Deep nesting of every kind ends in a PipelineError naming where, never a stack overflow, on
// the calling thread or a new std::thread.
TEST_CASE("load_pipeline_spec: deep nesting is refused with a position, on this thread or another",
          "[pipeline][limits]") {
  // yaml-cpp's own guard stops at ~250 '[' with a "bad file"; ours stops at 65 levels first,
  // naming where. Parsing happens on the calling thread: a std::thread's stack is big enough, a
  // TBB worker's small one is not, so the loader is never called from a task.
  const std::string brackets(100'000, '[');
  const std::string braces = repeat("{a: ", 100'000);
  const std::string block = repeat("- ", 3000) + "x\n";
  std::string indented;  // 300 levels, far beyond the limit
  for (std::size_t level = 0; level < 300; ++level) indented += std::string(2 * level, ' ') + "-\n";

  // yaml-cpp reads unclosed '[' as keys of implicit single-pair mappings: two levels each.
  CHECK(parse_error(brackets) == "p.yaml:1:33: nesting deeper than 64 levels");
  // 100 000 '{a: ' reach the read-ahead guard first (see the tests below).
  CHECK(parse_error(braces).find("p.yaml:1:1: the YAML parser would hold too much in memory") == 0);
  CHECK(parse_error(block) == "p.yaml:1:129: nesting deeper than 64 levels");
  CHECK(parse_error(indented) == "p.yaml:65:129: nesting deeper than 64 levels");

  CHECK(parse_error_on_thread(brackets) == "p.yaml:1:33: nesting deeper than 64 levels");
  CHECK(parse_error_on_thread(braces).find("p.yaml:1:1: the YAML parser would hold too much") == 0);
  CHECK(parse_error_on_thread(repeat("{a: ", 1000)) ==
        "p.yaml:1:253: nesting deeper than 64 levels");
  CHECK(parse_error_on_thread(block) == "p.yaml:1:129: nesting deeper than 64 levels");
  CHECK(parse_error_on_thread(indented) == "p.yaml:65:129: nesting deeper than 64 levels");
}

// yaml-cpp holds every token of a flow collection that starts where a key could, until its end,
// before any event: 16 MiB of "[1,1,1,..." took 2.3 GB and 20 s (measured). The read-ahead guard
// stops it after 2^17 indicators, with the position of the last node read. Three times that many
// items show it: without the guard each input would be read to its end and fail otherwise. (Each
// input costs yaml-cpp 2^17 tokens, so the shapes are spread over three cases.)

// Long flow sequences where a key could start, at the top level or in a block list, stop early.
TEST_CASE("load_pipeline_spec: long flow sequences where a key could start are refused early",
          "[pipeline][limits][slow]") {
  CHECK(parse_error("[" + repeat("1,", kGuardItems)) == "p.yaml:1:1: " + guard_message());
  CHECK(parse_error("[" + repeat("1,\n", kGuardItems) + "]") == "p.yaml:1:1: " + guard_message());
  CHECK(parse_error("name: x\nnodes:\n  - [" + repeat("1,", kGuardItems) + "]\n") ==
        "p.yaml:3:3: " + guard_message());
}

// Long flow mappings and runs of explicit keys stop early too.
TEST_CASE("load_pipeline_spec: long flow mappings and explicit keys are refused early",
          "[pipeline][limits]") {
  CHECK(parse_error("{" + repeat("a: 1, ", kGuardItems / 2) + "}") ==
        "p.yaml:1:1: " + guard_message());
  CHECK(parse_error("[" + repeat("? ", kGuardItems)) == "p.yaml:1:1: " + guard_message());
}

// As the value of a key a flow collection streams, so the guard leaves it alone; below the
// guard's size one is fine where a key could start.
TEST_CASE("load_pipeline_spec: a long flow collection as the value of a key streams",
          "[pipeline][limits]") {
  // Read to its end, up to the duplicate key after it (the node budget, tested with read_yaml,
  // bounds such lists).
  CHECK(parse_error("name: x\nlist: [" + repeat("1,", 131072 + 10'000) + "]\nlist: 2\n") ==
        "p.yaml:3:1: duplicate key 'list' (first at line 2)");
  CHECK(parse_error("[" + repeat("1,", 50'000) + "]") ==
        "p.yaml:1:1: expected a mapping with 'name' and 'nodes' at the top level, got a list");
}

// The nesting limit counts from the document root: a value 60 levels deep inside args is read
// whole, one level more is refused.
TEST_CASE("load_pipeline_spec: nesting within the limit inside args is accepted",
          "[pipeline][limits]") {
  // name > nodes > a > args > value: 4 levels used, 60 left for the value.
  const std::string value = std::string(60, '[') + "1" + std::string(60, ']');
  const PipelineSpec spec = dagflow::parse_pipeline_spec(
      "name: deep\nnodes:\n  a: {op: constant, args: {value: " + value + "}}\n", "p.yaml",
      test_ops());
  const Value* v = &spec.nodes[0].args.at("value");
  int depth = 0;
  while (v->kind() == dagflow::ValueKind::kList) {
    v = &v->as_list().at(0);
    ++depth;
  }
  CHECK(depth == 60);
  CHECK(*v == Value(1));
  CHECK(parse_error(
            "name: deep\nnodes:\n  a: {op: constant, args: {value: " + std::string(61, '[') + "1" +
            std::string(61, ']') + "}}\n") == "p.yaml:3:95: nesting deeper than 64 levels");
}

// Inputs known to make yaml-cpp's LoadAll loop or crash end in an ordinary PipelineError with
// a position.
TEST_CASE(
    "load_pipeline_spec: inputs that make yaml-cpp's LoadAll run away are clean syntax errors",
    "[pipeline][limits]") {
  CHECK(parse_error(",") == "p.yaml:1:1: YAML syntax error: unexpected ','");
  CHECK(parse_error(" ,") == "p.yaml:1:2: YAML syntax error: unexpected ','");
  CHECK(parse_error(",a") == "p.yaml:1:1: YAML syntax error: unexpected ','");
  CHECK(parse_error("name: x\n,\n") == "p.yaml:2:1: YAML syntax error: end of map not found");
  CHECK(parse_error("name: x\nnodes: ,\n") ==
        "p.yaml:2:8: YAML syntax error: end of map not found");
  // Other inputs known to trigger yaml-cpp bugs.
  CHECK(parse_error("[[:") == "p.yaml:1:3: YAML syntax error: unknown token");
  CHECK(parse_error("{!\xdb:") == "p.yaml:1:3: invalid UTF-8 (byte 0x3a after 0xdb)");
  CHECK(parse_error("!2") ==
        "p.yaml:1:1: the pipeline is empty (expected a mapping with 'name' and 'nodes')");
  CHECK(parse_error(std::string(kValid) + "---\nname: second\n") ==
        "p.yaml:5:1: multiple documents are not supported (a second document starts here)");
}

// Directories, FIFOs, devices and symlinks to them are refused without reading, so loading can
// never block or read forever.
TEST_CASE("load_pipeline_spec: what is not a regular file is refused before it is read",
          "[pipeline][limits]") {
  const TempDir dir;
  CHECK(load_error(dir.path()) == dir.path().string() + ": not a regular file (a directory)");

  const fs::path fifo = dir.path() / "pipe.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer ever opens the FIFO: reading it would block forever.
  CHECK(load_error(fifo) == fifo.string() + ": not a regular file (a FIFO)");

  CHECK(load_error("/dev/zero") == "/dev/zero: not a regular file (a character device)");
  CHECK(load_error("/dev/null") == "/dev/null: not a regular file (a character device)");

  const fs::path link = dir.path() / "link.yaml";
  fs::create_symlink(fifo, link);
  CHECK(load_error(link) == link.string() + ": not a regular file (a FIFO)");

  const fs::path missing = dir.path() / "missing.yaml";
  CHECK(load_error(missing) == missing.string() + ": cannot open: No such file or directory");
  CHECK(load_error("") == "<pipeline>: cannot open: No such file or directory");
}

// The size limit is checked before reading, and a file of exactly kMaxPipelineBytes loads.
TEST_CASE(
    "load_pipeline_spec: a file over 16 MiB is refused before it is read, one at the limit is read",
    "[pipeline][limits][slow]") {
  const TempDir dir;
  const fs::path big = dir.path() / "big.yaml";
  dir.write("big.yaml", "");
  fs::resize_file(big, std::uintmax_t{17} << 20);  // sparse: no 17 MiB written
  CHECK(load_error(big) == big.string() + ": file is 17.0 MiB, over the 16 MiB limit");
  fs::resize_file(big, dagflow::kMaxPipelineBytes + 1);
  CHECK(load_error(big) == big.string() + ": file is 16.0 MiB, over the 16 MiB limit");

  // Exactly the limit: read and parsed (a valid pipeline padded with a comment).
  std::string text = std::string(kValid) + "#";
  text.resize(dagflow::kMaxPipelineBytes, 'x');
  const fs::path at_limit = dir.write("limit.yaml", text);
  REQUIRE(fs::file_size(at_limit) == dagflow::kMaxPipelineBytes);
  CHECK(dagflow::load_pipeline_spec(at_limit, test_ops()).nodes.size() == 2);
}

// Anchors are refused where they first appear, so an alias bomb costs nothing to reject.
TEST_CASE("load_pipeline_spec: alias bombs are refused at the first anchor", "[pipeline][limits]") {
  const std::string laughs = "name: lol\n" + dagflow::test::alias_bomb();
  CHECK(parse_error(laughs) ==
        "p.yaml:2:4: anchors and aliases are not supported (found '&a'): write the value out in "
        "full");
  CHECK(parse_error("&s [ *s ]") ==
        "p.yaml:1:1: anchors and aliases are not supported (found '&s'): write the value out in "
        "full");
  CHECK(parse_error("name: x\nnodes:\n  a: {op: constant, args: {value: &v [*v]}}\n") ==
        "p.yaml:3:35: anchors and aliases are not supported (found '&v'): write the value out in "
        "full");
}

// Params expand within the file's own limit: a 1 MB param used 256 times is refused (it held
// gigabytes of copies before), whole or spliced into strings, with or without --set; used a few
// times it is fine.
TEST_CASE("load_pipeline_spec: params expand within the limit of a pipeline file",
          "[pipeline][limits]") {
  const std::string big(std::size_t{1} << 20, 'x');
  std::string whole = "name: big\nparams:\n  p: " + big + "\nnodes:\n";
  std::string spliced = "name: big\nparams:\n  p: small\nnodes:\n";
  for (int i = 0; i < 256; ++i) {
    const std::string id = "  n" + std::to_string(i);
    whole += id + ": {op: constant, args: {value: \"${p}\"}}\n";
    spliced += id + ": {op: constant, args: {value: \"a ${p} b\"}}\n";
  }
  CHECK_THAT(parse_error(whole), Catch::Contains("params substituted the pipeline is over the 16 "
                                                 "MiB limit"));
  const dagflow::LoadOptions set_big{.set = {"p=" + big}};
  const std::string from_set = thrown_message<PipelineError>(
      [&] { (void)dagflow::parse_pipeline_spec(spliced, "p.yaml", test_ops(), set_big); });
  CHECK_THAT(from_set, Catch::StartsWith("p.yaml:") && Catch::Contains("over the 16 MiB limit"));
  CHECK(parse_error(spliced) == "(no error)");
  const PipelineSpec few =
      dagflow::parse_pipeline_spec("name: few\nparams:\n  p: " + big +
                                       "\nnodes:\n  a: {op: constant, args: {value: \"${p}\"}}\n",
                                   "p.yaml", test_ops());
  CHECK(few.nodes.size() == 1);
}

// A loaded file's directory is the base for relative paths, and errors start with its name.
TEST_CASE("load_pipeline_spec: reads a file, with its directory as base and its name in messages",
          "[pipeline][limits]") {
  const TempDir dir;
  const fs::path file = dir.write("small.yaml", kValid);
  const PipelineSpec spec = dagflow::load_pipeline_spec(file, test_ops());
  CHECK(spec.name == "small");
  CHECK(spec.file == file.string());
  CHECK(spec.base_dir == dir.path());
  CHECK(spec.nodes.size() == 2);
  CHECK(spec.outputs == std::vector<std::string>{"b"});

  const fs::path bad = dir.write("bad.yaml", "name: x\nnodes:\n  a: {op: nope}\n");
  CHECK(load_error(bad) == bad.string() + ":3:11: unknown op 'nope'");
  const fs::path empty = dir.write("empty.yaml", "");
  CHECK(load_error(empty) == empty.string() + ": empty file");
  // A symlink to a regular file is fine.
  const fs::path link = dir.path() / "link.yaml";
  fs::create_symlink(file, link);
  CHECK(dagflow::load_pipeline_spec(link, test_ops()).name == "small");
}

// Encodings are handled the same in a file as in text: a BOM and CRLF are fine, NUL bytes and
// invalid UTF-8 are refused at their position.
TEST_CASE("load_pipeline_spec: a file may hold a BOM, CRLF and tabs, not NUL or invalid UTF-8",
          "[pipeline][limits]") {
  const TempDir dir;
  const fs::path bom = dir.write("bom.yaml", "\xEF\xBB\xBF" + std::string(kValid));
  CHECK(dagflow::load_pipeline_spec(bom, test_ops()).name == "small");

  const fs::path crlf =
      dir.write("crlf.yaml",
                "name: crlf\r\nnodes:\r\n  a: {op: constant, args: {value: 1}}\r\n  b: {op: "
                "twice, inputs: [zz]}\r\n");
  CHECK(load_error(crlf) == crlf.string() + ":4:27: unknown node 'zz' in 'inputs' of node 'b'");

  const fs::path tab = dir.write("tab.yaml", "name: x\nnodes:\n\ta: {op: constant}\n");
  CHECK(load_error(tab) ==
        tab.string() +
            ":3:3: YAML syntax error: illegal map value (line 3 is indented with a "
            "tab: YAML indents with spaces only)");

  using namespace std::string_literals;
  const fs::path nul = dir.write("nul.yaml", "name: x\nnodes:\0\n"s);
  CHECK(load_error(nul) == nul.string() +
                               ":2:7: NUL byte: a YAML file is text (is this a binary "
                               "file?)");
  const fs::path latin1 = dir.write("latin1.yaml", "name: caf\xe9\n");
  CHECK(load_error(latin1) == latin1.string() + ":1:10: invalid UTF-8 (byte 0x0a after 0xe9)");
}

// The loader accepts a real pipeline against the real built-in ops.
TEST_CASE("load_pipeline_spec: loads the wordcount pipeline with the built-in ops",
          "[pipeline][limits]") {
  const TempDir dir;
  const fs::path file = dir.write("wordcount.yaml",
                                  "name: wordcount\n"
                                  "params: {dir: texts, k: 3}\n"
                                  "nodes:\n"
                                  "  files: {op: glob, args: {pattern: \"${dir}/*.txt\"}}\n"
                                  "  counts: {op: word_count, map: files}\n"
                                  "  total: {op: merge_counts, inputs: [counts]}\n"
                                  "  top: {op: top_k, inputs: [total], args: {k: \"${k}\"}}\n"
                                  "outputs: [top]\n");
  const PipelineSpec spec =
      dagflow::load_pipeline_spec(file, dagflow::OpRegistry::builtins(), {.set = {"k=5"}});
  REQUIRE(spec.nodes.size() == 4);
  CHECK(spec.nodes[0].id == "files");
  CHECK(spec.nodes[3].args.at("k") == Value(5));
  CHECK(spec.outputs == std::vector<std::string>{"top"});
}
