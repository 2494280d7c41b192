// An op plugin: a shared library that registers ops, so that the `dagflow` command (and any
// program, through OpRegistry::load_plugin) can use them from YAML pipelines.
//
//   #include <dagflow/plugin.hpp>
//
//   double to_fahrenheit(double c) { return c * 9.0 / 5.0 + 32.0; }
//
//   DAGFLOW_PLUGIN(registry) {  // registry is a dagflow::OpRegistry&
//     registry.add("to_fahrenheit", to_fahrenheit, "Celsius to Fahrenheit");
//   }
//
// Build it with the package's CMake function (find_package(dagflow CONFIG REQUIRED)):
//
//   dagflow_add_plugin(temperature_ops temperature_ops.cpp)   # libtemperature_ops.so
//
// and load it with `dagflow run|validate|graph|ops|cache ... --plugin PATH`, or from a pipeline's
// top-level `plugins: [PATH, ...]` when the run allows it (`--allow-plugins`). Ops are added as
// with OpRegistry::add: their version (OpInfo::set_version) keys the cache as a built-in op's
// does. A plugin is refused unless it was built against the same dagflow version as the program
// that loads it (the C++ types it shares with it must be the same), and when it registers a name
// that exists already. One plugin per library: DAGFLOW_PLUGIN appears once.
#pragma once

#include <cstdint>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/version.hpp>

/// Defines the plugin's registration function; the body that follows adds its ops to `registry`.
/// (`registry` names a parameter, so it cannot be parenthesised.)
// NOLINTBEGIN(bugprone-macro-parentheses)
#define DAGFLOW_PLUGIN(registry)                                                                   \
  static void dagflow_plugin_register(::dagflow::OpRegistry& registry);                            \
  extern "C" __attribute__((visibility("default"))) const ::dagflow::PluginEntry*                  \
  dagflow_plugin_entry_v1() {                                                                      \
    static const ::dagflow::PluginEntry entry{DAGFLOW_VERSION_STRING, ::dagflow::kPluginInterface, \
                                              &dagflow_plugin_register};                           \
    return &entry;                                                                                 \
  }                                                                                                \
  static void dagflow_plugin_register(::dagflow::OpRegistry& registry)
// NOLINTEND(bugprone-macro-parentheses)

namespace dagflow {

/// What the `dagflow_plugin_entry_v1` function DAGFLOW_PLUGIN defines returns: the loader
/// checks the version and interface before it calls `register_ops`. Plain C data, so that a
/// plugin built against any dagflow version can be read far enough to be refused clearly.
struct PluginEntry {
  const char* dagflow_version;  ///< DAGFLOW_VERSION_STRING of the headers it was built with
  std::uint32_t interface;      ///< kPluginInterface of those headers
  void (*register_ops)(OpRegistry& registry);
};

/// The layout of PluginEntry and the meaning of its function; changes with them.
inline constexpr std::uint32_t kPluginInterface = 1;

}  // namespace dagflow
