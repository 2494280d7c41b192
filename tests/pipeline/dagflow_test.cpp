#include <dagflow/dagflow.hpp>

// Tests of the umbrella header: it stands alone and brings in the whole public API (graph,
// engine, nodes, pipeline and the version), as the examples and the README use it.
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

// The README's quickstart, through the umbrella header alone.
TEST_CASE("dagflow.hpp: the C++ API computes through one include", "[pipeline][api]") {
  std::vector<long> xs(1000);
  std::iota(xs.begin(), xs.end(), 1L);
  dagflow::Graph g;
  auto squares = dagflow::map(
      g, [](long x) { return x * x; }, xs);
  auto total = dagflow::reduce(g, std::plus<>{}, 0L, squares);
  CHECK(dagflow::Executor{}.compute(total) == 333'833'500L);
  CHECK(dagflow::top_words(dagflow::count_words("b a b"), 1) ==
        std::vector<std::pair<std::string, std::int64_t>>{{"b", 2}});
}

// A YAML pipeline of built-in ops, loaded and run through the umbrella header alone.
TEST_CASE("dagflow.hpp: a YAML pipeline runs through one include", "[pipeline][api]") {
  const dagflow::test::TempDir dir;
  const dagflow::PipelineSpec spec = dagflow::parse_pipeline_spec(
      "name: squares\n"
      "nodes:\n"
      "  xs: {op: range, args: {stop: 4}}\n"
      "  sq: {op: square, map: xs}\n"
      "  total: {op: sum, inputs: [sq]}\n",
      dir.path() / "squares.yaml", dagflow::OpRegistry::builtins());
  const dagflow::Pipeline pipeline(spec, dagflow::OpRegistry::builtins());
  const dagflow::PipelineResult result = pipeline.run();
  CHECK(result.outputs.at("total") == dagflow::Value(0 + 1 + 4 + 9));
  CHECK(result.stats.items_executed == 4);
}

// The generated version header comes with it, and its parts agree with its string.
TEST_CASE("dagflow.hpp: the version macros agree with each other", "[pipeline][api]") {
  CHECK(std::to_string(DAGFLOW_VERSION_MAJOR) + "." + std::to_string(DAGFLOW_VERSION_MINOR) + "." +
            std::to_string(DAGFLOW_VERSION_PATCH) ==
        DAGFLOW_VERSION_STRING);
}
