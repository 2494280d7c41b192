// Extending dagflow: register a C++ function as an op, then use it from a YAML pipeline.
//
//   range(-10..40 step 10) --each--> to_fahrenheit --> sum
//
// Usage: custom_op [PIPELINE.yaml] [--threads T]   (default: examples/pipelines/temperatures.yaml)
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

constexpr const char* kUsage =
    "usage: custom_op [PIPELINE.yaml] [--threads T]\n"
    "Registers a C++ function as the op 'to_fahrenheit' and runs a pipeline that uses it\n"
    "(default: the bundled temperatures.yaml).\n"
    "  --threads T   worker threads (default 0: all cores)\n";

// An ordinary typed function: the registry converts Values to and from its parameter types.
double to_fahrenheit(double celsius) { return celsius * 9 / 5 + 32; }

int main(int argc, char** argv) try {
  std::string given;
  const std::size_t threads = example::common_options(argc, argv, kUsage, &given);
  const std::filesystem::path file =
      given.empty() ? example::pipelines_dir() / "temperatures.yaml" : std::filesystem::path(given);

  dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
  ops.add("to_fahrenheit", to_fahrenheit, "degrees Celsius -> degrees Fahrenheit");

  const dagflow::Pipeline pipeline = dagflow::Pipeline::load(file, ops);
  const dagflow::PipelineResult result = pipeline.run({.threads = threads});

  std::cout << "fahrenheit: " << dagflow::to_json(result.outputs.at("fahrenheit")) << "\n"
            << "total: " << dagflow::to_json(result.outputs.at("total")) << "\n";
  return result.outputs.at("total").as_double() == 354.0 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const dagflow::Error& e) {  // PipelineError (bad file) or NodeError (a node failed)
  std::cerr << e.what() << "\n";
  return 2;
}
