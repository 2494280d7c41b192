// JSON string output shared by everything that writes JSON (traces here, Values in nodes/).
// Not API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dagflow::util {

/// True for a UTF-8 continuation byte (10xxxxxx).
[[nodiscard]] constexpr bool is_utf8_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

/// The length of the well-formed UTF-8 sequence at the start of `s` (which starts with a byte
/// >= 0x80), or 0 when it is not one (overlong forms, surrogates and values past U+10FFFF are
/// not well formed).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view s) noexcept;

/// Appends `s` as a JSON string literal, quotes included: `"` and `\` escaped, control
/// characters as \n, \t, \r, \b, \f or \u00XX, well-formed UTF-8 as it is, and each byte that
/// is not part of well-formed UTF-8 as U+FFFD, so the output is always valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

}  // namespace dagflow::util
