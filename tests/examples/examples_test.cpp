// The example programs (examples/*.cpp), run as a user would, against their YAML twins
// (examples/pipelines/*.yaml) run by the `dagflow` command: the same results, exactly, and the
// pinned values of the default runs. Each example prints its results as `id: <JSON>` lines, the
// way `dagflow run` prints a pipeline's outputs, so they compare as Values.
//
// Every run starts in an empty temp directory, which must stay empty: the examples depend on
// no working directory and write only where they are told (or in a fresh temp directory).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::from_json;
using dagflow::Value;
using dagflow::test::ProcessResult;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;
using dagflow::test::run_process;
using dagflow::test::TempDir;

const fs::path kPipelines = dagflow::test::example_pipelines_dir();

// Runs the example `name` with `args` from an empty directory, which must still be empty after.
ProcessResult run_example(const std::string& name, const std::vector<std::string>& args = {}) {
  TempDir cwd;
  std::vector<std::string> argv{dagflow::test::example_program(name).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult result = run_process(argv, cwd.path());
  UNSCOPED_INFO(name << " exit code " << result.exit_code << "\n--- stdout ---\n"
                     << result.out << "--- stderr ---\n"
                     << result.err);
  CHECK(fs::is_empty(cwd.path()));
  return result;
}

// The value of the stdout line "id: <JSON>".
Value output_line(const std::string& out, std::string_view id) {
  const std::string prefix = std::string(id) + ": ";
  std::size_t start = out.starts_with(prefix) ? 0 : out.find("\n" + prefix);
  REQUIRE(start != std::string::npos);
  if (start > 0) ++start;
  const std::size_t end = out.find('\n', start);
  REQUIRE(end != std::string::npos);
  return from_json(out.substr(start + prefix.size(), end - start - prefix.size()));
}

// Runs a YAML twin with `dagflow run FILE --json --no-cache ARGS` and returns its outputs.
Value::Map run_twin(const fs::path& file, const std::vector<std::string>& args = {}) {
  TempDir cwd;
  std::vector<std::string> all{"run", file.string(), "--json", "--no-cache"};
  all.insert(all.end(), args.begin(), args.end());
  const ProcessResult result = run_dagflow(all, cwd.path());
  REQUIRE(result.exit_code == 0);
  return from_json(result.out).as_map();
}

// Every regular file below `dir`, by relative path, with its bytes.
std::vector<std::pair<std::string, std::string>> files_below(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.emplace_back(entry.path().lexically_relative(dir).string(), read_file(entry.path()));
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// --help prints the usage on stdout and exits 0; an unknown or malformed option prints it on
// stderr, nothing on stdout, and exits 2.
void check_usage(const std::string& name) {
  const ProcessResult help = run_example(name, {"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::StartsWith("usage: " + name));
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--bogus"},
                                              {"--threads"},
                                              {"--threads", "x"},
                                              {"--threads", "-1"}}) {
    const ProcessResult result = run_example(name, bad);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Contains("usage: " + name));
  }
}

}  // namespace

