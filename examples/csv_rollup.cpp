// Group-by over CSV files: every file parsed on its own core, the rows joined, then count, sum,
// mean, min and max of one column per value of another.
//
//   (--generate F: 0..F-1 --map(write_sales)--> DIR/sales_NN.csv, then as below)
//   DIR/*.csv (sorted) --map(read_csv)--> rows per file --concat--> rows --rollup--> groups
//
// YAML twin: examples/pipelines/csv_rollup.yaml (glob -> map read_csv -> concat -> rollup), which
// parses and groups with the same code (<dagflow/nodes/csv.hpp>). Over the bundled
// examples/pipelines/data (the default here) both print the same `rollup: {...}` line.
// Scale up: csv_rollup --generate 16 --rows 20000 --out DIR, then the twin over the same files:
//   dagflow run examples/pipelines/csv_rollup.yaml --set data=DIR   (DIR absolute)
// (the bundled files are `csv_rollup --generate 4 --rows 25`).
//
// Usage: csv_rollup [DIR] [--key K] [--value V] [--generate F [--rows N] [--seed X] [--out DIR]]
//                   [--threads T]
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

namespace {

const char* const kUsage =
    "usage: csv_rollup [DIR] [--key K] [--value V] [--generate F [--rows N] [--seed X] "
    "[--out DIR]] [--threads T]\n"
    "  DIR           a folder of .csv files (default: the bundled examples/pipelines/data)\n"
    "  --key K       the column to group by (default region)\n"
    "  --value V     the numeric column to summarise (default amount)\n"
    "  --generate F  first write F files of random sales into --out, and read those\n"
    "  --rows N      rows per generated file (default 25)\n"
    "  --seed X      seed of the generated sales (default 0)\n"
    "  --out DIR     where to generate (default: a new folder in the temp dir)\n"
    "  --threads T   worker threads (default 0: all cores)\n";

// Writes `rows` random sales (region, product, units, amount) as DIR/sales_<file>.csv.
std::string write_sales(const std::filesystem::path& dir, std::int64_t file, std::int64_t rows,
                        std::int64_t seed) {
  static const char* const kRegions[] = {"north", "south", "east", "west"};
  static const char* const kProducts[] = {"apples", "pears", "plums", "cherries", "quinces"};
  static const std::int64_t kPriceCents[] = {45, 60, 35, 120, 95};
  dagflow::RandomStream rng(static_cast<std::uint64_t>(seed), static_cast<std::uint64_t>(file));
  std::vector<dagflow::Value::Map> sales;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint64_t product = rng.next_below(5);
    const auto units = static_cast<std::int64_t>(1 + rng.next_below(12));
    sales.push_back({{"region", kRegions[rng.next_below(4)]},
                     {"product", kProducts[product]},
                     {"units", units},
                     {"amount", static_cast<double>(units * kPriceCents[product]) / 100}});
  }
  char name[32];
  std::snprintf(name, sizeof name, "sales_%02lld.csv", static_cast<long long>(file));
  std::ofstream stream(dir / name, std::ios::binary);
  stream << dagflow::format_csv(sales);
  if (!stream.flush()) throw std::runtime_error("cannot write " + (dir / name).string());
  return (dir / name).string();
}

std::vector<dagflow::Value::Map> concat(
    const std::vector<std::vector<dagflow::Value::Map>>& parts) {
  std::vector<dagflow::Value::Map> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

}  // namespace

int main(int argc, char** argv) try {
  std::filesystem::path dir;
  std::filesystem::path out;
  std::string key = "region";
  std::string value = "amount";
  std::int64_t generate = 0;
  std::int64_t rows_per_file = 25;
  std::int64_t seed = 0;
  std::int64_t threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--key") {
      key = example::text_option(argc, argv, i, kUsage);
    } else if (a == "--value") {
      value = example::text_option(argc, argv, i, kUsage);
    } else if (a == "--generate") {
      generate = example::int_option(argc, argv, i, 1, 10'000, kUsage);
    } else if (a == "--rows") {
      rows_per_file = example::int_option(argc, argv, i, 0, 10'000'000, kUsage);
    } else if (a == "--seed") {
      seed = example::int_option(argc, argv, i, 0, INT64_MAX, kUsage);
    } else if (a == "--out") {
      out = example::text_option(argc, argv, i, kUsage);
    } else if (a == "--threads") {
      threads = example::int_option(argc, argv, i, 0, 1024, kUsage);
    } else if (!a.starts_with("-") && dir.empty()) {
      dir = a;
    } else {
      example::usage_error(kUsage, "unknown argument '" + std::string(a) + "'");
    }
  }
  if (generate > 0) {
    if (!dir.empty()) example::usage_error(kUsage, "give DIR or --generate, not both");
    dir = out.empty() ? example::fresh_output_dir("csv_rollup") : out;
    std::filesystem::create_directories(dir);
  } else if (dir.empty()) {
    if (example::pipelines_dir().empty()) {
      example::usage_error(kUsage, "the bundled data is missing: name a folder or --generate");
    }
    dir = example::pipelines_dir() / "data";
  }

  dagflow::Graph g;
  dagflow::Delayed<std::vector<std::string>> files;
  if (generate > 0) {  // written by a first map, then read
    std::vector<std::int64_t> file_ids(static_cast<std::size_t>(generate));
    std::iota(file_ids.begin(), file_ids.end(), std::int64_t{0});
    files = dagflow::map(
        g, [&](std::int64_t file) { return write_sales(dir, file, rows_per_file, seed); },
        std::move(file_ids));
  } else {
    files = g.delayed([found = example::files_in(dir, ".csv")] { return found; });
  }
  auto parts = dagflow::map(g, dagflow::op("read_csv", dagflow::read_csv), files);
  auto rows = g.delayed(concat, parts);
  auto groups = g.delayed(dagflow::rollup, rows, key, value);

  dagflow::Executor ex({.threads = static_cast<std::size_t>(threads)});
  const dagflow::Value::Map by_key = ex.compute(groups);

  std::int64_t rows_read = 0;
  for (const auto& [name, summary] : by_key) rows_read += summary.as_map().at("count").as_int();
  std::printf("%lld rows, %s by %s:\n", static_cast<long long>(rows_read), value.c_str(),
              key.c_str());
  for (const auto& [name, summary] : by_key) {
    const dagflow::Value::Map& s = summary.as_map();
    std::printf("  %s: %lld rows, sum %.2f, mean %.2f, min %.2f, max %.2f\n", name.c_str(),
                static_cast<long long>(s.at("count").as_int()), s.at("sum").as_double(),
                s.at("mean").as_double(), s.at("min").as_double(), s.at("max").as_double());
  }
  std::printf("rollup: %s\n", dagflow::to_json(by_key).c_str());
  return 0;
} catch (const std::exception& e) {  // a malformed file or a missing column: dagflow::TaskError
  std::fprintf(stderr, "csv_rollup: %s\n", e.what());
  return 1;
}
