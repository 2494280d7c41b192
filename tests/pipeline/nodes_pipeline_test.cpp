#include <dagflow/nodes/pipeline.hpp>

// Tests of the forwarding header <dagflow/nodes/pipeline.hpp> (the pipeline API's old path):
// on its own, it still gives code written against that path the whole pipeline API.
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

// Code that includes only the old path loads a pipeline file, runs it, and sees its errors.
TEST_CASE("nodes/pipeline.hpp: the old path still loads and runs pipelines", "[pipeline][api]") {
  const dagflow::test::TempDir dir;
  const auto file =
      dir.write("old.yaml", "name: old\nnodes:\n  xs: {op: range, args: {start: 2, stop: 5}}\n");
  const dagflow::Pipeline pipeline = dagflow::Pipeline::load(file, dagflow::OpRegistry::builtins());
  CHECK(pipeline.spec().name == "old");
  CHECK(pipeline.spec().base_dir == dir.path());
  CHECK(pipeline.run().outputs.at("xs") == dagflow::Value(dagflow::Value::List{2, 3, 4}));
  CHECK_THROWS_AS(
      dagflow::parse_pipeline_spec("name: x\n", "x.yaml", dagflow::OpRegistry::builtins()),
      dagflow::PipelineError);
}