// The default run sums 0..999999 squared exactly, and so does the twin's default run.
TEST_CASE("sum_squares: prints the same default total as sum_squares.yaml",
          "[examples][sum_squares][slow]") {
  const ProcessResult cpp = run_example("sum_squares");
  REQUIRE(cpp.exit_code == 0);
  CHECK(output_line(cpp.out, "total") == Value(333'332'833'333'500'000));
  CHECK(run_twin(kPipelines / "sum_squares.yaml").at("total") == Value(333'332'833'333'500'000));
}

// Another size gives the twin's total on one thread; past the twin's 64-bit range
// (n > 3024617) the example still adds up exactly, and the twin with `as: double` closely.
TEST_CASE("sum_squares: agrees with sum_squares.yaml at another size, exact past 64 bits",
          "[examples][sum_squares]") {
  const ProcessResult small = run_example("sum_squares", {"-n", "12345", "--threads", "1"});
  REQUIRE(small.exit_code == 0);
  CHECK(output_line(small.out, "total") ==
        run_twin(kPipelines / "sum_squares.yaml", {"--set", "n=12345"}).at("total"));
  const ProcessResult big = run_example("sum_squares", {"--scale", "4000000"});
  REQUIRE(big.exit_code == 0);
  CHECK_THAT(big.out, Catch::Contains("\ntotal: 21333325333334000000\n"));
  // The twin goes past 64 bits with `as: double`, to 1e-12 of the exact total.
  const double twin =
      run_twin(kPipelines / "sum_squares.yaml", {"--set", "n=4000000", "--set", "as=double"})
          .at("total")
          .as_double();
  CHECK(std::fabs(twin - 21333325333334000000.0) <= 1e-12 * 21333325333334000000.0);
}

// The default run counts the bundled texts, as the twin does; a folder and --top scale it.
TEST_CASE("wordcount: prints the same top words as wordcount.yaml", "[examples][wordcount]") {
  const Value expected =
      Value::List{Value::List{"the", 42}, Value::List{"and", 10}, Value::List{"of", 10}};
  const ProcessResult cpp = run_example("wordcount");
  REQUIRE(cpp.exit_code == 0);
  CHECK(output_line(cpp.out, "top") == expected);
  CHECK_THAT(cpp.out, Catch::StartsWith("6 files, 308 words, 189 different\n"));
  CHECK(run_twin(kPipelines / "wordcount.yaml").at("top") == expected);

  const ProcessResult top10 =
      run_example("wordcount", {(kPipelines / "texts").string(), "--top", "10"});
  REQUIRE(top10.exit_code == 0);
  CHECK(output_line(top10.out, "top") ==
        run_twin(kPipelines / "wordcount.yaml", {"--set", "k=10"}).at("top"));
}

// Seeded streams: the same hits on 1 thread and on 4, and the same as the twin's.
TEST_CASE("monte_carlo_pi: counts the same hits as monte_carlo_pi.yaml at any thread count",
          "[examples][monte_carlo_pi]") {
  const ProcessResult cpp = run_example("monte_carlo_pi");
  REQUIRE(cpp.exit_code == 0);
  CHECK(output_line(cpp.out, "hits") == Value(6'283'842));
  CHECK_THAT(cpp.out, Catch::Contains("pi ~ 4 * hits / 8000000 = 3.141921000"));
  CHECK(run_twin(kPipelines / "monte_carlo_pi.yaml").at("hits") == Value(6'283'842));

  const std::vector<std::string> args{"--streams", "5", "--samples", "20000", "--seed", "9"};
  std::vector<std::string> one = args;
  one.insert(one.end(), {"--threads", "1"});
  std::vector<std::string> four = args;
  four.insert(four.end(), {"--threads", "4"});
  const ProcessResult a = run_example("monte_carlo_pi", one);
  const ProcessResult b = run_example("monte_carlo_pi", four);
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(output_line(a.out, "hits") ==
        run_twin(kPipelines / "monte_carlo_pi.yaml",
                 {"--set", "streams=5", "--set", "samples=20000", "--set", "seed=9"})
            .at("hits"));
}

// The example and its twin write the same files, byte for byte.
TEST_CASE("image_filter: writes the same files as image_filter.yaml", "[examples][image_filter]") {
  TempDir dir;
  const ProcessResult cpp =
      run_example("image_filter", {"--images", "5", "--width", "23", "--height", "17", "--seed",
                                   "3", "--out", (dir.path() / "cpp").string()});
  REQUIRE(cpp.exit_code == 0);
  CHECK_THAT(cpp.out, Catch::StartsWith("5 images of 23x17, seed 3\nblur: 5 files, mean sample"));

  // The twin writes beside itself: a copy in a temp directory keeps the source tree clean.
  fs::create_directory(dir.path() / "yaml");
  fs::copy_file(kPipelines / "image_filter.yaml", dir.path() / "yaml" / "image_filter.yaml");
  const Value::Map twin =
      run_twin(dir.path() / "yaml" / "image_filter.yaml",
               {"--set", "images=5", "--set", "width=23", "--set", "height=17", "--set", "seed=3"});
  CHECK(twin.at("edged").as_list().size() == 5);
  CHECK(twin.at("edged").as_list()[4] == Value("out/edges/img_0004_edges.pgm"));

  const auto written = files_below(dir.path() / "cpp");
  CHECK(written.size() == 20);  // 5 images, 3 filters
  CHECK(written == files_below(dir.path() / "yaml" / "out"));
}

// Without --out, the images go to a fresh temp directory, named on stderr; stdout is pinned.
TEST_CASE("image_filter: the default run writes to a new temp directory",
          "[examples][image_filter]") {
  const ProcessResult cpp = run_example("image_filter");
  REQUIRE(cpp.exit_code == 0);
  CHECK(cpp.out ==
        "8 images of 64x64, seed 0\n"
        "blur: 8 files, mean sample 128.267\n"
        "grey: 8 files, mean sample 128.221\n"
        "edges: 8 files, mean sample 24.410\n");
  const std::string prefix = "writing to ";
  REQUIRE(cpp.err.starts_with(prefix));
  const fs::path out = cpp.err.substr(prefix.size(), cpp.err.find('\n') - prefix.size());
  CHECK(out.parent_path() == fs::temp_directory_path().lexically_normal());
  CHECK(files_below(out).size() == 32);
  fs::remove_all(out);
}

// The bundled data rolled up as the twin does; generated data too, and the generator is what
// made the bundled files.
TEST_CASE("csv_rollup: prints the same rollup as csv_rollup.yaml", "[examples][csv_rollup]") {
  const ProcessResult cpp = run_example("csv_rollup");
  REQUIRE(cpp.exit_code == 0);
  const Value rollup = output_line(cpp.out, "rollup");
  CHECK(rollup == run_twin(kPipelines / "csv_rollup.yaml").at("rollup"));
  const Value::Map& north = rollup.as_map().at("north").as_map();
  CHECK(north.at("count") == Value(25));
  CHECK(north.at("max") == Value(12.0));
  CHECK_THAT(cpp.out, Catch::StartsWith("100 rows, amount by region:\n"
                                        "  east: 22 rows, sum 123.35, mean 5.61, min 0.60, "
                                        "max 12.00\n"));

  const ProcessResult by_product =
      run_example("csv_rollup", {"--key", "product", "--value", "units"});
  REQUIRE(by_product.exit_code == 0);
  CHECK(output_line(by_product.out, "rollup") ==
        run_twin(kPipelines / "csv_rollup.yaml", {"--set", "key=product", "--set", "value=units"})
            .at("rollup"));

  TempDir dir;
  const ProcessResult generated =
      run_example("csv_rollup",
                  {"--generate", "3", "--rows", "40", "--seed", "5", "--out", dir.path().string()});
  REQUIRE(generated.exit_code == 0);
  CHECK_THAT(generated.out, Catch::StartsWith("120 rows, amount by region:\n"));
  CHECK(output_line(generated.out, "rollup") ==
        run_twin(kPipelines / "csv_rollup.yaml", {"--set", "data=" + dir.path().string()})
            .at("rollup"));

  TempDir again;
  REQUIRE(
      run_example("csv_rollup", {"--generate", "4", "--rows", "25", "--out", again.path().string()})
          .exit_code == 0);
  CHECK(files_below(again.path()) == files_below(kPipelines / "data"));
}

// Options: --help is usage on stdout and success, a mistake is usage on stderr and exit code 2.
// One case per example: each run is a process, which a sanitizer build makes costly.
TEST_CASE("sum_squares: --help exits 0, bad usage exits 2 with the usage", "[examples][usage]") {
  check_usage("sum_squares");
}

// As for sum_squares.
TEST_CASE("wordcount: --help exits 0, bad usage exits 2 with the usage", "[examples][usage]") {
  check_usage("wordcount");
}

// As for sum_squares.
TEST_CASE("monte_carlo_pi: --help exits 0, bad usage exits 2 with the usage", "[examples][usage]") {
  check_usage("monte_carlo_pi");
}

// As for sum_squares.
TEST_CASE("image_filter: --help exits 0, bad usage exits 2 with the usage", "[examples][usage]") {
  check_usage("image_filter");
}

// As for sum_squares.
TEST_CASE("csv_rollup: --help exits 0, bad usage exits 2 with the usage", "[examples][usage]") {
  check_usage("csv_rollup");
}

// As for sum_squares: the three small examples take --help and --threads too.
TEST_CASE("quickstart, error_handling, custom_op: --help exits 0, bad usage exits 2",
          "[examples][usage]") {
  for (const char* name : {"quickstart", "error_handling", "custom_op"}) {
    INFO(name);
    check_usage(name);
    CHECK(run_example(name, {"--threads", "1"}).exit_code == 0);
  }
}
