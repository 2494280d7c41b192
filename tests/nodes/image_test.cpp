#include <dagflow/nodes/image.hpp>

// Tests of the image code C++ shares with the make_image, image_filter and image_stats ops: the
// reproducible test pattern, the three filters with exact rounding, the file names, and binary
// PNM encoding and decoding with every refusal and its message. Expected pixels were worked
// out by hand from the documented formulas (the test pattern's from an independent model of
// it), never read back from the code under test.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/graph/errors.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::Image;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using Pixels = std::vector<std::uint8_t>;

Image grey(std::size_t width, std::size_t height, std::initializer_list<int> samples) {
  Image image{width, height, 1, {}};
  for (const int s : samples) image.pixels.push_back(static_cast<std::uint8_t>(s));
  return image;
}

Image rgb(std::size_t width, std::size_t height, std::initializer_list<int> samples) {
  Image image = grey(width, height, samples);
  image.channels = 3;
  return image;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// The message of the dagflow::Error decode_pnm throws for `data` named "x.pgm", or "(no error)".
std::string decode_error(std::string_view data) {
  return thrown_message<dagflow::Error>([&] { (void)dagflow::decode_pnm(data, "x.pgm"); });
}

}  // namespace

// The test pattern is a pure function of its arguments: gradients under circles drawn from
// RandomStream(seed, index). Pinned samples keep every machine drawing the same pictures.
TEST_CASE("make_test_image: a reproducible RGB pattern of the asked size", "[nodes][image]") {
  const Image img = dagflow::make_test_image(8, 6, 1, 7);
  REQUIRE(img.width == 8);
  REQUIRE(img.height == 6);
  REQUIRE(img.channels == 3);
  REQUIRE(img.pixels.size() == 8 * 6 * 3);
  // A corner no circle reaches: red across 255, green down 255, blue 255 - 255.
  CHECK(Pixels{img.at(7, 5, 0), img.at(7, 5, 1), img.at(7, 5, 2)} == Pixels{255, 255, 0});
  // Corners and a middle pixel under circles, and the sum of every sample.
  CHECK(Pixels{img.at(0, 0, 0), img.at(0, 0, 1), img.at(0, 0, 2)} == Pixels{12, 115, 153});
  CHECK(Pixels{img.at(7, 0, 0), img.at(7, 0, 1), img.at(7, 0, 2)} == Pixels{223, 99, 57});
  CHECK(Pixels{img.at(3, 2, 0), img.at(3, 2, 1), img.at(3, 2, 2)} == Pixels{66, 166, 100});
  std::uint64_t total = 0;
  for (const std::uint8_t p : img.pixels) total += p;
  CHECK(total == 16814);

  CHECK(dagflow::make_test_image(8, 6, 1, 7) == img);
  CHECK(dagflow::make_test_image(8, 6, 1, 8) != img);
  CHECK(dagflow::make_test_image(8, 6, 2, 7) != img);
  // One pixel: the gradient's start, under three circles.
  CHECK(dagflow::make_test_image(1, 1, 0, 0) == rgb(1, 1, {150, 69, 205}));
}

// Sides outside 1..kMaxImageSide are refused before anything is allocated.
TEST_CASE("make_test_image: refuses sides outside 1..kMaxImageSide", "[nodes][image]") {
  CHECK(thrown_message<dagflow::Error>([] { (void)dagflow::make_test_image(0, 5, 0, 0); }) ==
        "width must be between 1 and 16384, got 0");
  CHECK(thrown_message<dagflow::Error>([] { (void)dagflow::make_test_image(5, 16385, 0, 0); }) ==
        "height must be between 1 and 16384, got 16385");
  CHECK(dagflow::make_test_image(dagflow::kMaxImageSide, 1, 0, 0).width == 16384);
}

// Each output sample is the rounded mean of its 3x3 window, the edges repeated outwards.
TEST_CASE("box_blur: rounded 3x3 means with clamped edges", "[nodes][image]") {
  // A lone bright centre is in every pixel's window exactly once: 255 / 9 = 28.3.
  CHECK(dagflow::box_blur(grey(3, 3, {0, 0, 0, 0, 255, 0, 0, 0, 0})) ==
        grey(3, 3, {28, 28, 28, 28, 28, 28, 28, 28, 28}));
  // [0, 1]: the windows hold three and six 1s: 3/9 rounds down, 6/9 rounds up.
  CHECK(dagflow::box_blur(grey(2, 1, {0, 1})) == grey(2, 1, {0, 1}));
  CHECK(dagflow::box_blur(grey(2, 1, {0, 255})) == grey(2, 1, {85, 170}));
  CHECK(dagflow::box_blur(grey(1, 1, {77})) == grey(1, 1, {77}));
  // Colour stays colour, each channel blurred on its own.
  CHECK(dagflow::box_blur(rgb(2, 1, {0, 255, 9, 255, 0, 9})) ==
        rgb(2, 1, {85, 170, 9, 170, 85, 9}));
}

