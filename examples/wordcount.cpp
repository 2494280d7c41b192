// Word frequencies over a folder of text files: each file counted on its own core, the counts
// merged, the most common words kept.
//
//   DIR/*.txt (sorted) --map(count_words)--> counts --merge_counts--> total --top_words(k)--> top
//
// YAML twin: examples/pipelines/wordcount.yaml (glob -> map word_count -> merge_counts -> top_k),
// which counts with the same functions (<dagflow/nodes/text.hpp>). Over the bundled texts
// (examples/pipelines/texts, the default here) both print
//   top: [["the",42],["and",10],["of",10]]
// Scale up: wordcount /path/to/many/texts --top 10, the same as
//   dagflow run examples/pipelines/wordcount.yaml --set dir=/path/to/many/texts --set k=10
//
// Usage: wordcount [DIR] [--top K] [--threads T]
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

namespace {

const char* const kUsage =
    "usage: wordcount [DIR] [--top K] [--threads T]\n"
    "  DIR          a folder of .txt files (default: the bundled examples/pipelines/texts)\n"
    "  --top K      how many of the most common words to print (default 3)\n"
    "  --threads T  worker threads (default 0: all cores)\n";

dagflow::WordCounts count_file(const std::string& path) {
  return dagflow::count_words(dagflow::read_text_file(path));
}

}  // namespace

// The program on every rank; main() joins the MPI job first (outside the try: a failure that
// ends the program is printed, then every rank exits non-zero).
int run(int argc, char** argv, const example::Ranks& ranks) try {
  std::filesystem::path dir;
  std::int64_t k = 3;
  std::int64_t threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--top") {
      k = example::int_option(argc, argv, i, 0, 1'000'000, kUsage);
    } else if (a == "--threads") {
      threads = example::int_option(argc, argv, i, 0, 1024, kUsage);
    } else if (!a.starts_with("-") && dir.empty()) {
      dir = a;
    } else {
      example::usage_error(kUsage, "unknown argument '" + std::string(a) + "'");
    }
  }
  if (dir.empty() && example::pipelines_dir().empty()) {
    example::usage_error(kUsage, "the bundled texts are missing: name a folder");
  }
  if (dir.empty()) dir = example::pipelines_dir() / "texts";
  if (!std::filesystem::is_directory(dir)) {
    example::usage_error(kUsage, "'" + dir.string() + "' is not a folder");
  }
  const std::vector<std::string> files = example::files_in(dir, ".txt");

  dagflow::Graph g;
  auto counts = dagflow::map(g, dagflow::op("count_words", count_file), files);
  auto total = g.delayed(dagflow::op("merge_counts", dagflow::merge_counts), counts);
  auto top = g.delayed(dagflow::top_words, total, static_cast<std::size_t>(k));

  dagflow::Executor ex({.threads = static_cast<std::size_t>(threads), .cluster = ranks.cluster()});
  const auto [all, best] = ex.compute(total, top);

  std::int64_t words = 0;
  for (const auto& [word, count] : all) words += count;
  dagflow::Value::List top_json;  // printed as the twin prints its `top` output
  for (const auto& [word, count] : best) top_json.push_back(dagflow::Value::List{word, count});
  std::printf("%zu files, %lld words, %zu different\n", files.size(), static_cast<long long>(words),
              all.size());
  std::printf("top: %s\n", dagflow::to_json(top_json).c_str());
  return 0;
} catch (const std::exception& e) {  // a file that cannot be read: dagflow::TaskError
  std::fprintf(stderr, "wordcount: %s\n", e.what());
  return 1;
}

int main(int argc, char** argv) {
  const example::Ranks ranks(argc, argv);
  return run(argc, argv, ranks);
}
