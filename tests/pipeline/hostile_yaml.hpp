// YAML inputs built to exhaust a naive reader, shared by the reader and loader tests.
#pragma once

#include <string>

namespace dagflow::test {

/// "Billion laughs": nine anchors, each a list of nine aliases of the one before, starting at
/// line 1 column 4 with "&a". Expanded, it would be 9^9 strings.
inline std::string alias_bomb() {
  return "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
         "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
         "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
         "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
         "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
         "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
         "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
         "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
         "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
}

}  // namespace dagflow::test
