// Small 8-bit images: the code behind the make_image, image_filter and image_stats ops, for C++
// code that must produce exactly the files a YAML pipeline produces.
//
//   dagflow::Image img = dagflow::make_test_image(64, 64, /*seed=*/0, /*index=*/7);
//   dagflow::write_pnm(dir / dagflow::test_image_name(7), img);           // img_0007.ppm
//   dagflow::Image edges = dagflow::apply_filter(img, "edges");           // a grey image
//   dagflow::write_pnm(dir / dagflow::filtered_image_name("img_0007", "edges", edges), edges);
//
// Files are binary PGM (P5, grey) and PPM (P6, RGB) with maxval 255. Every function is pure or
// touches only the files it names, and is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dagflow {

/// Images with a larger width or height are refused (a damaged header must not make a reader
/// allocate gigabytes).
inline constexpr std::size_t kMaxImageSide = 16384;

/// An 8-bit image: grey (1 channel) or RGB (3 channels), rows top to bottom, channels
/// interleaved.
struct Image {
  std::size_t width = 0;
  std::size_t height = 0;
  std::size_t channels = 0;          // 1 (grey) or 3 (RGB)
  std::vector<std::uint8_t> pixels;  // width * height * channels samples

  /// The sample of channel `c` at column `x`, row `y` (unchecked).
  [[nodiscard]] std::uint8_t at(std::size_t x, std::size_t y, std::size_t c) const {
    return pixels[(y * width + x) * channels + c];
  }
  friend bool operator==(const Image&, const Image&) = default;
};

/// A colourful RGB test image: gradients (red across, green down, blue along the diagonal)
/// under 3 to 5 circles whose place, size and colour come from RandomStream(seed, index).
/// Throws dagflow::Error when a side is outside 1..kMaxImageSide. O(width * height).
[[nodiscard]] Image make_test_image(std::size_t width, std::size_t height, std::uint64_t seed,
                                    std::uint64_t index);

/// 3x3 box blur of every channel (edges clamped, sums rounded to nearest); keeps the channels.
[[nodiscard]] Image box_blur(const Image& image);
/// Luminance 0.299 R + 0.587 G + 0.114 B, rounded: a grey image (a grey input is returned as is).
[[nodiscard]] Image greyscale(const Image& image);
/// Sobel gradient magnitude of the luminance (edges clamped), rounded and capped at 255: a grey
/// image.
[[nodiscard]] Image sobel_edges(const Image& image);

/// The filters image_filter knows, by name: "blur" (box_blur), "grey" (greyscale), "edges"
/// (sobel_edges). Throws dagflow::Error "unknown filter 'NAME' (expected blur, grey or edges)".
[[nodiscard]] Image apply_filter(const Image& image, std::string_view filter);

/// The mean of all samples of all channels (image_stats' `mean`); 0 for an empty image.
[[nodiscard]] double mean_sample(const Image& image);

/// The file name make_image gives the image `index`: "img_" + index (at least 4 digits) + ".ppm".
[[nodiscard]] std::string test_image_name(std::uint64_t index);
/// The file name image_filter gives `result`, filtered with `filter` from a file named `stem`.*:
/// "<stem>_<filter>.ppm" for RGB, ".pgm" for grey.
[[nodiscard]] std::string filtered_image_name(std::string_view stem, std::string_view filter,
                                              const Image& result);

/// The image as a binary PPM (3 channels) or PGM (1 channel) file: header, then the samples.
[[nodiscard]] std::string encode_pnm(const Image& image);
/// Parses a binary PPM (P6) or PGM (P5) file with maxval 255 (# comments allowed in the
/// header). Throws dagflow::Error "image 'NAME': what is wrong" for anything else, a truncated
/// file, or a side outside 1..kMaxImageSide.
[[nodiscard]] Image decode_pnm(std::string_view bytes, std::string_view name);

/// Reads and decodes the file at `path`. Throws dagflow::Error (unreadable or not an image).
[[nodiscard]] Image read_pnm(const std::filesystem::path& path);
/// Writes `image` to `path` atomically (a temp file in the same directory, renamed over the
/// target), creating missing parent directories. Throws dagflow::Error "cannot write 'PATH':
/// REASON".
void write_pnm(const std::filesystem::path& path, const Image& image);

}  // namespace dagflow
