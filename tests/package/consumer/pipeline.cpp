// A YAML pipeline with a C++ op, built against the installed package.
#include <cstdio>
#include <filesystem>
#include <string>

#include <dagflow/dagflow.hpp>

int main() {
  dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
  ops.add(
      "triple", [](std::int64_t x) { return 3 * x; }, "3x");
  const std::string yaml =
      "name: consumer\n"
      "nodes:\n"
      "  xs: {op: range, args: {stop: 5}}\n"
      "  tripled: {op: triple, map: xs}\n"
      "  total: {op: sum, inputs: [tripled]}\n";
  const dagflow::Pipeline pipeline(
      dagflow::parse_pipeline_spec(yaml, std::filesystem::temp_directory_path() / "c.yaml", ops),
      ops);
  const dagflow::PipelineResult result = pipeline.run();
  const std::int64_t total = result.outputs.at("total").as_int();
  std::printf("total=%lld\n", static_cast<long long>(total));
  return total == 30 ? 0 : 1;
}
