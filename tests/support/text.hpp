// Small checks on text and on what code throws, shared by the test files. Header-only, pure.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace dagflow::test {

/// How many times `what` (not empty) occurs in `text`, overlaps included.
[[nodiscard]] inline std::size_t count_of(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

/// The what() of the `E` that calling `f` throws, or "(no error)" when it returns: a test then
/// compares the whole message, and a missing error shows in the failure. Other exceptions pass
/// through.
template <class E = std::exception, class F>
[[nodiscard]] std::string thrown_message(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace dagflow::test
