#include <dagflow/pipeline/pipeline.hpp>

// Tests of the pipeline loader: a valid pipeline becomes the expected spec, and every mistake of
// the format is a PipelineError with its message and position; paths and commands are checked
// before anything runs, and the environment is never read. A small registry of its own keeps
// the tests independent of the built-in ops.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::LoadOptions;
using dagflow::NodeSpec;
using dagflow::OpRegistry;
using dagflow::PipelineError;
using dagflow::PipelineSpec;
using dagflow::Value;
using dagflow::ValueKind;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using Counts = std::map<std::string, std::int64_t>;

// Ops with the signatures of the wordcount pipeline's, and a few to exercise the argument rules.
// The bodies never run here.
const OpRegistry& test_ops() {
  static const OpRegistry ops = [] {
    OpRegistry r;
    r.add("glob", [](const std::string& pattern) { return std::vector<std::string>{pattern}; },
          "files matching a pattern", {dagflow::arg("pattern")})
        .set_probe();
    r.add(
        "word_count",
        [](const std::string& text) {
          return Counts{{text, 1}};
        },
        "words in a text");
    r.add(
        "merge_counts",
        [](const std::vector<Counts>& all) { return all.empty() ? Counts{} : all[0]; },
        "sums counts");
    r.add("top_k",
          [](const Counts& counts, std::int64_t k) {
            return counts.size() + static_cast<std::size_t>(k);
          },
          "the k most frequent", {dagflow::arg("k", 10)});
    r.add("read_text", [](const fs::path& file) { return file.string(); }, "reads a file",
          {dagflow::arg("file")});
    r.add("read_all", [](const std::vector<fs::path>& files) { return files.size(); },
          "reads files", {dagflow::arg("files")});
    r.add("save",
          [](const Value& v, const fs::path& out) { return v.is_null() ? out.string() : ""; },
          "writes a value", {dagflow::output_path_arg("out")})
        .set_side_effects();
    r.add("shell", [](const std::vector<std::string>& argv) { return argv.size(); },
          "runs a command", {dagflow::arg("argv")})
        .set_runs_commands();
    r.add("constant", [](const Value& v) { return v; }, "its argument", {dagflow::arg("value")});
    r.add("scale", [](double x, double by, bool round) { return round ? x * by : x; }, "x times by",
          {dagflow::arg("by", 2.0), dagflow::arg("round", false)});
    r.add(
        "pair",
        [](const Value& a, const Value& b) {
          return Value::List{a, b};
        },
        "two inputs");
    r.add("label", [](std::string text, std::string prefix) { return prefix + text; }, "prefixes",
          {dagflow::arg("prefix", "")});
    return r;
  }();
  return ops;
}

PipelineSpec parse(std::string_view text, const LoadOptions& options = {},
                   const fs::path& file = "p.yaml") {
  return dagflow::parse_pipeline_spec(text, file, test_ops(), options);
}

// what() of the PipelineError loading `text` throws, or "(no error)".
std::string load_error(std::string_view text, const LoadOptions& options = {},
                       const fs::path& file = "p.yaml") {
  return thrown_message<PipelineError>([&] { (void)parse(text, options, file); });
}

const NodeSpec& node(const PipelineSpec& spec, std::string_view id) {
  for (const NodeSpec& n : spec.nodes) {
    if (n.id == id) return n;
  }
  FAIL("no node " << id);
  throw;  // unreachable
}

std::vector<std::string> ids(const PipelineSpec& spec) {
  std::vector<std::string> out;
  for (const NodeSpec& n : spec.nodes) out.push_back(n.id);
  return out;
}

constexpr std::string_view kWordcount =
    "name: wordcount                  # required\n"                                  // 1
    "params:                          # optional\n"                                  // 2
    "  dir: texts\n"                                                                 // 3
    "  k: 3\n"                                                                       // 4
    "nodes:                           # required: a mapping from node id to node\n"  // 5
    "  files:\n"                                                                     // 6
    "    op: glob                     # required: a registered op\n"                 // 7
    "    args: {pattern: \"${dir}/*.txt\"}   # ${NAME} substitutes a param\n"        // 8
    "  counts:\n"                                                                    // 9
    "    op: word_count\n"                                                           // 10
    "    map: files                   # apply the op to each element of 'files'\n"   // 11
    "  total:\n"                                                                     // 12
    "    op: merge_counts\n"                                                         // 13
    "    inputs: [counts]             # positional inputs: ids of other nodes\n"     // 14
    "  top:\n"                                                                       // 15
    "    op: top_k\n"                                                                // 16
    "    inputs: [total]\n"                                                          // 17
    "    args: {k: \"${k}\"}\n"                                                      // 18
    "outputs: [top]                   # what `dagflow run --json` prints\n";         // 19

}  // namespace

// The documented example pipeline becomes exactly the expected PipelineSpec, positions included.
TEST_CASE("parse_pipeline_spec: the wordcount pipeline loads into the expected spec",
          "[pipeline][loader]") {
  const TempDir dir;
  const PipelineSpec spec = parse(kWordcount, {}, dir.path() / "wordcount.yaml");
  CHECK(spec.name == "wordcount");
  CHECK(spec.file == (dir.path() / "wordcount.yaml").string());
  CHECK(spec.base_dir == dir.path());
  CHECK(spec.params == Value::Map{{"dir", "texts"}, {"k", 3}});
  REQUIRE(ids(spec) == std::vector<std::string>{"files", "counts", "total", "top"});

  const NodeSpec& files = spec.nodes[0];
  CHECK(files.op == "glob");
  CHECK(files.args == Value::Map{{"pattern", "texts/*.txt"}});
  CHECK(files.inputs.empty());
  CHECK(files.map.empty());
  CHECK(files.cache);
  CHECK(files.mark.line == 6);
  CHECK(files.mark.column == 3);

  const NodeSpec& counts = spec.nodes[1];
  CHECK(counts.op == "word_count");
  CHECK(counts.map == "files");
  CHECK(counts.inputs.empty());
  CHECK(counts.args.empty());
  CHECK(counts.mark.line == 9);

  const NodeSpec& total = spec.nodes[2];
  CHECK(total.op == "merge_counts");
  CHECK(total.inputs == std::vector<std::string>{"counts"});
  CHECK(total.mark.line == 12);

  const NodeSpec& top = spec.nodes[3];
  CHECK(top.op == "top_k");
  CHECK(top.inputs == std::vector<std::string>{"total"});
  CHECK(top.args == Value::Map{{"k", 3}});  // "${k}" kept the param's type
  CHECK(top.args.at("k").kind() == ValueKind::kInt);
  CHECK(top.mark.line == 15);

  CHECK(spec.outputs == std::vector<std::string>{"top"});
}

