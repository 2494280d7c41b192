#include "type_names.hpp"
// (the header this file implements first)

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace dagflow {

namespace {

// What a value of one alternative of a type is at the top level.
enum class Shape : std::uint8_t { kAny, kNull, kBool, kInt, kNumber, kString, kPath, kList, kMap };

// One alternative of a type name; a list or a map also has its elements' type.
struct Alternative {
  Shape shape = Shape::kAny;
  std::string_view element{};
};

constexpr std::string_view kOr = " or ";
constexpr std::string_view kListOf = "list of ";
constexpr std::string_view kMapOf = "map of ";

// One alternative, `part`, with `rest` being it and everything after it in the name: the
// elements of a container are all of `rest`, so "list of int or null" reads as a list of
// (int or null) as well as null. Reading ambiguous names the wider way keeps the checks from
// refusing what the op meant.
Alternative alternative(std::string_view part, std::string_view rest) {
  static constexpr std::array<std::pair<std::string_view, Shape>, 7> kScalars = {{
      {"any", Shape::kAny},
      {"null", Shape::kNull},
      {"bool", Shape::kBool},
      {"int", Shape::kInt},
      {"number", Shape::kNumber},
      {"string", Shape::kString},
      {"path", Shape::kPath},
  }};
  for (const auto& [name, shape] : kScalars) {
    if (part == name) return {shape};
  }
  if (part == "list") return {Shape::kList, "any"};
  if (part == "map") return {Shape::kMap, "any"};
  if (part.starts_with(kListOf)) return {Shape::kList, rest.substr(kListOf.size())};
  if (part.starts_with(kMapOf)) return {Shape::kMap, rest.substr(kMapOf.size())};
  // A pair is a list of two; which element is which is not worth telling apart here.
  if (part.starts_with("pair of ")) return {Shape::kList, "any"};
  return {Shape::kAny};  // a custom ValueConvert's name
}

// "string or path": a string or a path.
std::vector<Alternative> alternatives(std::string_view type) {
  std::vector<Alternative> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = type.find(kOr, start);
    const std::string_view part =
        end == std::string_view::npos ? type.substr(start) : type.substr(start, end - start);
    out.push_back(alternative(part, type.substr(start)));
    if (end == std::string_view::npos) return out;
    start = end + kOr.size();
  }
}

bool is_number(Shape shape) { return shape == Shape::kInt || shape == Shape::kNumber; }

bool alternative_accepts(const Alternative& expected, const Alternative& given) {
  if (expected.shape == Shape::kAny || given.shape == Shape::kAny) return true;
  if (expected.shape == given.shape) {
    const bool container = expected.shape == Shape::kList || expected.shape == Shape::kMap;
    return !container || may_accept(expected.element, given.element);
  }
  // An int is a number, and a number may be an int (an op returning "number" may keep ints).
  if (is_number(expected.shape) && is_number(given.shape)) return true;
  // ValueConvert<std::filesystem::path> takes a string as a path; a path is no string.
  return expected.shape == Shape::kPath && given.shape == Shape::kString;
}

}  // namespace

bool may_accept(std::string_view expected, std::string_view given) {
  const std::vector<Alternative> takes = alternatives(expected);
  for (const Alternative& g : alternatives(given)) {
    for (const Alternative& e : takes) {
      if (alternative_accepts(e, g)) return true;
    }
  }
  return false;
}

std::optional<std::string> element_type(std::string_view list) {
  std::optional<std::string> element;
  for (const Alternative& a : alternatives(list)) {
    if (a.shape == Shape::kAny) return "any";
    if (a.shape != Shape::kList) continue;
    // "list of int or list of string": either; read widely, as everywhere here.
    if (element) return "any";
    element = std::string(a.element);
  }
  return element;
}

std::string list_type(std::string_view element) {
  return std::string(kListOf) + std::string(element);
}

}  // namespace dagflow
