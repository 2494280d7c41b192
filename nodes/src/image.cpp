// Images (<dagflow/nodes/image.hpp>): PNM files, the test pattern and the filters, shared by the
// image ops and C++ callers.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/image.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/random.hpp>

#include "file_io.hpp"

namespace dagflow {

namespace {

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
    if (width == 0 || height == 0 || width > kMaxImageSide || height > kMaxImageSide) {
      fail(fmt::format("dimensions {}x{} are outside 1x1..{}x{}", width, height, kMaxImageSide,
                       kMaxImageSide));
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

std::size_t checked_side(std::size_t side, std::string_view what) {
  if (side < 1 || side > kMaxImageSide) {
    throw Error(fmt::format("{} must be between 1 and {}, got {}", what, kMaxImageSide, side));
  }
  return side;
}

std::size_t clamp_index(std::int64_t i, std::size_t size) {
  if (i < 0) return 0;
  const auto u = static_cast<std::size_t>(i);
  return u >= size ? size - 1 : u;
}

}  // namespace

// Gradients (red across, green down, blue along the diagonal) with a few circles whose place,
// size and colour come from (seed, index).
Image make_test_image(std::size_t width, std::size_t height, std::uint64_t seed,
                      std::uint64_t index) {
  checked_side(width, "width");
  checked_side(height, "height");
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
  RandomStream rng(seed, index);
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

Image box_blur(const Image& in) {
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
Image greyscale(const Image& in) {
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
Image sobel_edges(const Image& in) {
  const Image lum = greyscale(in);
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

Image apply_filter(const Image& image, std::string_view filter) {
  if (filter == "blur") return box_blur(image);
  if (filter == "grey") return greyscale(image);
  if (filter == "edges") return sobel_edges(image);
  throw Error(fmt::format("unknown filter '{}' (expected blur, grey or edges)", filter));
}

double mean_sample(const Image& image) {
  if (image.pixels.empty()) return 0;
  std::uint64_t total = 0;
  for (const std::uint8_t p : image.pixels) total += p;
  return static_cast<double>(total) / static_cast<double>(image.pixels.size());
}

std::string test_image_name(std::uint64_t index) { return fmt::format("img_{:04}.ppm", index); }

std::string filtered_image_name(std::string_view stem, std::string_view filter,
                                const Image& result) {
  return fmt::format("{}_{}.{}", stem, filter, result.channels == 3 ? "ppm" : "pgm");
}

std::string encode_pnm(const Image& image) {
  std::string out =
      fmt::format("{}\n{} {}\n255\n", image.channels == 3 ? "P6" : "P5", image.width, image.height);
  out.append(reinterpret_cast<const char*>(image.pixels.data()), image.pixels.size());
  return out;
}

Image decode_pnm(std::string_view bytes, std::string_view name) {
  return NetpbmReader(bytes, name).read();
}

Image read_pnm(const std::filesystem::path& path) {
  const std::string name = path.string();
  return decode_pnm(detail::read_file(path, name), name);
}

void write_pnm(const std::filesystem::path& path, const Image& image) {
  // The ops' atomic writer; allow_outside: a C++ caller may write wherever it likes.
  detail::write_file_atomically(OpContext{.allow_outside = true}, path, path.string(),
                                encode_pnm(image));
}

}  // namespace dagflow