// Node order is deterministic: a topological order that keeps file order where it can.
TEST_CASE(
    "parse_pipeline_spec: nodes come out dependencies first, in file order where there is a choice",
    "[pipeline][loader]") {
  const PipelineSpec spec = parse(
      "name: order\n"
      "nodes:\n"
      "  z: {op: pair, inputs: [b, a]}\n"
      "  b: {op: word_count, inputs: [c]}\n"
      "  a: {op: constant, args: {value: 1}}\n"
      "  c: {op: constant, args: {value: 2}}\n"
      "  d: {op: constant, args: {value: 3}}\n");
  CHECK(ids(spec) == std::vector<std::string>{"a", "c", "b", "z", "d"});
  // Default outputs: the nodes nothing consumes, in file order.
  CHECK(spec.outputs == std::vector<std::string>{"z", "d"});
}

// Optional node fields are read, omitted arguments get their defaults, and the format version
// 1 is accepted.
TEST_CASE("parse_pipeline_spec: reads doc and cache, fills in argument defaults, accepts version 1",
          "[pipeline][loader]") {
  const PipelineSpec spec = parse(
      "version: 1\n"
      "name: fields\n"
      "nodes:\n"
      "  n: {op: constant, args: {value: [1, two, {three: 3.5}]}, doc: the answer, cache: false}\n"
      "  s:\n"
      "    op: scale\n"
      "    inputs: [n]\n"
      "    args: {by: 3}\n");
  const NodeSpec& n = node(spec, "n");
  CHECK(n.doc == "the answer");
  CHECK_FALSE(n.cache);
  CHECK(n.args.at("value") == Value(Value::List{1, "two", Value::Map{{"three", 3.5}}}));
  const NodeSpec& s = node(spec, "s");
  CHECK(s.cache);
  CHECK(s.args == Value::Map{{"by", 3}, {"round", false}});
  CHECK(s.args.at("by").kind() == ValueKind::kInt);  // an int is a number: accepted as it is
}

// Error messages look like a compiler's, so editors can jump to them.
TEST_CASE("PipelineError: what() is FILE:LINE:COL: message, or FILE: message",
          "[pipeline][loader][errors]") {
  const PipelineError at("w.yaml", {3, 7}, "bad thing");
  CHECK(std::string(at.what()) == "w.yaml:3:7: bad thing");
  CHECK(at.file() == "w.yaml");
  CHECK(at.mark().line == 3);
  CHECK(at.mark().column == 7);
  CHECK(at.message() == "bad thing");
  CHECK(std::string(PipelineError("w.yaml", {}, "no position").what()) == "w.yaml: no position");
  CHECK(std::string(PipelineError("w.yaml", {4, 0}, "a line").what()) == "w.yaml:4: a line");
  const dagflow::Error& base = at;  // catchable as every dagflow failure
  CHECK(std::string(base.what()) == "w.yaml:3:7: bad thing");
}

// A document that is not a mapping at the top level is refused with what it is instead.
TEST_CASE("parse_pipeline_spec: an empty or non-mapping document is refused",
          "[pipeline][loader][errors]") {
  CHECK(load_error("") == "p.yaml: empty file");
  CHECK(load_error("\xEF\xBB\xBF") == "p.yaml: empty file");
  CHECK(load_error("# nothing\n\n") ==
        "p.yaml: the pipeline is empty (expected a mapping with 'name' and 'nodes')");
  CHECK(load_error("---\n") ==
        "p.yaml:2:1: the pipeline is empty (expected a mapping with 'name' and 'nodes')");
  CHECK(load_error("- a\n- b\n") ==
        "p.yaml:1:1: expected a mapping with 'name' and 'nodes' at the top level, got a list");
  CHECK(load_error("just text\n") ==
        "p.yaml:1:1: expected a mapping with 'name' and 'nodes' at the top level, got a string");
  CHECK(load_error("42") ==
        "p.yaml:1:1: expected a mapping with 'name' and 'nodes' at the top level, got an int");
}

// Every mistake in the top-level keys is named, with a suggestion for a typo.
TEST_CASE("parse_pipeline_spec: top-level keys missing, unknown or of the wrong type are refused",
          "[pipeline][loader][errors]") {
  CHECK(load_error("nodes: {a: {op: constant, args: {value: 1}}}\n") ==
        "p.yaml:1:1: missing 'name' (the pipeline's name)");
  CHECK(load_error("name: x\n") == "p.yaml:1:1: missing 'nodes' (a mapping from node id to node)");
  CHECK(load_error("name: x\nnode:\n  a: {op: constant}\n") ==
        "p.yaml:2:1: unknown top-level key 'node' (did you mean 'nodes'?)");
  // Each mistake is reported, the missing 'nodes' too, except where it is the typo just named.
  CHECK(load_error("name: x\nparam: {}\n") ==
        "p.yaml:2:1: unknown top-level key 'param' (did you mean 'params'?)\n"
        "p.yaml:1:1: missing 'nodes' (a mapping from node id to node)");
  CHECK(load_error("name: x\nzzz: 1\n") ==
        "p.yaml:2:1: unknown top-level key 'zzz' (the keys are: name, params, nodes, outputs, "
        "version, resources, plugins)\n"
        "p.yaml:1:1: missing 'nodes' (a mapping from node id to node)");
  CHECK(load_error("nme: x\nnodes: {a: {op: constant, args: {value: 1}}}\n") ==
        "p.yaml:1:1: unknown top-level key 'nme' (did you mean 'name'?)");
  CHECK(load_error("name: ''\nnodes: {}\n") ==
        "p.yaml:1:7: 'name' is empty\n"
        "p.yaml:2:8: 'nodes' is empty: a pipeline needs at least one node");
  CHECK(load_error("name:\nnodes: {a: {op: constant, args: {value: 1}}}\n") ==
        "p.yaml:1:1: 'name' is empty");
  CHECK(load_error("name: [a]\n") ==
        "p.yaml:1:7: 'name' must be a string, got a list\n"
        "p.yaml:1:1: missing 'nodes' (a mapping from node id to node)");
  CHECK(load_error("name: x\nnodes:\n") ==
        "p.yaml:2:1: 'nodes' is empty: a pipeline needs at least one node");
  CHECK(load_error("name: x\nnodes: {}\n") ==
        "p.yaml:2:8: 'nodes' is empty: a pipeline needs at least one node");
  CHECK(load_error("name: x\nnodes: [a, b]\n") ==
        "p.yaml:2:8: 'nodes' must be a mapping from node id to node, got a list");
  CHECK(load_error("name: x\nparams: [1]\n") ==
        "p.yaml:2:9: 'params' must be a mapping from param name to value, got a list");
  const std::string nodes = "nodes: {a: {op: constant, args: {value: 1}}}\n";
  CHECK(load_error("version: 2\nname: x\n" + nodes) ==
        "p.yaml:1:10: unsupported version '2' (this dagflow reads version 1)");
  CHECK(load_error("version: '1'\nname: x\n" + nodes) ==
        "p.yaml:1:10: unsupported version '1' (this dagflow reads version 1)");
}

