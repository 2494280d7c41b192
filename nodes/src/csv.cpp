// CSV (<dagflow/nodes/csv.hpp>): parsing, formatting and rollup, shared by the CSV ops and C++
// callers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/csv.hpp>

#include "file_io.hpp"
#include "rows.hpp"

namespace dagflow {

namespace {

struct Field {
  std::string text;
  bool quoted = false;
};

struct Record {
  std::size_t line = 0;  // where the record starts, 1-based
  std::vector<Field> fields;
};

// Splits CSV text into records (RFC 4180: fields in double quotes may hold commas, newlines and
// "" for a quote; lines end in \n or \r\n). Empty lines are skipped.
class CsvParser {
 public:
  CsvParser(std::string_view text, std::string_view shown) : text_(text), shown_(shown) {
    if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);  // a UTF-8 byte order mark
  }

  std::vector<Record> parse() {
    std::vector<Record> records;
    while (pos_ < text_.size()) {
      Record record = parse_record();
      const bool blank =
          record.fields.size() == 1 && !record.fields[0].quoted && record.fields[0].text.empty();
      if (!blank) records.push_back(std::move(record));
    }
    return records;
  }

 private:
  [[noreturn]] void fail(std::size_t line, std::string_view what) const {
    throw Error(fmt::format("'{}' line {}: {}", shown_, line, what));
  }

  Record parse_record() {
    Record record;
    record.line = line_;
    for (;;) {
      record.fields.push_back(parse_field());
      if (pos_ >= text_.size()) break;
      const char c = text_[pos_];
      if (c == ',') {
        ++pos_;
        continue;
      }
      if (c == '\n') {
        ++pos_;
        ++line_;
        break;
      }
      if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        pos_ += 2;
        ++line_;
        break;
      }
      fail(line_, "unexpected character after a closing quote");
    }
    return record;
  }

  Field parse_field() {
    Field field;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      field.quoted = true;
      const std::size_t start_line = line_;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) fail(start_line, "a quoted field is not closed");
        const char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            field.text.push_back('"');
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        if (c == '\n') ++line_;
        field.text.push_back(c);
        ++pos_;
      }
      return field;
    }
    std::size_t end = text_.find_first_of(",\n", pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::size_t stop = end;
    // The \r of a \r\n line end; parse_record consumes it with the \n.
    if (end < text_.size() && text_[end] == '\n' && stop > pos_ && text_[stop - 1] == '\r') --stop;
    field.text.assign(text_.substr(pos_, stop - pos_));
    pos_ = stop;
    return field;
  }

  std::string_view text_;
  std::string_view shown_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// A field as read_csv reads it: a quoted one is always a string.
Value typed(const Field& field) {
  return field.quoted ? Value(field.text) : detail::unquoted_field(field.text);
}

// Whether a string field must be quoted: it holds a separator or a quote, or would read back as
// a number (or be taken for an empty line).
bool needs_quotes(const std::string& s) {
  if (s.find_first_of(",\"\r\n") != std::string::npos) return true;
  return detail::unquoted_field(s).kind() != ValueKind::kString;
}

