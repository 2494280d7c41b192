// Durations as a pipeline file writes them (`timeout: 30s`, `retry_delay: 100ms`): a number and a
// unit, never a bare number, which a reader could take for seconds or for milliseconds.
// Stateless: thread-safe.
#pragma once

#include <chrono>
#include <string_view>

namespace dagflow {

/// The longest duration a pipeline may give: more is surely a mistake, and it keeps deadlines
/// far from the end of the clock's range.
inline constexpr std::chrono::hours kMaxDuration{24 * 365};

/// `text` as a duration: a number (digits, optionally a fraction) and a unit, `ms`, `s`, `min`
/// or `h` ("100ms", "1.5s", "2 min"), in whole milliseconds. Throws std::invalid_argument saying
/// what is wrong (no unit, an unknown unit, a negative or over-long duration, a fraction of a
/// millisecond), as a sentence that can follow "'timeout' of node 'x': ".
[[nodiscard]] std::chrono::milliseconds parse_duration(std::string_view text);

}  // namespace dagflow