// Node ids must be valid names and unique; a duplicate names both lines.
TEST_CASE("parse_pipeline_spec: invalid and duplicate node ids are refused",
          "[pipeline][loader][errors]") {
  CHECK(load_error("name: x\nnodes:\n  a: {op: constant, args: {value: 1}}\n  b: {op: constant, "
                   "args: {value: 1}}\n  a: {op: constant, args: {value: 2}}\n") ==
        "p.yaml:5:3: duplicate key 'a' (first at line 3)");
  CHECK(load_error("name: x\nnodes:\n  1a: {op: constant, args: {value: 1}}\n") ==
        "p.yaml:3:3: invalid node id '1a' (letters, digits, '_' and '-', starting with a letter "
        "or '_')");
  CHECK(load_error("name: x\nnodes:\n  'a b': {op: constant, args: {value: 1}}\n") ==
        "p.yaml:3:3: invalid node id 'a b' (letters, digits, '_' and '-', starting with a letter "
        "or '_')");
  CHECK(load_error("name: x\nname: y\n") == "p.yaml:2:1: duplicate key 'name' (first at line 1)");
  // Valid ids: letters, digits, '_' and '-'.
  CHECK(parse("name: x\nnodes:\n  _a-1: {op: constant, args: {value: 1}}\n").nodes[0].id == "_a-1");
}

// Every mistake in a node's keys and op is named at its position, with a suggestion for a typo.
TEST_CASE(
    "parse_pipeline_spec: node keys and ops missing, unknown or of the wrong type are refused",
    "[pipeline][loader][errors]") {
  CHECK(load_error("name: x\nnodes:\n  a: 5\n") ==
        "p.yaml:3:6: node 'a' must be a mapping with an 'op', got an int");
  CHECK(load_error("name: x\nnodes:\n  a:\n") ==
        "p.yaml:3:3: node 'a' must be a mapping with an 'op', got null");
  CHECK(load_error("name: x\nnodes:\n  a: {args: {value: 1}}\n") ==
        "p.yaml:3:3: node 'a' has no 'op'");
  CHECK(load_error("name: x\nnodes:\n  a: {op: word_cnt}\n") ==
        "p.yaml:3:11: unknown op 'word_cnt' (did you mean 'word_count'?)");
  CHECK(load_error("name: x\nnodes:\n  a: {op: frobnicate}\n") ==
        "p.yaml:3:11: unknown op 'frobnicate'");
  CHECK(load_error("name: x\nnodes:\n  a: {op: [glob]}\n") ==
        "p.yaml:3:11: 'op' must be a string, got a list");
  CHECK(load_error("name: x\nnodes:\n  a:\n    op: constant\n    input: [b]\n") ==
        "p.yaml:5:5: unknown key 'input' in node 'a' (did you mean 'inputs'?)\n"
        "p.yaml:3:3: node 'a' (op 'constant') needs argument 'value'");
  CHECK(load_error("name: x\nnodes:\n  a:\n    op: pair\n    colour: red\n") ==
        "p.yaml:5:5: unknown key 'colour' in node 'a' (the keys are: op, inputs, map, reduce, "
        "args, doc, cache, io, resources, retries, retry_delay, timeout)\n"
        "p.yaml:3:3: op 'pair' takes 2 inputs, node 'a' gives 0");
  CHECK(load_error("name: x\nnodes:\n  a: {op: constant, args: {value: 1}, cache: maybe}\n") ==
        "p.yaml:3:46: 'cache' of node 'a' must be true or false, got a string");
  CHECK(load_error("name: x\nnodes:\n  a: {op: constant, args: {value: 1}, cache: 'true'}\n") ==
        "p.yaml:3:46: 'cache' of node 'a' must be true or false, got a string");
  CHECK(load_error("name: x\nnodes:\n  a: {op: constant, args: {value: 1}, doc: [x]}\n") ==
        "p.yaml:3:44: 'doc' of node 'a' must be a string, got a list");
  CHECK(load_error("name: x\nnodes:\n  a: {op: constant, args: [1]}\n") ==
        "p.yaml:3:27: 'args' of node 'a' must be a mapping from argument name to value, got a "
        "list");
}

