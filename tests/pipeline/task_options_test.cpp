#include <dagflow/pipeline/pipeline.hpp>

// Tests of how a pipeline file says a node's task runs (io, resources, retries, retry_delay,
// timeout) and declares resource capacities: what the loader makes of the keys, and every
// mistake reported at its FILE:LINE:COL, all at once.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/task_options.hpp>
#include <dagflow/nodes/op_registry.hpp>

#include "support/text.hpp"

namespace {

using dagflow::LoadOptions;
using dagflow::NodeSpec;
using dagflow::PipelineError;
using dagflow::PipelineSpec;
using dagflow::TaskOptions;
using std::chrono::milliseconds;
using Capacities = std::map<std::string, std::size_t>;

const dagflow::OpRegistry& test_ops() {
  static const dagflow::OpRegistry ops = [] {
    dagflow::OpRegistry r;
    r.add("fetch", [](std::int64_t x) { return x; }, "waits", {dagflow::arg("x", 1)}).set_io();
    r.add("think", [](std::int64_t x) { return x; }, "computes", {dagflow::arg("x", 1)});
    r.add(
        "numbers",
        [] {
          return std::vector<std::int64_t>{1, 2};
        },
        "a list");
    r.add(
        "twice", [](std::int64_t x) { return 2 * x; }, "2x");
    return r;
  }();
  return ops;
}

PipelineSpec parse(std::string_view text, const LoadOptions& options = {}) {
  return dagflow::parse_pipeline_spec(text, "p.yaml", test_ops(), options);
}

std::string load_error(std::string_view text, const LoadOptions& options = {}) {
  return dagflow::test::thrown_message<PipelineError>([&] { (void)parse(text, options); });
}

const NodeSpec& node(const PipelineSpec& spec, std::string_view id) {
  for (const NodeSpec& n : spec.nodes) {
    if (n.id == id) return n;
  }
  FAIL("no node " << id);
  throw;  // unreachable
}

}  // namespace

// Every key lands in the node's TaskOptions; a map node's apply to its map task; the top-level
// capacities land in the spec.
TEST_CASE("parse_pipeline_spec: a node's run keys become its TaskOptions",
          "[pipeline][loader][options]") {
  const PipelineSpec spec = parse(
      "name: options\n"
      "resources: {db: 2, api: 5}\n"
      "nodes:\n"
      "  page:\n"
      "    op: think\n"
      "    io: true\n"
      "    resources: {db: 1, api: 2}\n"
      "    retries: 3\n"
      "    retry_delay: 100ms\n"
      "    timeout: 1.5s\n"
      "  all: {op: numbers}\n"
      "  each: {op: twice, map: all, timeout: 2min, retries: 0}\n");
  CHECK(spec.resources == Capacities{{"db", 2}, {"api", 5}});
  CHECK(node(spec, "page").options == TaskOptions{.io = true,
                                                  .resources = {{"db", 1}, {"api", 2}},
                                                  .retries = 3,
                                                  .retry_delay = milliseconds(100),
                                                  .timeout = milliseconds(1'500)});
  CHECK(node(spec, "each").options == TaskOptions{.timeout = milliseconds(120'000)});
  CHECK(node(spec, "all").options == TaskOptions{});
}

// An op that waits makes its nodes I/O tasks unless a node says `io: false`; params substitute
// into the keys as into arguments.
TEST_CASE("parse_pipeline_spec: io follows the op unless the node says otherwise",
          "[pipeline][loader][options]") {
  const PipelineSpec spec = parse(
      "name: io\n"
      "params: {t: 10s, n: 2}\n"
      "nodes:\n"
      "  a: {op: fetch}\n"
      "  b: {op: fetch, io: false}\n"
      "  c: {op: think}\n"
      "  d: {op: fetch, timeout: \"${t}\", retries: \"${n}\"}\n");
  CHECK(node(spec, "a").options.io);
  CHECK_FALSE(node(spec, "b").options.io);
  CHECK_FALSE(node(spec, "c").options.io);
  CHECK(node(spec, "d").options.timeout == milliseconds(10'000));
  CHECK(node(spec, "d").options.retries == 2);
}

// LoadOptions::resources (--resource) replaces a capacity of the file and declares new names.
TEST_CASE("parse_pipeline_spec: LoadOptions::resources overrides and adds capacities",
          "[pipeline][loader][options]") {
  const std::string_view text =
      "name: caps\n"
      "resources: {db: 1}\n"
      "nodes:\n"
      "  a: {op: think, resources: {db: 3, gpu: 1}}\n";
  CHECK(load_error(text) ==
        "p.yaml:4:34: node 'a' needs 3 units of resource 'db', more than its capacity of 1: it "
        "could never run\n"
        "p.yaml:4:37: node 'a' needs resource 'gpu', which is not declared (the resources are: "
        "db)");
  const PipelineSpec spec = parse(text, {.resources = {{"db", 4}, {"gpu", 1}}});
  CHECK(spec.resources == Capacities{{"db", 4}, {"gpu", 1}});
  CHECK(node(spec, "a").options.resources == Capacities{{"db", 3}, {"gpu", 1}});
}

// Bad durations, counts and resources are refused where they are written, every one at once.
TEST_CASE("parse_pipeline_spec: bad run keys are refused at their position",
          "[pipeline][loader][options][errors]") {
  CHECK(load_error("name: bad\n"
                   "resources: {db: -1, api: many}\n"
                   "nodes:\n"
                   "  a:\n"
                   "    op: think\n"
                   "    timeout: 30\n"
                   "    retry_delay: 5 secs\n"
                   "    retries: -2\n"
                   "    io: yes\n"
                   "    resources: {dbb: 1}\n"
                   "  b: {op: think, timeout: 0s, resources: [db], retries: 1.5}\n") ==
        "p.yaml:2:17: the capacity of resource 'db' cannot be negative, got -1\n"
        "p.yaml:2:26: the capacity of resource 'api' must be a whole number, got string 'many'\n"
        "p.yaml:9:9: 'io' of node 'a' must be true or false, got a string\n"
        "p.yaml:8:14: 'retries' of node 'a' cannot be negative, got -2\n"
        "p.yaml:7:18: 'retry_delay' of node 'a': unknown unit 'secs' in '5 secs' (the units are "
        "ms, s, min and h)\n"
        "p.yaml:6:14: 'timeout' of node 'a': a duration needs a unit (ms, s, min or h, as in 30s "
        "or 100ms), got 30\n"
        "p.yaml:10:17: node 'a' needs resource 'dbb', which is not declared (give its capacity "
        "in the top-level 'resources')\n"
        "p.yaml:11:57: 'retries' of node 'b' must be a whole number, got number 1.5\n"
        "p.yaml:11:27: 'timeout' of node 'b' must be more than 0 (leave it out for no limit)\n"
        "p.yaml:11:42: 'resources' of node 'b' must be a mapping from resource name to the "
        "units it holds, got a list");
  // A typo of a key is suggested as for any node key.
  CHECK(load_error("name: typo\nnodes:\n  a: {op: think, timout: 1s}\n") ==
        "p.yaml:3:18: unknown key 'timout' in node 'a' (did you mean 'timeout'?)");
}
