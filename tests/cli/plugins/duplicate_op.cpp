// A plugin that registers `sum`, a built-in op's name, beside a new one: refused whole.
#include <vector>

#include <dagflow/plugin.hpp>

DAGFLOW_PLUGIN(registry) {
  registry.add(
      "test_unique", [](double x) { return x; }, "a name nobody else uses");
  registry.add(
      "sum", [](const std::vector<double>& xs) { return static_cast<double>(xs.size()); },
      "not the built-in sum");
}