// inputs and map must name other existing nodes, as many as the op takes.
TEST_CASE("parse_pipeline_spec: bad inputs and map are refused", "[pipeline][loader][errors]") {
  const std::string head = "name: x\nnodes:\n  counts: {op: constant, args: {value: 1}}\n";
  CHECK(load_error(head + "  b: {op: word_count, inputs: 5}\n") ==
        "p.yaml:4:31: expected a list of node ids for 'inputs' of node 'b', got an int");
  CHECK(load_error(head + "  b: {op: word_count, inputs: counts}\n") ==
        "p.yaml:4:31: expected a list of node ids for 'inputs' of node 'b', got a string");
  CHECK(load_error(head + "  b: {op: word_count, inputs: [[counts]]}\n") ==
        "p.yaml:4:32: expected a node id in 'inputs' of node 'b', got a list");
  CHECK(load_error(head + "  b: {op: word_count, inputs: [count]}\n") ==
        "p.yaml:4:32: unknown node 'count' in 'inputs' of node 'b' (did you mean 'counts'?)");
  CHECK(load_error(head + "  b: {op: word_count, map: count}\n") ==
        "p.yaml:4:28: unknown node 'count' in 'map' of node 'b' (did you mean 'counts'?)");
  CHECK(load_error(head + "  b: {op: word_count, inputs: [zzz]}\n") ==
        "p.yaml:4:32: unknown node 'zzz' in 'inputs' of node 'b'");
  CHECK(load_error(head + "  b: {op: word_count, map: [counts]}\n") ==
        "p.yaml:4:28: expected one node id for 'map' of node 'b', got a list");
  CHECK(load_error(head + "  b: {op: word_count, inputs: [b]}\n") ==
        "p.yaml:4:32: node 'b' uses itself as an input (in 'inputs')");
  CHECK(load_error(head + "  b: {op: word_count, map: b}\n") ==
        "p.yaml:4:28: node 'b' uses itself as an input (in 'map')");
  CHECK(load_error(head + "  b: {op: word_count, inputs: [counts, counts]}\n") ==
        "p.yaml:4:23: op 'word_count' takes 1 input, node 'b' gives 2");
  CHECK(load_error(head + "  b: {op: word_count}\n") ==
        "p.yaml:4:3: op 'word_count' takes 1 input, node 'b' gives 0");
  CHECK(load_error(head + "  b: {op: pair, map: counts}\n") ==
        "p.yaml:4:3: op 'pair' takes 2 inputs, node 'b' gives 1 (the mapped element counts as the "
        "first)");
  CHECK(load_error(head + "  b: {op: constant, inputs: [counts], args: {value: 1}}\n") ==
        "p.yaml:4:21: op 'constant' takes 0 inputs, node 'b' gives 1");
  // A map and inputs together: the element first, then the inputs.
  const PipelineSpec spec = parse(head + "  b: {op: pair, map: counts, inputs: [counts]}\n");
  CHECK(node(spec, "b").map == "counts");
  CHECK(node(spec, "b").inputs == std::vector<std::string>{"counts"});
  // Forward references are fine.
  CHECK(ids(parse("name: x\nnodes:\n  b: {op: word_count, inputs: [a]}\n  a: {op: constant, "
                  "args: {value: 1}}\n")) == std::vector<std::string>{"a", "b"});
}

// A cycle is reported once, with the whole path, at a deterministic position.
TEST_CASE(
    "parse_pipeline_spec: a cycle is refused with its path, at the node of it that comes first",
    "[pipeline][loader][errors]") {
  CHECK(load_error("name: x\nnodes:\n"
                   "  start: {op: constant, args: {value: 1}}\n"
                   "  a: {op: pair, inputs: [start, c]}\n"
                   "  b: {op: word_count, inputs: [a]}\n"
                   "  c: {op: word_count, inputs: [b]}\n"
                   "  after: {op: word_count, inputs: [c]}\n") ==
        "p.yaml:4:3: cycle: a -> b -> c -> a");
  CHECK(load_error("name: x\nnodes:\n"
                   "  x: {op: word_count, map: y}\n"
                   "  y: {op: word_count, inputs: [x]}\n") == "p.yaml:3:3: cycle: x -> y -> x");
  // Reached from a node downstream of the cycle, the message is the same.
  CHECK(load_error("name: x\nnodes:\n"
                   "  down: {op: word_count, inputs: [q]}\n"
                   "  p: {op: word_count, inputs: [q]}\n"
                   "  q: {op: word_count, inputs: [p]}\n") == "p.yaml:4:3: cycle: p -> q -> p");
}

// outputs must be a non-empty list of distinct existing node ids.
TEST_CASE("parse_pipeline_spec: bad outputs are refused", "[pipeline][loader][errors]") {
  const std::string head = "name: x\nnodes:\n  top: {op: constant, args: {value: 1}}\n";
  CHECK(parse(head + "outputs: [top]\n").outputs == std::vector<std::string>{"top"});
  CHECK(load_error(head + "outputs: [tpo]\n") ==
        "p.yaml:4:11: unknown node 'tpo' in 'outputs' (did you mean 'top'?)");
  CHECK(load_error(head + "outputs: [top, top]\n") ==
        "p.yaml:4:16: node 'top' is listed twice in 'outputs'");
  CHECK(load_error(head + "outputs: []\n") ==
        "p.yaml:4:10: 'outputs' is empty: name at least one node");
  CHECK(load_error(head + "outputs: top\n") ==
        "p.yaml:4:10: expected a list of node ids for 'outputs', got a string");
}

// Arguments are checked against the op's signature before anything runs.
TEST_CASE("parse_pipeline_spec: unknown, missing and mistyped arguments are refused",
          "[pipeline][loader][errors]") {
  const std::string head =
      "name: x\nparams: {k: 3, word: x}\nnodes:\n"
      "  c: {op: constant, args: {value: {}}}\n";
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {kk: 1}}\n") ==
        "p.yaml:5:38: op 'top_k' has no argument 'kk' (did you mean 'k'?)");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {zzzz: 1}}\n") ==
        "p.yaml:5:38: op 'top_k' has no argument 'zzzz' (its arguments are: k)");
  CHECK(load_error(head + "  t: {op: word_count, inputs: [c], args: {k: 1}}\n") ==
        "p.yaml:5:43: op 'word_count' has no argument 'k' (it takes no arguments)");
  CHECK(load_error("name: x\nnodes:\n  g: {op: glob}\n") ==
        "p.yaml:3:3: node 'g' (op 'glob') needs argument 'pattern'");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {k: x}}\n") ==
        "p.yaml:5:41: argument 'k' of op 'top_k' expects int, got string 'x'");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {k: 2.5}}\n") ==
        "p.yaml:5:41: argument 'k' of op 'top_k' expects int, got number 2.5");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {k: '3'}}\n") ==
        "p.yaml:5:41: argument 'k' of op 'top_k' expects int, got string '3'");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {k: \"${word}\"}}\n") ==
        "p.yaml:5:41: argument 'k' of op 'top_k' expects int, got string 'x'");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {k: 99999999999999999999}}\n") ==
        "p.yaml:5:41: integer '99999999999999999999' is out of range (64-bit signed)");
  CHECK(load_error(head + "  t: {op: top_k, inputs: [c], args: {k:}}\n") ==
        "p.yaml:5:38: argument 'k' of op 'top_k' expects int, got null");
  CHECK(load_error(head + "  s: {op: scale, inputs: [c], args: {round: yes}}\n") ==
        "p.yaml:5:45: argument 'round' of op 'scale' expects bool, got string 'yes'");
}