// Luminance 0.299 R + 0.587 G + 0.114 B, rounded to nearest.
TEST_CASE("greyscale: rounded luminance, grey images unchanged", "[nodes][image]") {
  CHECK(dagflow::greyscale(rgb(5, 1, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 2, 0, 0})) ==
        grey(5, 1, {76, 150, 29, 255, 1}));  // 76.245, 149.685, 29.07, 255, 0.598
  const Image g = grey(2, 1, {3, 200});
  CHECK(dagflow::greyscale(g) == g);
}

// The Sobel gradient magnitude of the luminance, edges clamped, rounded and capped at 255.
TEST_CASE("sobel_edges: gradient magnitude, rounded and capped", "[nodes][image]") {
  // A vertical step of 30: |gx| = 4 * 30 where the window sees it.
  CHECK(dagflow::sobel_edges(grey(3, 3, {0, 0, 30, 0, 0, 30, 0, 0, 30})) ==
        grey(3, 3, {0, 120, 120, 0, 120, 120, 0, 120, 120}));
  // The same step of 100 would be 400: capped.
  CHECK(dagflow::sobel_edges(grey(3, 1, {0, 0, 100})) == grey(3, 1, {0, 255, 255}));
  // Diagonal gradients: sqrt(10² + 10²) = 14.1, sqrt(10² + 30²) = 31.6, sqrt(2 * 30²) = 42.4.
  CHECK(dagflow::sobel_edges(grey(2, 2, {0, 0, 0, 10})) == grey(2, 2, {14, 32, 32, 42}));
  // Colour goes through the luminance first: red 50 is grey 15, a step of 4 * 15.
  CHECK(dagflow::sobel_edges(rgb(2, 1, {0, 0, 0, 50, 0, 0})) == grey(2, 1, {60, 60}));
}

// apply_filter picks a filter by name and refuses names it does not know.
TEST_CASE("apply_filter: blur, grey and edges by name", "[nodes][image]") {
  const Image img = dagflow::make_test_image(5, 4, 3, 1);
  CHECK(dagflow::apply_filter(img, "blur") == dagflow::box_blur(img));
  CHECK(dagflow::apply_filter(img, "grey") == dagflow::greyscale(img));
  CHECK(dagflow::apply_filter(img, "edges") == dagflow::sobel_edges(img));
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::apply_filter(img, "Blur"); }) ==
        "unknown filter 'Blur' (expected blur, grey or edges)");
}

// The mean over every sample of every channel; an empty image has mean 0.
TEST_CASE("mean_sample: mean of all samples", "[nodes][image]") {
  CHECK(dagflow::mean_sample(rgb(2, 1, {0, 10, 20, 30, 40, 50})) == 25.0);
  CHECK(dagflow::mean_sample(grey(3, 1, {1, 2, 2})) == 5.0 / 3.0);
  CHECK(dagflow::mean_sample(Image{}) == 0.0);
  CHECK(dagflow::mean_sample(dagflow::make_test_image(8, 6, 1, 7)) == 16814.0 / 144.0);
}

// The names make_image and image_filter give their files.
TEST_CASE("test_image_name and filtered_image_name: the ops' file names", "[nodes][image]") {
  CHECK(dagflow::test_image_name(0) == "img_0000.ppm");
  CHECK(dagflow::test_image_name(7) == "img_0007.ppm");
  CHECK(dagflow::test_image_name(12345) == "img_12345.ppm");
  CHECK(dagflow::filtered_image_name("img_0007", "edges", grey(1, 1, {0})) == "img_0007_edges.pgm");
  CHECK(dagflow::filtered_image_name("photo", "blur", rgb(1, 1, {0, 0, 0})) == "photo_blur.ppm");
}

// Binary PGM and PPM: a short header, then the samples as they are.
TEST_CASE("encode_pnm: P5 for grey, P6 for RGB, maxval 255", "[nodes][image]") {
  CHECK(dagflow::encode_pnm(grey(3, 1, {0, 10, 255})) == "P5\n3 1\n255\n" + bytes({0, 10, 255}));
  CHECK(dagflow::encode_pnm(rgb(1, 2, {1, 2, 3, 4, 5, 6})) ==
        "P6\n1 2\n255\n" + bytes({1, 2, 3, 4, 5, 6}));
}

