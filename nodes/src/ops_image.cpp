// Image ops on binary PPM (P6) and PGM (P5) files with maxval 255: make_image, image_filter,
// image_stats.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

// Larger images are refused (a damaged header must not make us allocate gigabytes).
constexpr std::int64_t kMaxSide = 16384;

struct Image {
  std::size_t width = 0;
  std::size_t height = 0;
  std::size_t channels = 0;          // 1 (grey, PGM) or 3 (RGB, PPM)
  std::vector<std::uint8_t> pixels;  // row by row, channels interleaved

  [[nodiscard]] std::uint8_t at(std::size_t x, std::size_t y, std::size_t c) const {
    return pixels[(y * width + x) * channels + c];
  }
};

// Reads the header of a binary PPM/PGM, then its pixels.
class NetpbmReader {
 public:
  NetpbmReader(std::string_view bytes, std::string_view shown) : bytes_(bytes), shown_(shown) {}

  Image read() {
    if (bytes_.size() < 2 || bytes_[0] != 'P' || (bytes_[1] != '5' && bytes_[1] != '6')) {
      fail("not a binary PPM or PGM image (the file does not start with P5 or P6)");
    }
    Image image;
    image.channels = bytes_[1] == '6' ? 3 : 1;
    pos_ = 2;
    const std::uint64_t width = number("width");
    const std::uint64_t height = number("height");
    const std::uint64_t maxval = number("maxval");
    if (pos_ >= bytes_.size() || !is_space(bytes_[pos_])) fail("damaged header");
    ++pos_;  // exactly one whitespace byte before the pixels
    if (width == 0 || height == 0 || width > kMaxSide || height > kMaxSide) {
      fail(fmt::format("dimensions {}x{} are outside 1x1..{}x{}", width, height, kMaxSide,
                       kMaxSide));
    }
    if (maxval != 255) fail(fmt::format("maxval {} is not supported (only 255)", maxval));
    image.width = static_cast<std::size_t>(width);
    image.height = static_cast<std::size_t>(height);
    const std::size_t size = image.width * image.height * image.channels;
    if (bytes_.size() - pos_ < size) {
      fail(fmt::format("truncated: {} bytes of pixels, expected {}", bytes_.size() - pos_, size));
    }
    image.pixels.assign(bytes_.begin() + static_cast<std::ptrdiff_t>(pos_),
                        bytes_.begin() + static_cast<std::ptrdiff_t>(pos_ + size));
    return image;
  }

 private:
  static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }

  [[noreturn]] void fail(std::string_view what) const {
    throw Error(fmt::format("image '{}': {}", shown_, what));
  }

  // A decimal header field, after whitespace and # comments.
  std::uint64_t number(std::string_view what) {
    for (;;) {
      while (pos_ < bytes_.size() && is_space(bytes_[pos_])) ++pos_;
      if (pos_ < bytes_.size() && bytes_[pos_] == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
        continue;
      }
      break;
    }
    if (pos_ >= bytes_.size() || bytes_[pos_] < '0' || bytes_[pos_] > '9') {
      fail(fmt::format("damaged header (no {})", what));
    }
    std::uint64_t value = 0;
    while (pos_ < bytes_.size() && bytes_[pos_] >= '0' && bytes_[pos_] <= '9') {
      value = value * 10 + static_cast<std::uint64_t>(bytes_[pos_] - '0');
      if (value > 1'000'000'000) fail(fmt::format("damaged header ({} too large)", what));
      ++pos_;
    }
    return value;
  }

  std::string_view bytes_;
  std::string_view shown_;
  std::size_t pos_ = 0;
};

std::string encode(const Image& image) {
  std::string out =
      fmt::format("{}\n{} {}\n255\n", image.channels == 3 ? "P6" : "P5", image.width, image.height);
  out.append(reinterpret_cast<const char*>(image.pixels.data()), image.pixels.size());
  return out;
}

Image load(const OpContext& ctx, const detail::FileArg& file) {
  const std::string bytes = detail::read_file(ctx, file);
  return NetpbmReader(bytes, file.shown).read();
}

detail::FileArg file_in(const detail::FileArg& dir, const std::string& name) {
  std::string shown = dir.shown;
  if (!shown.empty() && shown.back() != '/') shown.push_back('/');
  return {dir.path / name, shown + name};
}