// Param substitution: a whole scalar takes the param's value and type, text splices its string
// form, $${ is a literal ${.
TEST_CASE("parse_pipeline_spec: ${NAME} keeps a whole scalar's type, splices text, $${ escapes",
          "[pipeline][loader]") {
  const std::string head =
      "name: x\n"
      "params: {dir: texts, k: 3, ratio: 0.5, on: true, list: [a, b], map: {m: 1}, none: ~}\n"
      "nodes:\n";
  auto value_of = [&](const std::string& yaml_value) {
    const PipelineSpec spec =
        parse(head + "  c: {op: constant, args: {value: " + yaml_value + "}}\n");
    return spec.nodes[0].args.at("value");
  };
  CHECK(value_of("\"${k}\"") == Value(3));
  // Plain works too (in block style: a flow mapping cannot hold a plain '{').
  CHECK(parse(head + "  c:\n    op: constant\n    args:\n      value: ${k}\n")
            .nodes[0]
            .args.at("value") == Value(3));
  CHECK(value_of("\"${list}\"") == Value(Value::List{"a", "b"}));
  CHECK(value_of("\"${map}\"") == Value(Value::Map{{"m", 1}}));
  CHECK(value_of("\"${none}\"").is_null());
  CHECK(value_of("\"${ratio}\"") == Value(0.5));
  CHECK(value_of("\"${dir}/*.txt\"") == Value("texts/*.txt"));
  CHECK(value_of("\"top ${k} of ${dir} at ${ratio}, ${on}\"") ==
        Value("top 3 of texts at 0.5, true"));
  CHECK(value_of("\"${k}${k}\"") == Value("33"));
  // Read left to right: "$$${k}" is '$' then the escape "$${" then "k}".
  CHECK(value_of("\"cost: $$${k}\"") == Value("cost: $${k}"));
  CHECK(value_of("\"$${k}\"") == Value("${k}"));
  CHECK(value_of("\"a $${k} b ${k}\"") == Value("a ${k} b 3"));
  CHECK(value_of("\"$5 and $ {k} and $$\"") == Value("$5 and $ {k} and $$"));
  // Recursively through lists and maps, and not in keys.
  CHECK(value_of("[\"${k}\", {\"${dir}\": \"${dir}\"}]") ==
        Value(Value::List{3, Value::Map{{"${dir}", "texts"}}}));
  // Params themselves are literals.
  const PipelineSpec literal = parse(
      "name: x\nparams: {a: \"${b}\", b: 1}\nnodes:\n  c: {op: constant, args: {value: "
      "\"${a}\"}}\n");
  CHECK(literal.params.at("a") == Value("${b}"));
  CHECK(literal.nodes[0].args.at("value") == Value("${b}"));
}

// Unknown params and malformed references are errors at their position.
TEST_CASE("parse_pipeline_spec: bad ${NAME} substitutions are refused",
          "[pipeline][loader][errors]") {
  const std::string head =
      "name: x\nparams: {dir: texts, list: [a], map: {m: 1}, none: ~}\nnodes:\n";
  auto error_of = [&](const std::string& yaml_value) {
    return load_error(head + "  c: {op: constant, args: {value: " + yaml_value + "}}\n");
  };
  CHECK(error_of("\"${dri}/x\"") == "p.yaml:4:35: undefined param 'dri' (did you mean 'dir'?)");
  CHECK(error_of("\"${dri}\"") == "p.yaml:4:35: undefined param 'dri' (did you mean 'dir'?)");
  CHECK(error_of("\"${zzzzzz}\"") ==
        "p.yaml:4:35: undefined param 'zzzzzz' (the params are: dir, list, map, none)");
  CHECK(error_of("\"a ${dir\"") ==
        "p.yaml:4:35: unterminated '${' in 'a ${dir' (write '$${' for a literal '${')");
  CHECK(error_of("\"x ${list}\"") ==
        "p.yaml:4:35: param 'list' is a list and cannot be part of a string");
  CHECK(error_of("\"x ${map}\"") ==
        "p.yaml:4:35: param 'map' is a mapping and cannot be part of a string");
  CHECK(error_of("\"x ${none}\"") ==
        "p.yaml:4:35: param 'none' is null and cannot be part of a string");
  CHECK(error_of("[1, \"${dri}\"]") == "p.yaml:4:39: undefined param 'dri' (did you mean 'dir'?)");
  CHECK(load_error("name: x\nnodes:\n  c: {op: constant, args: {value: \"${k}\"}}\n") ==
        "p.yaml:3:35: undefined param 'k' (the pipeline has no params)");
  CHECK(load_error("name: x\nparams: {'a b': 1}\nnodes: {a: {op: constant, args: {value: 1}}}\n") ==
        "p.yaml:2:10: invalid param name 'a b' (letters, digits, '_' and '-', starting with a "
        "letter or '_')");
}

// A pipeline file cannot read the environment: ${NAME} never falls back to it, and its value
// never appears in a message.
TEST_CASE("parse_pipeline_spec: environment variables are never substituted nor echoed",
          "[pipeline][loader][security]") {
  REQUIRE(::setenv("DAGFLOW_LOADER_TEST_SECRET", "hunter2-do-not-print", 1) == 0);
  const std::string error = load_error(
      "name: x\nparams: {dir: d}\nnodes:\n  c: {op: constant, args: {value: "
      "\"${DAGFLOW_LOADER_TEST_SECRET}\"}}\n");
  ::unsetenv("DAGFLOW_LOADER_TEST_SECRET");
  CHECK(error.find("undefined param 'DAGFLOW_LOADER_TEST_SECRET'") != std::string::npos);
  CHECK(error.find("hunter2") == std::string::npos);
}

