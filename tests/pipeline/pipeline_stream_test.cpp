#include <dagflow/pipeline/pipeline.hpp>

// Tests of streamed files in pipelines: a read_lines/read_chunks node whose readers are all maps
// is not read whole (its blocks stream through them), with the results of the whole-file read; a
// target or a plain reader makes it a list again; an append reruns the last block only; a probe's
// result reaches every line.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/detail/streaming_impl.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/text.hpp>
#include <dagflow/nodes/value.hpp>

#include "pipeline/node_info.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::NodeOutcome;
using dagflow::Pipeline;
using dagflow::PipelineResult;
using dagflow::Value;
using dagflow::test::info;
using dagflow::test::TempDir;

// ~600 KB of words, every line different.
std::string make_text() {
  std::string text;
  for (int i = 0; i < 20'000; ++i) {
    text += "line " + std::to_string(i) + " the cat " + std::to_string(i % 97) + " sat\n";
  }
  return text;
}

}  // namespace

// The issue's word count: the same totals as counting the whole file, through streamed chunks.
TEST_CASE("Pipeline streaming: the word count of read_chunks, map and reduce",
          "[pipeline][stream]") {
  TempDir dir;
  const std::string text = make_text();
  dir.write("text.txt", text);
  const Pipeline p = Pipeline::load(dir.write("wc.yaml", R"(name: wc
params: {file: text.txt}
nodes:
  text:  {op: read_chunks, args: {path: "${file}", bytes: 16K}}
  total: {op: word_count, map: text, reduce: merge_counts}
  top:   {op: top_k, inputs: [total], args: {k: 2}}
  lines: {op: read_lines, args: {path: "${file}"}}
  sizes: {op: word_count, map: lines}
outputs: [total, top, sizes]
)"),
                                    dagflow::OpRegistry::builtins());
  (void)dagflow::detail::take_stream_peak_blocks();
  const std::size_t threads = GENERATE(1, 2);
  const PipelineResult r = p.run({.threads = threads});
  CHECK(dagflow::detail::take_stream_peak_blocks() > 0);  // streamed, not read whole
  const dagflow::WordCounts expected = dagflow::count_words(text);
  Value::Map counts;
  for (const auto& [word, n] : expected) counts.emplace(word, n);
  CHECK(r.outputs.at("total") == Value(counts));
  CHECK(r.outputs.at("top") ==
        Value(Value::List{Value::List{"cat", 20'000}, Value::List{"line", 20'000}}));
  REQUIRE(r.outputs.at("sizes").as_list().size() == 20'000);
  CHECK(r.outputs.at("sizes").as_list()[7] ==
        Value(Value::Map{{"7", 2}, {"cat", 1}, {"line", 1}, {"sat", 1}, {"the", 1}}));
  CHECK(info(r, "text").outcome == NodeOutcome::kExecuted);
}

// A node that is asked for, or read whole by another node, is a list as before.
TEST_CASE("Pipeline streaming: a target or a plain reader reads the file whole",
          "[pipeline][stream]") {
  TempDir dir;
  dir.write("t.txt", "a b\nc\n");
  const Pipeline p = Pipeline::load(dir.write("p.yaml", R"(name: whole
nodes:
  lines: {op: read_lines, args: {path: t.txt}}
  counts: {op: word_count, map: lines}
  kept: {op: write_json, inputs: [lines], args: {path: kept.json}}
outputs: [lines, counts]
)"),
                                    dagflow::OpRegistry::builtins());
  (void)dagflow::detail::take_stream_peak_blocks();
  const PipelineResult r = p.run();
  CHECK(dagflow::detail::take_stream_peak_blocks() == 0);
  CHECK(r.outputs.at("lines") == Value(Value::List{"a b", "c"}));
  CHECK(r.outputs.at("counts").as_list().size() == 2);
}

// With a disk cache, an append reruns the last chunk only; the result is the whole file's.
TEST_CASE("Pipeline streaming: after an append only the tail is counted again",
          "[pipeline][stream][rerun]") {
  TempDir dir;
  std::string text = make_text();
  const fs::path file = dir.write("text.txt", text);
  const fs::path cache = dir.path() / "cache";
  const Pipeline p = Pipeline::load(dir.write("wc.yaml", R"(name: wc
nodes:
  text:  {op: read_chunks, args: {path: text.txt, bytes: 16K}}
  total: {op: word_count, map: text, reduce: merge_counts}
)"),
                                    dagflow::OpRegistry::builtins());
  const PipelineResult cold = p.run({.cache_dir = cache});
  const std::size_t chunks = cold.stats.items_executed;
  REQUIRE(chunks > 30);
  text += "appended words\n";
  dagflow::test::write_file(file, text);
  const PipelineResult warm = p.run({.cache_dir = cache});
  CHECK(warm.stats.items_executed == 1);
  CHECK(warm.stats.items_cached == chunks - 1);
  CHECK(warm.outputs.at("total").as_map().at("appended") == Value(1));
  CHECK(warm.outputs.at("total").as_map().at("cat") == Value(20'000));
}

// A map over a streamed file that also takes a probe's result (a literal of the map's task, not
// a task) gets it with every line; a new probe result reruns the lines, the same one does not.
TEST_CASE("Pipeline streaming: a probe's result reaches every line of a streamed map",
          "[pipeline][stream][probe]") {
  TempDir dir;
  dir.write("t.txt", "a\nb\n");
  dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
  ops.add(
      "tagged",
      [](const std::string& line, const std::vector<fs::path>& files) {
        return std::to_string(files.size()) + " " + line;
      },
      "the line after how many files there are");
  const Pipeline p = Pipeline::load(dir.write("p.yaml", R"(name: tagged
nodes:
  files: {op: glob, args: {pattern: "*.txt"}}
  lines: {op: read_lines, args: {path: t.txt}}
  tags: {op: tagged, map: lines, inputs: [files]}
outputs: [tags]
)"),
                                    ops);
  const fs::path cache = dir.path() / "cache";
  (void)dagflow::detail::take_stream_peak_blocks();
  const PipelineResult first = p.run({.cache_dir = cache});
  CHECK(dagflow::detail::take_stream_peak_blocks() > 0);  // streamed
  CHECK(first.outputs.at("tags") == Value(Value::List{"1 a", "1 b"}));

  const PipelineResult same = p.run({.cache_dir = cache});
  CHECK(same.outputs.at("tags") == first.outputs.at("tags"));
  CHECK(info(same, "tags").outcome == NodeOutcome::kCached);

  dir.write("u.txt", "");
  const PipelineResult more = p.run({.cache_dir = cache});
  CHECK(more.outputs.at("tags") == Value(Value::List{"2 a", "2 b"}));
  CHECK(info(more, "tags").outcome == NodeOutcome::kExecuted);
}
