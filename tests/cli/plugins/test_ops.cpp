// A well-formed op plugin for the CLI tests: `test_triple` (version 2) and `test_greet`.
#include <cstdint>
#include <string>

#include <dagflow/plugin.hpp>

DAGFLOW_PLUGIN(registry) {
  registry
      .add(
          "test_triple", [](std::int64_t x) { return 3 * x; }, "three times x")
      .set_version(2);
  registry.add("test_greet", [](const std::string& name) { return "hello, " + name; }, "a greeting",
               {dagflow::arg("name", "world")});
}
