// An op plugin: the `to_fahrenheit` op of examples/pipelines/temperatures.yaml, for the plain
// `dagflow` command (examples/custom_op.cpp registers the same op in a program of its own).
//
//   dagflow run examples/pipelines/temperatures.yaml --plugin PATH/libtemperature_ops.so
//
// Built by dagflow_add_plugin (examples/CMakeLists.txt) and installed in lib/dagflow/plugins.
#include <dagflow/plugin.hpp>

namespace {

double to_fahrenheit(double celsius) { return celsius * 9.0 / 5.0 + 32.0; }

double to_celsius(double fahrenheit) { return (fahrenheit - 32.0) * 5.0 / 9.0; }

}  // namespace

DAGFLOW_PLUGIN(registry) {
  registry.add("to_fahrenheit", to_fahrenheit, "Celsius to Fahrenheit");
  registry.add("to_celsius", to_celsius, "Fahrenheit to Celsius");
}