void append_csv_string(std::string& out, const std::string& s, bool quote) {
  if (!quote) {
    out += s;
    return;
  }
  out.push_back('"');
  for (const char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_csv_value(std::string& out, const Value& v, std::size_t row,
                      const std::string& column) {
  switch (v.kind()) {
    case ValueKind::kNull:
      break;
    case ValueKind::kBool:
      out += v.as_bool() ? "true" : "false";
      break;
    case ValueKind::kInt:
      out += std::to_string(v.as_int());
      break;
    case ValueKind::kDouble:
      // to_json keeps a double a double (1.0, not 1), so it reads back as one.
      out += std::isfinite(v.as_double()) ? to_json(v) : fmt::format("{}", v.as_double());
      break;
    case ValueKind::kString:
      append_csv_string(out, v.as_string(), needs_quotes(v.as_string()));
      break;
    case ValueKind::kPath: {
      const std::string& shown = v.as_path().shown;
      append_csv_string(out, shown, needs_quotes(shown));
      break;
    }
    case ValueKind::kList:
    case ValueKind::kMap:
      throw Error(fmt::format("row {}, column '{}': a {} cannot be written to CSV (only scalars)",
                              row, column, kind_name(v.kind())));
  }
}

// The group a rollup key falls in: a string as it is, anything else as JSON.
std::string group_name(const Value& v) {
  if (v.kind() == ValueKind::kString) return v.as_string();
  if (v.kind() == ValueKind::kPath) return v.as_path().shown;
  return to_json(v);
}

struct Group {
  std::int64_t count = 0;
  bool all_ints = true;
  std::int64_t int_sum = 0;
  double double_sum = 0;
  Value min;
  Value max;
};

}  // namespace

std::vector<Value::Map> parse_csv(std::string_view text, std::string_view name) {
  std::vector<Record> records = CsvParser(text, name).parse();
  std::vector<Value::Map> rows;
  if (records.empty()) return rows;
  const Record& header = records.front();
  std::set<std::string_view> seen;
  for (const Field& column : header.fields) {
    if (!seen.insert(column.text).second) {
      throw Error(fmt::format("'{}' line {}: the column '{}' appears twice in the header", name,
                              header.line, column.text));
    }
  }
  rows.reserve(records.size() - 1);
  for (std::size_t r = 1; r < records.size(); ++r) {
    const Record& record = records[r];
    if (record.fields.size() != header.fields.size()) {
      throw Error(fmt::format("'{}' line {}: {} fields, but the header has {}", name, record.line,
                              record.fields.size(), header.fields.size()));
    }
    Value::Map row;
    for (std::size_t c = 0; c < record.fields.size(); ++c) {
      row.emplace(header.fields[c].text, typed(record.fields[c]));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Value::Map> read_csv(const std::filesystem::path& path) {
  const std::string name = path.string();
  return parse_csv(detail::read_file(path, name), name);
}

std::string format_csv(const std::vector<Value::Map>& rows) {
  std::set<std::string> columns;
  for (const Value::Map& row : rows) {
    for (const auto& entry : row) columns.insert(entry.first);
  }
  if (columns.empty()) return {};
  std::string out;
  bool first = true;
  for (const std::string& column : columns) {
    if (!first) out.push_back(',');
    first = false;
    append_csv_string(out, column,
                      column.empty() || column.find_first_of(",\"\r\n") != std::string::npos);
  }
  out.push_back('\n');
  const Value null;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t line_start = out.size();
    first = true;
    for (const std::string& column : columns) {
      if (!first) out.push_back(',');
      first = false;
      const auto it = rows[r].find(column);
      append_csv_value(out, it == rows[r].end() ? null : it->second, r, column);
    }
    // An empty line would be skipped when read back: write one empty quoted field instead.
    if (out.size() == line_start) out += "\"\"";
    out.push_back('\n');
  }
  return out;
}

Value::Map rollup(const std::vector<Value::Map>& rows, const std::string& key,
                  const std::string& value) {
  std::map<std::string, Group> groups;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Value::Map& row = rows[r];
    const Value& k = detail::row_cell(row, r, key);
    const Value& x = detail::row_number(row, r, value);
    const std::string name = group_name(k);
    Group& g = groups[name];
    ++g.count;
    if (g.all_ints && x.kind() == ValueKind::kInt) {
      if (__builtin_add_overflow(g.int_sum, x.as_int(), &g.int_sum)) {
        throw Error(
            fmt::format("row {}: int64 overflow in the sum of '{}' for '{}'", r, value, name));
      }
    } else {
      g.all_ints = false;
    }
    g.double_sum += x.as_double();
    if (g.min.is_null() || x.as_double() < g.min.as_double()) g.min = x;
    if (g.max.is_null() || x.as_double() > g.max.as_double()) g.max = x;
  }
  Value::Map result;
  for (auto& [name, g] : groups) {
    const double mean = g.all_ints ? static_cast<double>(g.int_sum) / static_cast<double>(g.count)
                                   : g.double_sum / static_cast<double>(g.count);
    result.emplace(name, Value::Map{{"count", g.count},
                                    {"sum", g.all_ints ? Value(g.int_sum) : Value(g.double_sum)},
                                    {"mean", mean},
                                    {"min", std::move(g.min)},
                                    {"max", std::move(g.max)}});
  }
  return result;
}

}  // namespace dagflow
