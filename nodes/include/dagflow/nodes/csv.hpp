// CSV files as rows of Values: the code behind the read_csv, write_csv and rollup ops, for C++
// code that must read and summarise exactly as a YAML pipeline does.
//
//   std::vector<dagflow::Value::Map> rows = dagflow::read_csv("sales.csv");
//   dagflow::Value::Map by_region = dagflow::rollup(rows, "region", "amount");
//   by_region.at("north").as_map().at("sum");   // an int if every amount was one, else a double
//
// Every function is pure or touches only the file it names, and is thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/nodes/value.hpp>

namespace dagflow {

/// The records of CSV text (RFC 4180: fields in double quotes may hold commas, newlines and ""
/// for a quote; lines end in \n or \r\n; a UTF-8 byte order mark and empty lines are skipped) as
/// maps column -> value, the first record naming the columns. An unquoted field that is a whole
/// int64 becomes an int, one that is a finite number a double, anything else (quoted fields
/// included) a string. Throws dagflow::Error "'NAME' line N: what is wrong" for an unclosed
/// quote, a character after a closing quote, a record whose field count differs from the
/// header's, or a column named twice. O(text size).
[[nodiscard]] std::vector<Value::Map> parse_csv(std::string_view text, std::string_view name);

/// parse_csv of the file at `path` (named as given in messages). Throws dagflow::Error "cannot
/// read 'PATH': REASON" when the file cannot be read, and parse_csv's errors.
[[nodiscard]] std::vector<Value::Map> read_csv(const std::filesystem::path& path);

/// Rows as CSV text: the columns are the sorted union of the rows' keys, a missing key or null
/// an empty field; strings are quoted when they must be (a separator, a quote, or text that
/// would read back as a number), doubles keep a decimal point. Throws dagflow::Error "row R,
/// column 'C': ..." for a list or map value. Rows with no columns at all give "".
[[nodiscard]] std::string format_csv(const std::vector<Value::Map>& rows);

/// Groups `rows` by their `key` column (a string key as it is, any other value as its JSON) and
/// summarises their numeric `value` column per group, visiting rows in order: group ->
/// {count, sum, mean, min, max}. `sum` is an int when every value of the group is (exact; an
/// int64 overflow is an error), else a double added in row order; `mean` is a double; `min` and
/// `max` keep their value's kind. Throws dagflow::Error "row R has no column 'C'" and "row R:
/// the column 'C' is not a number: JSON".
[[nodiscard]] Value::Map rollup(const std::vector<Value::Map>& rows, const std::string& key,
                                const std::string& value);

}  // namespace dagflow