// decode_pnm reads what encode_pnm writes, and headers laid out in other legal ways.
TEST_CASE("decode_pnm: reads P5 and P6, comments and any whitespace", "[nodes][image]") {
  // Samples that look like whitespace or '#' right after the header are samples.
  const Image tricky = grey(4, 1, {'\n', ' ', '#', 0});
  CHECK(dagflow::decode_pnm(dagflow::encode_pnm(tricky), "t.pgm") == tricky);
  const Image colour = dagflow::make_test_image(7, 3, 5, 2);
  CHECK(dagflow::decode_pnm(dagflow::encode_pnm(colour), "c.ppm") == colour);
  CHECK(dagflow::decode_pnm("P5 2 1 255 " + bytes({7, 8}), "x.pgm") == grey(2, 1, {7, 8}));
  CHECK(dagflow::decode_pnm("P6\n# made by hand\n1 # wide\n1\t\r\n255\n" + bytes({9, 8, 7}),
                            "x.ppm") == rgb(1, 1, {9, 8, 7}));
}

// Anything but a binary PGM/PPM with maxval 255 and sane sides is refused with the file's name.
TEST_CASE("decode_pnm: refuses damaged and unsupported files with the name", "[nodes][image]") {
  CHECK(decode_error("") ==
        "image 'x.pgm': not a binary PPM or PGM image (the file does not start with P5 or P6)");
  CHECK(decode_error("P2\n1 1\n255\n0\n") ==
        "image 'x.pgm': not a binary PPM or PGM image (the file does not start with P5 or P6)");
  CHECK(decode_error("P5") == "image 'x.pgm': damaged header (no width)");
  CHECK(decode_error("P5\n4") == "image 'x.pgm': damaged header (no height)");
  CHECK(decode_error("P5\n4 x") == "image 'x.pgm': damaged header (no height)");
  CHECK(decode_error("P5\n4 1\n") == "image 'x.pgm': damaged header (no maxval)");
  CHECK(decode_error("P5\n4 1\n255") == "image 'x.pgm': damaged header");
  CHECK(decode_error("P5\n99999999999 1\n255\n") ==
        "image 'x.pgm': damaged header (width too large)");
  CHECK(decode_error("P5\n0 1\n255\n") ==
        "image 'x.pgm': dimensions 0x1 are outside 1x1..16384x16384");
  CHECK(decode_error("P5\n1 16385\n255\n") ==
        "image 'x.pgm': dimensions 1x16385 are outside 1x1..16384x16384");
  CHECK(decode_error("P5\n1 1\n65535\n" + bytes({0, 0})) ==
        "image 'x.pgm': maxval 65535 is not supported (only 255)");
  CHECK(decode_error("P6\n2 2\n255\nabc") ==
        "image 'x.pgm': truncated: 3 bytes of pixels, expected 12");
}

// write_pnm writes through a temp file renamed over the target, making missing directories;
// read_pnm reads it back. Failures name the path.
TEST_CASE("write_pnm and read_pnm: files round-trip, errors name the path", "[nodes][image]") {
  const TempDir dir;
  const Image img = dagflow::make_test_image(6, 4, 0, 3);
  const fs::path file = dir.path() / "out" / "deep" / "img.ppm";
  dagflow::write_pnm(file, img);
  CHECK(dagflow::test::read_file(file) == dagflow::encode_pnm(img));
  CHECK(dagflow::read_pnm(file) == img);
  // Replacing the file leaves nothing else behind in its directory.
  const Image edges = dagflow::sobel_edges(img);
  dagflow::write_pnm(file, edges);
  CHECK(dagflow::read_pnm(file) == edges);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(file.parent_path())) {
    names.push_back(entry.path().filename().string());
  }
  CHECK(names == std::vector<std::string>{"img.ppm"});

  const fs::path missing = dir.path() / "missing.ppm";
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_pnm(missing); }) ==
        "cannot read '" + missing.string() + "': No such file or directory");
  const fs::path text = dir.write("notes.txt", "P3 not binary");
  CHECK(thrown_message<dagflow::Error>([&] { (void)dagflow::read_pnm(text); }) ==
        "image '" + text.string() +
            "': not a binary PPM or PGM image (the file does not start with P5 or P6)");
  const fs::path under_file = text / "img.ppm";
  CHECK(thrown_message<dagflow::Error>([&] { dagflow::write_pnm(under_file, img); }) ==
        "cannot write '" + under_file.string() + "': cannot create directory " + text.string() +
            ": Not a directory");
}
