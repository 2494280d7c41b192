// Image ops on binary PPM (P6) and PGM (P5) files with maxval 255: make_image, image_filter,
// image_stats. The pixels are <dagflow/nodes/image.hpp>'s; these add the pipeline's file rules.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/image.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

Image load(const OpContext& ctx, const detail::FileArg& file) {
  return decode_pnm(detail::read_file(ctx, file), file.shown);
}

detail::FileArg file_in(const detail::FileArg& dir, const std::string& name) {
  std::string shown = dir.shown;
  if (!shown.empty() && shown.back() != '/') shown.push_back('/');
  return {dir.path / name, shown + name};
}

std::size_t checked_side(std::int64_t side, std::string_view what) {
  if (side < 1 || static_cast<std::uint64_t>(side) > kMaxImageSide) {
    throw Error(fmt::format("{} must be between 1 and {}, got {}", what, kMaxImageSide, side));
  }
  return static_cast<std::size_t>(side);
}

PathValue make_image(const OpContext& ctx, std::int64_t index, const detail::FileArg& dir,
                     std::int64_t width, std::int64_t height, std::int64_t seed) {
  if (index < 0) throw Error(fmt::format("index must be at least 0, got {}", index));
  const Image image =
      make_test_image(checked_side(width, "width"), checked_side(height, "height"),
                      static_cast<std::uint64_t>(seed), static_cast<std::uint64_t>(index));
  return detail::write_file_atomically(
      ctx, file_in(dir, test_image_name(static_cast<std::uint64_t>(index))), encode_pnm(image));
}

PathValue image_filter(const OpContext& ctx, const detail::FileArg& input,
                       const std::string& filter, const detail::FileArg& out_dir) {
  const Image out = apply_filter(load(ctx, input), filter);
  return detail::write_file_atomically(
      ctx, file_in(out_dir, filtered_image_name(input.path.stem().string(), filter, out)),
      encode_pnm(out));
}

Value::Map image_stats(const OpContext& ctx, const detail::FileArg& input) {
  const Image image = load(ctx, input);
  return Value::Map{{"width", image.width},
                    {"height", image.height},
                    {"channels", image.channels},
                    {"mean", mean_sample(image)}};
}

}  // namespace

void add_image_ops(OpRegistry& ops) {
  ops.add("make_image", &make_image,
          "Draws a colourful test image (gradients and a few circles placed by seed and index) "
          "and writes it as <dir>/img_<index, 4 digits>.ppm; returns its path.",
          {output_path_arg("dir"), arg("width", 64), arg("height", 64), arg("seed", 0)})
      .set_writes_files(/*keep_bytes=*/false)
      .set_io();

  ops.add("image_filter", &image_filter,
          "Reads a PPM or PGM image (a path), applies `filter` (blur: 3x3 box blur; grey: "
          "luminance; edges: Sobel magnitude) and writes <out_dir>/<name>_<filter>.ppm or .pgm; "
          "returns its path.",
          {arg("filter"), output_path_arg("out_dir")})
      .set_writes_files(/*keep_bytes=*/false)
      .set_io();

  ops.add("image_stats", &image_stats,
          "Reads a PPM or PGM image (a path) and returns {width, height, channels, mean}, mean "
          "being the average of all its samples.")
      .set_io();
}

}  // namespace dagflow