// --set values are typed as YAML would type them and override the file's params.
TEST_CASE("parse_pipeline_spec: LoadOptions::set overrides params with core-schema values",
          "[pipeline][loader]") {
  const std::string text =
      "name: x\nparams: {k: 3, dir: texts}\nnodes:\n"
      "  c: {op: constant, args: {value: \"${k}\"}}\n"
      "  d: {op: constant, args: {value: \"${dir}/a\"}}\n";
  auto with = [&](std::vector<std::string> set) {
    return parse(text, LoadOptions{.set = std::move(set)});
  };
  CHECK(node(with({"k=5"}), "c").args.at("value") == Value(5));
  CHECK(with({"k=5"}).params.at("k") == Value(5));
  CHECK(node(with({"k=yes"}), "c").args.at("value") == Value("yes"));
  CHECK(node(with({"k=1.5"}), "c").args.at("value") == Value(1.5));
  CHECK(node(with({"k=0x10"}), "c").args.at("value") == Value(16));
  CHECK(node(with({"k=true"}), "c").args.at("value") == Value(true));
  CHECK(node(with({"k="}), "c").args.at("value").is_null());
  CHECK(node(with({"k=a=b"}), "c").args.at("value") == Value("a=b"));
  CHECK(node(with({"k=1", "k=2"}), "c").args.at("value") == Value(2));  // the last one wins
  CHECK(node(with({"dir=other"}), "d").args.at("value") == Value("other/a"));

  auto set_error = [&](std::vector<std::string> set) {
    return load_error(text, LoadOptions{.set = std::move(set)});
  };
  CHECK(set_error({"kk=1"}) == "--set: unknown param 'kk' (did you mean 'k'?)");
  CHECK(set_error({"zzzzz=1"}) == "--set: unknown param 'zzzzz' (the params are: k, dir)");
  CHECK(set_error({"k"}) == "--set: expected NAME=VALUE, got 'k' (no '=')");
  CHECK(set_error({"=3"}) == "--set: expected NAME=VALUE, got an empty NAME");
  CHECK(set_error({"k=99999999999999999999"}) ==
        "--set: param 'k': integer '99999999999999999999' is out of range (64-bit signed)");
  try {
    (void)parse(text, LoadOptions{.set = {"kk=1"}});
    FAIL("no error");
  } catch (const PipelineError& e) {
    CHECK(e.file() == "--set");
    CHECK(e.mark().line == 0);
  }
}

// Relative paths in a pipeline mean the same wherever dagflow is run from.
TEST_CASE("parse_pipeline_spec: path arguments resolve against the pipeline's directory",
          "[pipeline][loader]") {
  const TempDir dir;
  const fs::path file = dir.path() / "sub" / "p.yaml";
  const std::string text =
      "name: x\nparams: {in: data/a.txt}\nnodes:\n"
      "  r: {op: read_text, args: {file: \"${in}\"}}\n"
      "  s: {op: read_text, args: {file: /etc/hostname}}\n"
      "  all: {op: read_all, args: {files: [a.txt, /b.txt]}}\n";
  const PipelineSpec spec = parse(text, {}, file);
  CHECK(spec.base_dir == dir.path() / "sub");
  const Value& r = node(spec, "r").args.at("file");
  REQUIRE(r.kind() == ValueKind::kPath);
  CHECK(r.as_path().resolved == dir.path() / "sub" / "data" / "a.txt");
  CHECK(r.as_path().shown == "data/a.txt");
  CHECK(node(spec, "s").args.at("file").as_path().resolved == "/etc/hostname");
  const Value& all = node(spec, "all").args.at("files");
  REQUIRE(all.as_list().size() == 2);
  CHECK(all.as_list()[0].as_path().resolved == dir.path() / "sub" / "a.txt");
  CHECK(all.as_list()[0].as_path().shown == "a.txt");
  CHECK(all.as_list()[1].as_path().resolved == "/b.txt");
  // A --set value is resolved like any relative path: against the pipeline, not the cwd.
  const PipelineSpec set = parse(text, LoadOptions{.set = {"in=../other.txt"}}, file);
  CHECK(node(set, "r").args.at("file").as_path().resolved == dir.path() / "other.txt");
  CHECK(load_error("name: x\nnodes:\n  r: {op: read_text, args: {file: 5}}\n") ==
        "p.yaml:3:35: argument 'file' of op 'read_text' expects path, got int 5");
}

// Output paths are checked when loading, before anything runs: outside the pipeline's
// directory only with allow_outside.
TEST_CASE(
    "parse_pipeline_spec: output paths outside the directory are refused unless allow_outside",
    "[pipeline][loader][security]") {
  const TempDir dir;
  const fs::path file = dir.path() / "p.yaml";
  auto text = [](std::string_view out) {
    return "name: x\nnodes:\n  c: {op: constant, args: {value: 1}}\n"
           "  s: {op: save, inputs: [c], args: {out: \"" +
           std::string(out) + "\"}}\n";
  };
  const PipelineSpec spec = parse(text("results/out.json"), {}, file);
  const Value& out = node(spec, "s").args.at("out");
  REQUIRE(out.kind() == ValueKind::kPath);
  CHECK(out.as_path().resolved == dir.path() / "results" / "out.json");
  CHECK(out.as_path().shown == "results/out.json");

  const std::string outside = load_error(text("../x"), {}, file);
  CHECK(outside.find(file.string() + ":4:42: argument 'out' of node 's': output path '../x' is "
                                     "outside the pipeline directory") == 0);
  CHECK(outside.find(": writing outside the pipeline's directory is not allowed") !=
        std::string::npos);
  try {
    (void)parse(text("../x"), {}, file);
  } catch (const PipelineError& e) {
    CHECK(e.refused() == dagflow::Capability::kWriteOutside);
  }
  CHECK(load_error(text("/etc/passwd"), {}, file)
            .find(file.string() + ":4:42: argument 'out' of node 's': output path "
                                  "'/etc/passwd' is outside") == 0);
  CHECK(load_error(text("a/../../x"), {}, file).find("is outside the pipeline directory") !=
        std::string::npos);
  CHECK(load_error(text(""), {}, file) ==
        file.string() + ":4:42: argument 'out' of node 's': output path is empty");

  const PipelineSpec allowed = parse(text("../x"), LoadOptions{.allow_outside = true}, file);
  CHECK(node(allowed, "s").args.at("out").as_path().resolved == dir.path().parent_path() / "x");
  CHECK(node(parse(text("/etc/passwd"), LoadOptions{.allow_outside = true}, file), "s")
            .args.at("out")
            .as_path()
            .resolved == "/etc/passwd");
}

