#include "type_names.hpp"

// Tests of the static type checks the loader makes between ops: only values that certainly
// cannot convert are refused, and names that are ambiguous or unknown are read widely.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/nodes/value.hpp>

namespace {

using dagflow::element_type;
using dagflow::list_type;
using dagflow::may_accept;
using dagflow::ValueConvert;

}  // namespace

// The same names as ValueConvert gives are compared: equal ones fit, kinds apart do not.
TEST_CASE("may_accept: a type fits itself, and kinds that cannot convert do not fit",
          "[pipeline][types]") {
  for (const char* type : {"int", "number", "string", "path", "bool", "list of path", "map of int",
                           "list of map of int", "string or path", "int or null"}) {
    INFO(type);
    CHECK(may_accept(type, type));
  }
  const std::string counts = ValueConvert<std::map<std::string, std::int64_t>>::type_name();
  const std::string paths = ValueConvert<std::vector<std::filesystem::path>>::type_name();
  CHECK_FALSE(may_accept(counts, paths));  // top_k fed a glob
  CHECK_FALSE(may_accept("list of map of int", "map of int"));
  CHECK_FALSE(may_accept("list of int", "list of path"));
  CHECK_FALSE(may_accept("string", "path"));  // a path Value is no string
  CHECK_FALSE(may_accept("bool", "int"));
  CHECK_FALSE(may_accept("int", "string or path"));
  CHECK_FALSE(may_accept("map of int", "map of string"));
}

// Conversions ValueConvert makes, "any", and alternatives fit.
TEST_CASE("may_accept: any, numbers, strings as paths and alternatives fit", "[pipeline][types]") {
  CHECK(may_accept("any", "list of path"));
  CHECK(may_accept("map of int", "any"));
  CHECK(may_accept("list of map of int", "list of any"));
  CHECK(may_accept("list", "list of path"));
  CHECK(may_accept("map of int", "map"));
  CHECK(may_accept("number", "int"));
  CHECK(may_accept("int", "number"));  // a "number" result may be an int
  CHECK(may_accept("path", "string"));
  CHECK(may_accept("string or path", "path"));
  CHECK(may_accept("string or path", "string"));
  CHECK(may_accept("int or null", "int"));
  CHECK(may_accept("int", "int or null"));
  CHECK_FALSE(may_accept("list of number", "list of pair of string and int"));
  CHECK(may_accept("list of list", "list of pair of string and int"));
  CHECK(may_accept("image", "list of path"));  // unknown names are any
}

// "list of int or null" is both a list of (int or null) and (a list of int) or null: either
// reading fits.
TEST_CASE("may_accept: an ambiguous name fits what either reading of it fits",
          "[pipeline][types]") {
  const std::string optional_list = ValueConvert<std::optional<std::vector<int>>>::type_name();
  const std::string list_of_optional = ValueConvert<std::vector<std::optional<int>>>::type_name();
  CHECK(optional_list == list_of_optional);  // why both readings must be kept
  CHECK(may_accept(optional_list, "list of int"));
  CHECK(may_accept(optional_list, "null"));
  CHECK(may_accept("list of int", optional_list));
  CHECK_FALSE(may_accept("map of int", optional_list));
}

// A map node takes each element of the list it maps over.
TEST_CASE("element_type: the elements of a list type, or none for what is no list",
          "[pipeline][types]") {
  CHECK(element_type("list of path") == "path");
  CHECK(element_type("list of map of int") == "map of int");
  CHECK(element_type("list") == "any");
  CHECK(element_type("any") == "any");
  CHECK(element_type("image") == "any");
  CHECK(element_type("list of int or null") == "int or null");
  CHECK(element_type("pair of int and string") == "any");
  CHECK_FALSE(element_type("map of int").has_value());
  CHECK_FALSE(element_type("int").has_value());
  CHECK_FALSE(element_type("string or path").has_value());
  CHECK(list_type("map of int") == "list of map of int");
  CHECK(element_type(list_type("path")) == "path");
}
