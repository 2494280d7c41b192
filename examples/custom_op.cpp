// Extending dagflow: register a C++ function as an op, then use it from a YAML pipeline.
//
//   range(-10..40 step 10) --each--> to_fahrenheit --> sum
//
// Usage: custom_op [PIPELINE.yaml]   (default: examples/pipelines/temperatures.yaml)
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

// An ordinary typed function: the registry converts Values to and from its parameter types.
double to_fahrenheit(double celsius) { return celsius * 9 / 5 + 32; }

int main(int argc, char** argv) try {
  const std::filesystem::path file =
      argc > 1 ? argv[1] : example::pipelines_dir() / "temperatures.yaml";

  dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
  ops.add("to_fahrenheit", to_fahrenheit, "degrees Celsius -> degrees Fahrenheit");

  const dagflow::Pipeline pipeline = dagflow::Pipeline::load(file, ops);
  const dagflow::PipelineResult result = pipeline.run();

  std::cout << "fahrenheit: " << dagflow::to_json(result.outputs.at("fahrenheit")) << "\n"
            << "total: " << dagflow::to_json(result.outputs.at("total")) << "\n";
  return result.outputs.at("total").as_double() == 354.0 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const dagflow::Error& e) {  // PipelineError (bad file) or NodeError (a node failed)
  std::cerr << e.what() << "\n";
  return 2;
}