// A pipeline using a command-running op is refused at load time unless allowed.
TEST_CASE("parse_pipeline_spec: an op that runs commands needs allow_shell",
          "[pipeline][loader][security]") {
  const std::string text = "name: x\nnodes:\n  sh: {op: shell, args: {argv: [ls]}}\n";
  CHECK(load_error(text) ==
        "p.yaml:3:12: node 'sh' uses op 'shell', which runs commands without a sandbox: running "
        "commands is not allowed");
  try {
    (void)parse(text);
  } catch (const PipelineError& e) {
    CHECK(e.refused() == dagflow::Capability::kRunCommands);
  }
  try {
    (void)parse("name: x\nnodes:\n  a: {op: nosuchop}\n");
  } catch (const PipelineError& e) {
    CHECK_FALSE(e.refused().has_value());  // other mistakes refuse no capability
  }
  CHECK(parse(text, LoadOptions{.allow_shell = true}).nodes[0].op == "shell");
  // With other mistakes, the refusal comes last: the `dagflow` command adds its flag after it.
  try {
    (void)parse(text + "  b: {op: nosuchop}\n");
    FAIL("no error");
  } catch (const PipelineError& e) {
    CHECK(std::string(e.what()) ==
          "p.yaml:4:11: unknown op 'nosuchop'\n"
          "p.yaml:3:12: node 'sh' uses op 'shell', which runs commands without a sandbox: running "
          "commands is not allowed");
    CHECK(e.refused() == dagflow::Capability::kRunCommands);
  }
}

// A file's plugins are code: refused unless allowed, whatever else the file says; when allowed,
// each entry is a path relative to the file (loading is tested through the command, with real
// plugins: tests/cli/cli_plugin_test.cpp).
TEST_CASE("parse_pipeline_spec: plugins need allow_plugins and a list of paths",
          "[pipeline][loader][security]") {
  const std::string nodes = "name: x\nnodes:\n  a: {op: glob, args: {pattern: \"*.txt\"}}\n";
  const std::string text = "plugins: [lib/libops.so]\n" + nodes;
  CHECK(load_error(text) ==
        "p.yaml:1:1: 'plugins' loads code into dagflow: loading plugins is not allowed");
  try {
    (void)parse(text);
    FAIL("no error");
  } catch (const PipelineError& e) {
    CHECK(e.refused() == dagflow::Capability::kLoadPlugins);
  }
  const LoadOptions allowed{.allow_plugins = true};
  CHECK(load_error("plugins: lib/libops.so\n" + nodes, allowed) ==
        "p.yaml:1:10: expected a list of plugin files for 'plugins', got a string");
  CHECK(load_error("plugins: [[a]]\n" + nodes, allowed) ==
        "p.yaml:1:11: expected the path of a plugin file in 'plugins', got a list");
  CHECK_THAT(load_error(text, allowed), Catch::StartsWith("p.yaml:1:11: cannot load plugin '") &&
                                            Catch::Contains("lib/libops.so'"));
  CHECK(parse("plugins: []\n" + nodes, allowed).plugins.empty());
}

// Messages use the file name as the user wrote it.
TEST_CASE("PipelineError: messages name the file as given, or <pipeline> without one",
          "[pipeline][loader][errors]") {
  CHECK(load_error("name: x\n", {}, "dir/w.yaml") ==
        "dir/w.yaml:1:1: missing 'nodes' (a mapping from node id to node)");
  CHECK(load_error("name: x\n", {}, "") ==
        "<pipeline>:1:1: missing 'nodes' (a mapping from node id to node)");
}

// Several PipelineProblems make one error: a line each, the first one's accessors, and a count
// of those not kept.
TEST_CASE("PipelineError: lists several problems, one per line, the first one's fields first",
          "[pipeline][loader][errors]") {
  const PipelineError e({{.file = "w.yaml", .mark = {3, 7}, .message = "bad thing"},
                         {.file = "--set", .message = "unknown param 'k'"},
                         {.file = "w.yaml",
                          .mark = {5, 1},
                          .message = "refused",
                          .refused = dagflow::Capability::kRunCommands}},
                        4);
  CHECK(std::string(e.what()) ==
        "w.yaml:3:7: bad thing\n--set: unknown param 'k'\nw.yaml:5:1: refused\n"
        "w.yaml: 4 more errors not shown");
  CHECK(e.file() == "w.yaml");
  CHECK(e.mark().line == 3);
  CHECK(e.message() == "bad thing");
  CHECK(e.refused() == dagflow::Capability::kRunCommands);  // whichever problem refuses it
  REQUIRE(e.all().size() == 3);
  CHECK(e.all()[2].refused == dagflow::Capability::kRunCommands);
  CHECK(e.not_shown() == 4);
  const PipelineError one("w.yaml", {1, 2}, "alone");
  CHECK_FALSE(one.refused().has_value());
  CHECK(one.all().size() == 1);
  CHECK(one.not_shown() == 0);
  CHECK_THROWS_AS(PipelineError(std::vector<dagflow::PipelineProblem>{}), std::invalid_argument);
}