std::size_t checked_side(std::int64_t side, std::string_view what) {
  if (side < 1 || side > kMaxSide) {
    throw Error(fmt::format("{} must be between 1 and {}, got {}", what, kMaxSide, side));
  }
  return static_cast<std::size_t>(side);
}

// Gradients (red across, green down, blue along the diagonal) with a few circles whose place,
// size and colour come from (seed, index).
Image make_pattern(std::size_t width, std::size_t height, std::int64_t seed, std::int64_t index) {
  Image image{width, height, 3, std::vector<std::uint8_t>(width * height * 3)};
  const std::size_t wx = std::max<std::size_t>(width - 1, 1);
  const std::size_t wy = std::max<std::size_t>(height - 1, 1);
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t x = 0; x < width; ++x) {
      std::uint8_t* p = &image.pixels[(y * width + x) * 3];
      p[0] = static_cast<std::uint8_t>(x * 255 / wx);
      p[1] = static_cast<std::uint8_t>(y * 255 / wy);
      p[2] = static_cast<std::uint8_t>(255 - (x + y) * 255 / (wx + wy));
    }
  }
  detail::Rng rng(static_cast<std::uint64_t>(seed), static_cast<std::uint64_t>(index));
  const std::uint64_t circles = 3 + rng.next_below(3);
  for (std::uint64_t i = 0; i < circles; ++i) {
    const auto cx = static_cast<std::int64_t>(rng.next_below(width));
    const auto cy = static_cast<std::int64_t>(rng.next_below(height));
    const auto r = static_cast<std::int64_t>(1 + rng.next_below(std::max(width, height) / 4 + 1));
    std::uint8_t colour[3];
    for (std::uint8_t& c : colour) c = static_cast<std::uint8_t>(rng.next_below(256));
    for (std::int64_t y = std::max<std::int64_t>(cy - r, 0);
         y <= std::min<std::int64_t>(cy + r, static_cast<std::int64_t>(height) - 1); ++y) {
      for (std::int64_t x = std::max<std::int64_t>(cx - r, 0);
           x <= std::min<std::int64_t>(cx + r, static_cast<std::int64_t>(width) - 1); ++x) {
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
        std::uint8_t* p =
            &image.pixels[(static_cast<std::size_t>(y) * width + static_cast<std::size_t>(x)) * 3];
        for (std::size_t c = 0; c < 3; ++c) {
          p[c] = static_cast<std::uint8_t>((p[c] + colour[c] + 1) / 2);
        }
      }
    }
  }
  return image;
}

std::size_t clamp_index(std::int64_t i, std::size_t size) {
  if (i < 0) return 0;
  const auto u = static_cast<std::size_t>(i);
  return u >= size ? size - 1 : u;
}

Image blur(const Image& in) {
  Image out{in.width, in.height, in.channels, std::vector<std::uint8_t>(in.pixels.size())};
  for (std::size_t y = 0; y < in.height; ++y) {
    for (std::size_t x = 0; x < in.width; ++x) {
      for (std::size_t c = 0; c < in.channels; ++c) {
        unsigned sum = 0;
        for (std::int64_t dy = -1; dy <= 1; ++dy) {
          for (std::int64_t dx = -1; dx <= 1; ++dx) {
            sum += in.at(clamp_index(static_cast<std::int64_t>(x) + dx, in.width),
                         clamp_index(static_cast<std::int64_t>(y) + dy, in.height), c);
          }
        }
        out.pixels[(y * in.width + x) * in.channels + c] = static_cast<std::uint8_t>((sum + 4) / 9);
      }
    }
  }
  return out;
}

// Luminance 0.299 R + 0.587 G + 0.114 B, rounded (a grey image stays as it is).
Image grey(const Image& in) {
  if (in.channels == 1) return in;
  Image out{in.width, in.height, 1, std::vector<std::uint8_t>(in.width * in.height)};
  for (std::size_t i = 0; i < out.pixels.size(); ++i) {
    const unsigned r = in.pixels[i * 3];
    const unsigned g = in.pixels[i * 3 + 1];
    const unsigned b = in.pixels[i * 3 + 2];
    out.pixels[i] = static_cast<std::uint8_t>((299 * r + 587 * g + 114 * b + 500) / 1000);
  }
  return out;
}

