// libFuzzer harness for the pipeline loader (RELIABILITY.md Y8): bytes -> parse_pipeline_spec ->
// a validated spec or a dagflow::Error. Any other exception, a crash, a sanitizer report, a
// timeout (-timeout=5) or memory past -rss_limit_mb is a finding. Run it with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>
#include <dagflow/pipeline/pipeline.hpp>

namespace {

using Counts = std::map<std::string, std::int64_t>;

// Ops with every kind of signature the loader checks (inputs, maps, defaults, path and output
// path arguments, an op that runs commands). The bodies never run.
dagflow::OpRegistry make_ops() {
  namespace fs = std::filesystem;
  dagflow::OpRegistry r;
  r.add("glob", [](const std::string& p) { return std::vector<std::string>{p}; }, "",
        {dagflow::arg("pattern")})
      .set_probe();
  r.add(
      "word_count",
      [](const std::string& t) {
        return Counts{{t, 1}};
      },
      "");
  r.add(
      "merge_counts", [](const std::vector<Counts>& all) { return all.size(); }, "");
  r.add("top_k",
        [](const Counts& c, std::int64_t k) { return c.size() + static_cast<std::size_t>(k); }, "",
        {dagflow::arg("k", 10)});
  r.add("read_text", [](const fs::path& f) { return f.string(); }, "", {dagflow::arg("file")});
  r.add("read_all", [](const std::vector<fs::path>& f) { return f.size(); }, "",
        {dagflow::arg("files")});
  r.add(
       "save",
       [](const dagflow::Value& v, const fs::path& out) { return v.is_null() ? out.string() : ""; },
       "", {dagflow::output_path_arg("out")})
      .set_side_effects();
  r.add("shell", [](const std::vector<std::string>& argv) { return argv.size(); }, "",
        {dagflow::arg("argv")})
      .set_runs_commands();
  r.add("constant", [](const dagflow::Value& v) { return v; }, "", {dagflow::arg("value")});
  r.add("scale", [](double x, double by, bool round) { return round ? x * by : x; }, "",
        {dagflow::arg("by", 2.0), dagflow::arg("round", false)});
  r.add(
      "pair",
      [](const dagflow::Value& a, const dagflow::Value& b) {
        return dagflow::Value::List{a, b};
      },
      "");
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dagflow::OpRegistry ops = make_ops();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The options vary with the input's length, so both sides of each switch get exercised while
  // every input still reproduces on its own.
  const dagflow::LoadOptions options{.allow_outside = (size & 1U) != 0,
                                     .allow_shell = (size & 2U) != 0};
  try {
    const dagflow::PipelineSpec spec =
        dagflow::parse_pipeline_spec(text, "/nonexistent-dagflow-fuzz/pipeline.yaml", ops, options);
    // A spec that loads is consistent: every output and input names a node placed before use.
    std::map<std::string, bool> placed;
    for (const dagflow::NodeSpec& node : spec.nodes) {
      for (const std::string& input : node.inputs) {
        if (!placed.contains(input)) __builtin_trap();
      }
      if (!node.map.empty() && !placed.contains(node.map)) __builtin_trap();
      // A reduce combines a map's results, and such a map takes nothing else.
      if (!node.reduce.empty() && (node.map.empty() || !node.inputs.empty())) __builtin_trap();
      placed[node.id] = true;
    }
    for (const std::string& output : spec.outputs) {
      if (!placed.contains(output)) __builtin_trap();
    }
  } catch (const dagflow::Error&) {
    // Expected: the input is not a valid pipeline.
  }
  return 0;
}