// Independent mistakes in different parts of a file come out together, each at its position,
// in the order found; nothing downstream of a mistake is reported a second time.
TEST_CASE("parse_pipeline_spec: every mistake of a file is reported at once (#12)",
          "[pipeline][loader][errors]") {
  const std::string text =
      "name: x\n"                                            // 1
      "params: {k: 3}\n"                                     // 2
      "nodes:\n"                                             // 3
      "  files: {op: glob, args: {pattern: '*.txt'}}\n"      // 4
      "  counts: {op: word_cnt, map: files}\n"               // 5
      "  total: {op: merge_counts, inputs: [counts]}\n"      // 6
      "  top: {op: top_k, inputs: [total], args: {k: x}}\n"  // 7
      "outputs: [top, totl]\n";                              // 8
  try {
    (void)parse(text);
    FAIL("no error");
  } catch (const PipelineError& e) {
    CHECK(std::string(e.what()) ==
          "p.yaml:5:16: unknown op 'word_cnt' (did you mean 'word_count'?)\n"
          "p.yaml:7:47: argument 'k' of op 'top_k' expects int, got string 'x'\n"
          "p.yaml:8:16: unknown node 'totl' in 'outputs' (did you mean 'total'?)");
    REQUIRE(e.all().size() == 3);
    CHECK(e.all()[1].mark.line == 7);
    CHECK(e.all()[1].mark.column == 47);
    CHECK(e.message() == "unknown op 'word_cnt' (did you mean 'word_count'?)");
    CHECK(e.not_shown() == 0);
  }
  // A param whose value is wrong is reported once, not again at each use.
  CHECK(load_error("name: x\nparams: {k: 99999999999999999999}\nnodes:\n"
                   "  a: {op: constant, args: {value: \"${k}\"}}\n"
                   "  b: {op: top_k, inputs: [a], args: {k: \"${k}\"}}\n") ==
        "p.yaml:2:13: integer '99999999999999999999' is out of range (64-bit signed)");
  // --set mistakes come with the file's own.
  CHECK(load_error("name: x\nparams: {k: 3}\nnodes:\n  a: {op: nosuch}\n", {.set = {"kk=1"}}) ==
        "--set: unknown param 'kk' (did you mean 'k'?)\np.yaml:4:11: unknown op 'nosuch'");
}

// A file with many mistakes lists the first kMaxPipelineProblems and counts the others.
TEST_CASE("parse_pipeline_spec: past 20 mistakes, the rest are counted, not listed",
          "[pipeline][loader][errors]") {
  std::string text = "name: x\nnodes:\n";
  for (int i = 0; i < 25; ++i) text += "  n" + std::to_string(i) + ": {op: nosuch}\n";
  try {
    (void)parse(text);
    FAIL("no error");
  } catch (const PipelineError& e) {
    REQUIRE(e.all().size() == dagflow::kMaxPipelineProblems);
    CHECK(dagflow::kMaxPipelineProblems == 20);
    CHECK(e.not_shown() == 5);
    CHECK(e.all().back().mark.line == 22);  // n19
    const std::string what = e.what();
    CHECK(dagflow::test::count_of(what, "unknown op 'nosuch'") == 20);
    CHECK_THAT(what, Catch::EndsWith("p.yaml:22:13: unknown op 'nosuch'\n"
                                     "p.yaml: 5 more errors not shown"));
  }
}

// What a node gives is its op's result type (a list of it for a map node): an input that cannot
// take it is refused at the reference in `inputs:` or `map:`, before anything runs.
TEST_CASE("parse_pipeline_spec: an input of a type its op cannot take is refused (#12)",
          "[pipeline][loader][errors][types]") {
  const std::string head =
      "name: x\nnodes:\n"
      "  files: {op: glob, args: {pattern: '*.txt'}}\n"                        // list of string
      "  counts: {op: word_count, map: files}\n"                               // list of map of int
      "  total: {op: merge_counts, inputs: [counts]}\n"                        // map of int
      "  top: {op: top_k, inputs: [total]}\n";                                 // int
  CHECK(parse(head + "  s: {op: scale, inputs: [top]}\n").nodes.size() == 5);  // an int is a number
  CHECK(parse(head + "  p: {op: pair, inputs: [files, top]}\n").nodes.size() == 5);  // any
  CHECK(load_error(head + "  t: {op: top_k, inputs: [files]}\n") ==
        "p.yaml:7:27: node 't' input 1 ('files') is a list of string, but op 'top_k' takes a map "
        "of int");
  CHECK(load_error(head + "  m: {op: merge_counts, inputs: [total]}\n") ==
        "p.yaml:7:34: node 'm' input 1 ('total') is a map of int, but op 'merge_counts' takes a "
        "list of map of int");
  CHECK(load_error(head + "  l: {op: label, map: counts}\n") ==
        "p.yaml:7:23: node 'l' input 1 (each element of 'counts') is a map of int, but op "
        "'label' takes a string");
  CHECK(load_error(head + "  w: {op: word_count, map: total}\n") ==
        "p.yaml:7:28: node 'w' maps over 'total', which is a map of int, not a list");
  CHECK(load_error(head + "  p: {op: pair, map: files, inputs: [top]}\n"
                          "  q: {op: label, inputs: [p]}\n") ==
        "p.yaml:8:27: node 'q' input 1 ('p') is a list of list, but op 'label' takes a string");
  // Downstream of a node whose op is unknown, types are not guessed.
  CHECK(load_error("name: x\nnodes:\n  a: {op: nosuch}\n  t: {op: top_k, inputs: [a]}\n") ==
        "p.yaml:3:11: unknown op 'nosuch'");
}

// The pipelines shipped with dagflow load with the built-in ops (and temperatures.yaml with the
// op that examples/custom_op.cpp adds): their types all fit.
TEST_CASE("load_pipeline_spec: every bundled example pipeline validates", "[pipeline][loader]") {
  OpRegistry ops = OpRegistry::builtins();
  ops.add(
      "to_fahrenheit", [](double celsius) { return celsius * 9 / 5 + 32; },
      "as examples/custom_op.cpp registers it");
  std::size_t loaded = 0;
  for (const auto& entry : fs::directory_iterator(dagflow::test::example_pipelines_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path());
    CHECK_NOTHROW((void)dagflow::load_pipeline_spec(entry.path(), ops));
    ++loaded;
  }
  CHECK(loaded >= 6);
}