// Sobel gradient magnitude of the luminance, edges clamped, capped at 255.
Image edges(const Image& in) {
  const Image lum = grey(in);
  Image out{in.width, in.height, 1, std::vector<std::uint8_t>(in.width * in.height)};
  const auto px = [&](std::size_t x, std::size_t y, std::int64_t dx, std::int64_t dy) {
    return static_cast<int>(lum.at(clamp_index(static_cast<std::int64_t>(x) + dx, lum.width),
                                   clamp_index(static_cast<std::int64_t>(y) + dy, lum.height), 0));
  };
  for (std::size_t y = 0; y < in.height; ++y) {
    for (std::size_t x = 0; x < in.width; ++x) {
      const int gx = (px(x, y, 1, -1) + 2 * px(x, y, 1, 0) + px(x, y, 1, 1)) -
                     (px(x, y, -1, -1) + 2 * px(x, y, -1, 0) + px(x, y, -1, 1));
      const int gy = (px(x, y, -1, 1) + 2 * px(x, y, 0, 1) + px(x, y, 1, 1)) -
                     (px(x, y, -1, -1) + 2 * px(x, y, 0, -1) + px(x, y, 1, -1));
      const double magnitude = std::sqrt(static_cast<double>(gx * gx + gy * gy));
      out.pixels[y * in.width + x] =
          static_cast<std::uint8_t>(std::min(255L, std::lround(magnitude)));
    }
  }
  return out;
}

Value make_image(const OpContext& ctx, std::int64_t index, const detail::FileArg& dir,
                 std::int64_t width, std::int64_t height, std::int64_t seed) {
  if (index < 0) throw Error(fmt::format("index must be at least 0, got {}", index));
  const Image image =
      make_pattern(checked_side(width, "width"), checked_side(height, "height"), seed, index);
  return detail::write_file_atomically(ctx, file_in(dir, fmt::format("img_{:04}.ppm", index)),
                                       encode(image));
}

Value image_filter(const OpContext& ctx, const detail::FileArg& input, const std::string& filter,
                   const detail::FileArg& out_dir) {
  if (filter != "blur" && filter != "grey" && filter != "edges") {
    throw Error(fmt::format("unknown filter '{}' (expected blur, grey or edges)", filter));
  }
  const Image in = load(ctx, input);
  const Image out = filter == "blur" ? blur(in) : filter == "grey" ? grey(in) : edges(in);
  const std::string name = fmt::format("{}_{}.{}", input.path.stem().string(), filter,
                                       out.channels == 3 ? "ppm" : "pgm");
  return detail::write_file_atomically(ctx, file_in(out_dir, name), encode(out));
}

Value image_stats(const OpContext& ctx, const detail::FileArg& input) {
  const Image image = load(ctx, input);
  std::uint64_t total = 0;
  for (const std::uint8_t p : image.pixels) total += p;
  return Value::Map{
      {"width", image.width},
      {"height", image.height},
      {"channels", image.channels},
      {"mean", static_cast<double>(total) / static_cast<double>(image.pixels.size())}};
}

}  // namespace

void add_image_ops(OpRegistry& ops) {
  ops.add("make_image", &make_image,
          "Draws a colourful test image (gradients and a few circles placed by seed and index) "
          "and writes it as <dir>/img_<index, 4 digits>.ppm; returns its path.",
          {output_path_arg("dir"), arg("width", 64), arg("height", 64), arg("seed", 0)})
      .set_side_effects();

  ops.add("image_filter", &image_filter,
          "Reads a PPM or PGM image (a path), applies `filter` (blur: 3x3 box blur; grey: "
          "luminance; edges: Sobel magnitude) and writes <out_dir>/<name>_<filter>.ppm or .pgm; "
          "returns its path.",
          {arg("filter"), output_path_arg("out_dir")})
      .set_side_effects();

  ops.add("image_stats", &image_stats,
          "Reads a PPM or PGM image (a path) and returns {width, height, channels, mean}, mean "
          "being the average of all its samples.");
}

}  // namespace dagflow
