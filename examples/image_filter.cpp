// A batch of generated images, each blurred, greyscaled and edge-detected; every image is one
// item of a map, and the three filters run side by side.
//
//                                                          +--map(blur)--> OUT/blur/*.ppm
//   0..N-1 --map(make_test_image)--> OUT/images/*.ppm ---+--map(grey)--> OUT/grey/*.pgm
//                                                          +--map(edges)-> OUT/edges/*.pgm
//
// YAML twin: examples/pipelines/image_filter.yaml (range -> map make_image -> map image_filter
// per filter), which draws and filters with the same code (<dagflow/nodes/image.hpp>): both
// write the same bytes to the same file names (the twin under examples/pipelines/out/).
// Scale up: image_filter --images 200 --width 1024 --height 768, the same as `dagflow run
//   examples/pipelines/image_filter.yaml --set images=200 --set width=1024 --set height=768`
//
// Usage: image_filter [--images N] [--width W] [--height H] [--seed X] [--out DIR] [--threads T]
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

namespace {

const char* const kUsage =
    "usage: image_filter [--images N] [--width W] [--height H] [--seed X] [--out DIR] "
    "[--threads T]\n"
    "  --images N    how many test images to draw (default 8)\n"
    "  --width W     their width in pixels (default 64)\n"
    "  --height H    their height in pixels (default 64)\n"
    "  --seed X      where their circles go (default 0)\n"
    "  --out DIR     where to write them (default: a new folder in the temp dir)\n"
    "  --threads T   worker threads (default 0: all cores)\n";

const char* const kFilters[] = {"blur", "grey", "edges"};

}  // namespace

int main(int argc, char** argv) try {
  std::int64_t images = 8;
  std::int64_t width = 64;
  std::int64_t height = 64;
  std::int64_t seed = 0;
  std::int64_t threads = 0;
  std::filesystem::path out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto side = static_cast<std::int64_t>(dagflow::kMaxImageSide);
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--images") {
      images = example::int_option(argc, argv, i, 1, 100'000, kUsage);
    } else if (a == "--width") {
      width = example::int_option(argc, argv, i, 1, side, kUsage);
    } else if (a == "--height") {
      height = example::int_option(argc, argv, i, 1, side, kUsage);
    } else if (a == "--seed") {
      seed = example::int_option(argc, argv, i, 0, INT64_MAX, kUsage);
    } else if (a == "--out") {
      out = example::text_option(argc, argv, i, kUsage);
    } else if (a == "--threads") {
      threads = example::int_option(argc, argv, i, 0, 1024, kUsage);
    } else {
      example::usage_error(kUsage, "unknown argument '" + std::string(a) + "'");
    }
  }
  if (out.empty()) out = example::fresh_output_dir("image_filter");

  std::vector<std::int64_t> indices(static_cast<std::size_t>(images));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});

  dagflow::Graph g;
  // Draws image `index` and writes it, as the twin's make_image does; returns the file.
  auto drawn = dagflow::map(
      g,
      [&](std::int64_t index) {
        const auto i = static_cast<std::uint64_t>(index);
        const std::filesystem::path file = out / "images" / dagflow::test_image_name(i);
        dagflow::write_pnm(file, dagflow::make_test_image(static_cast<std::size_t>(width),
                                                          static_cast<std::size_t>(height),
                                                          static_cast<std::uint64_t>(seed), i));
        return file.string();
      },
      std::move(indices));
  // Per filter: each image read back, filtered and written as the twin's image_filter does
  // (so no more than one image per worker is in memory); returns its mean sample.
  std::vector<dagflow::Delayed<std::vector<double>>> means;
  for (const std::string filter : kFilters) {
    means.push_back(dagflow::map(
        g,
        [&out, filter](const std::string& file) {
          const dagflow::Image result = dagflow::apply_filter(dagflow::read_pnm(file), filter);
          const std::string stem = std::filesystem::path(file).stem().string();
          dagflow::write_pnm(out / filter / dagflow::filtered_image_name(stem, filter, result),
                             result);
          return dagflow::mean_sample(result);
        },
        drawn));
  }

  dagflow::Executor ex({.threads = static_cast<std::size_t>(threads)});
  const std::vector<std::vector<double>> results = ex.compute(means);

  std::printf("%lld images of %lldx%lld, seed %lld\n", static_cast<long long>(images),
              static_cast<long long>(width), static_cast<long long>(height),
              static_cast<long long>(seed));
  for (std::size_t f = 0; f < results.size(); ++f) {
    const double mean = std::accumulate(results[f].begin(), results[f].end(), 0.0) /
                        static_cast<double>(results[f].size());
    std::printf("%s: %zu files, mean sample %.3f\n", kFilters[f], results[f].size(), mean);
  }
  return 0;
} catch (const std::exception& e) {  // a file that cannot be written: dagflow::TaskError
  std::fprintf(stderr, "image_filter: %s\n", e.what());
  return 1;
}
