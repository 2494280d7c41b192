// A plugin as another dagflow version would build it: its entry point names version 0.0.0, so the
// loader must refuse it before calling anything else in it.
#include <dagflow/plugin.hpp>

namespace {

void register_ops(dagflow::OpRegistry& registry) {
  registry.add(
      "test_old", [](double x) { return x; }, "never registered");
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const dagflow::PluginEntry*
dagflow_plugin_entry_v1() {
  static const dagflow::PluginEntry entry{"0.0.0", dagflow::kPluginInterface, &register_ops};
  return &entry;
}
