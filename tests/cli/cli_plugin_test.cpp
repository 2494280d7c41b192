// Op plugins through the `dagflow` command: --plugin on every command, a pipeline's `plugins:`
// only with --allow-plugins, and the plugins that must be refused (exit 2, a clear message).
// The plugins are built beside the tests (tests/cli/plugins, with dagflow_add_plugin).
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::test::DataDir;
using dagflow::test::run_dagflow;
using dagflow::test::write_file;

const std::string kPlugin = DAGFLOW_TEST_PLUGIN_OPS;

// A pipeline using both ops of the test plugin; `top` is put first (e.g. a `plugins:` key).
std::string triple_pipeline(const std::string& top = {}) {
  return top +
         "name: triples\n"
         "nodes:\n"
         "  xs: {op: range, args: {start: 1, stop: 4}}\n"
         "  tripled: {op: test_triple, map: xs}\n"
         "  hello: {op: test_greet, args: {name: plugin}}\n"
         "outputs: [tripled, hello]\n";
}

// What `dagflow run` prints for it.
const std::string kTriplesOut = "tripled: [3,6,9]\nhello: \"hello, plugin\"\n";

}  // namespace

TEST_CASE("dagflow ops --plugin: the plugin's ops, each with its path", "[cli][plugin]") {
  SECTION("one op") {
    const auto r = run_dagflow({"ops", "test_triple", "--plugin", kPlugin});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("test_triple\n  three times x\n"));
    CHECK_THAT(r.out, Catch::Contains("  plugin: " + kPlugin + "\n"));
  }
  SECTION("all, as JSON: built-in ops have no plugin") {
    const auto r = run_dagflow({"ops", "--json", "--plugin", kPlugin});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("\"plugin\": \"" + kPlugin + "\""));
    CHECK_THAT(r.out, Catch::Contains("\"plugin\": null"));
    CHECK_THAT(r.out, Catch::Contains("\"test_greet\""));
  }
  SECTION("without it the op is unknown") {
    const auto r = run_dagflow({"ops", "test_triple"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("unknown op 'test_triple'"));
  }
}

TEST_CASE("dagflow run --plugin: a pipeline uses the plugin's ops, cached like built-in ones",
          "[cli][plugin]") {
  DataDir data;
  write_file(data.path() / "triples.yaml", triple_pipeline());

  const auto invalid = run_dagflow({"validate", "triples.yaml"}, data.path());
  CHECK(invalid.exit_code == 2);
  CHECK_THAT(invalid.err, Catch::Contains("triples.yaml:5:"));
  CHECK_THAT(invalid.err, Catch::Contains("unknown op 'test_triple'"));

  const auto valid = run_dagflow({"validate", "triples.yaml", "--plugin", kPlugin}, data.path());
  CHECK(valid.exit_code == 0);

  const auto before =
      run_dagflow({"run", "triples.yaml", "--plugin", kPlugin, "--dry-run"}, data.path());
  REQUIRE(before.exit_code == 0);
  CHECK_THAT(before.out, Catch::Contains("tripled"));
  CHECK_THAT(before.out, Catch::Contains("would run   tripled (map test_triple): no cache entry"));

  const auto first = run_dagflow({"run", "triples.yaml", "--plugin", kPlugin, "-q"}, data.path());
  REQUIRE(first.exit_code == 0);
  CHECK(first.out == kTriplesOut);

  const auto dry =
      run_dagflow({"run", "triples.yaml", "--plugin", kPlugin, "--dry-run"}, data.path());
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("tripled"));
  CHECK_THAT(dry.out, Catch::Contains("cached"));
  CHECK_THAT(dry.out, !Catch::Contains("would run"));

  const auto graph = run_dagflow({"graph", "triples.yaml", "--plugin", kPlugin}, data.path());
  CHECK(graph.exit_code == 0);
  CHECK_THAT(graph.out, Catch::Contains("test_triple"));
}

TEST_CASE("a pipeline's plugins: load only with --allow-plugins", "[cli][plugin]") {
  DataDir data;
  fs::create_directories(data.path() / "plugins");
  fs::copy_file(kPlugin, data.path() / "plugins" / "libtest_ops.so");
  write_file(data.path() / "triples.yaml", triple_pipeline("plugins: [plugins/libtest_ops.so]\n"));

  SECTION("refused without the flag, which the message names") {
    for (const char* command : {"run", "validate", "graph"}) {
      INFO(command);
      const auto r = run_dagflow({command, "triples.yaml"}, data.path());
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::Contains("triples.yaml:1:1: 'plugins' loads code into dagflow: "
                                        "loading plugins is not allowed"));
      CHECK_THAT(r.err, Catch::Contains("(pass --allow-plugins)"));
    }
  }
  SECTION("loaded with it, relative to the file, also from another directory") {
    const auto r =
        run_dagflow({"run", data.file("triples.yaml"), "--allow-plugins", "--no-cache", "-q"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == kTriplesOut);
  }
  SECTION("the same file given twice, by --plugin and plugins:, loads once") {
    const auto r = run_dagflow({"run", "triples.yaml", "--allow-plugins", "--plugin",
                                "plugins/libtest_ops.so", "--no-cache", "-q"},
                               data.path());
    CHECK(r.exit_code == 0);
  }
  SECTION("a plugin that is not there: where it is named") {
    write_file(data.path() / "missing.yaml", triple_pipeline("plugins: [nowhere/libx.so]\n"));
    const auto r = run_dagflow({"validate", "missing.yaml", "--allow-plugins"}, data.path());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("missing.yaml:1:11: cannot load plugin"));
  }
}

TEST_CASE("plugins that must be refused: exit 2 and why", "[cli][plugin]") {
  DataDir data;
  write_file(data.path() / "triples.yaml", triple_pipeline());
  struct Case {
    const char* what;
    std::string plugin;
    const char* says;
  };
  const Case cases[] = {
      {"another dagflow version", DAGFLOW_TEST_PLUGIN_OTHER_VERSION,
       "was built against dagflow 0.0.0"},
      {"a name that exists", DAGFLOW_TEST_PLUGIN_DUPLICATE_OP,
       "registers op 'sum', which dagflow (or the program) already registers"},
      {"no plugin", DAGFLOW_TEST_PLUGIN_NOT_A_PLUGIN, "is not a dagflow plugin"},
      {"no file", (data.path() / "libnone.so").string(), "cannot load plugin"},
      {"not a shared library", data.file("triples.yaml"), "cannot load plugin"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    for (const char* command : {"run", "ops"}) {
      INFO(command);
      const auto r = command == std::string("ops")
                         ? run_dagflow({"ops", "--plugin", c.plugin})
                         : run_dagflow({"run", "triples.yaml", "--plugin", c.plugin}, data.path());
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: "));
      CHECK_THAT(r.err, Catch::Contains(c.says));
      CHECK(r.out.empty());
    }
  }
  const auto cache = run_dagflow(
      {"cache", "stats", "--cache-dir", "c", "--plugin", DAGFLOW_TEST_PLUGIN_NOT_A_PLUGIN},
      data.path());
  CHECK(cache.exit_code == 2);
  CHECK_THAT(cache.err, Catch::Contains("is not a dagflow plugin"));
}
