// JSON output and input for Value (RFC 8259).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <dagflow/nodes/value.hpp>
#include <dagflow/util/json_text.hpp>

namespace dagflow {

namespace {

// RFC 8259 leaves the limit to implementations; 256 is far beyond any hand-written document and
// keeps the recursive parser's stack use small.
constexpr int kMaxDepth = 256;

void append_utf8(std::string& out, std::uint32_t code_point) {
  const auto put = [&out](std::uint32_t bits) { out += static_cast<char>(bits); };
  if (code_point < 0x80) {
    put(code_point);
  } else if (code_point < 0x800) {
    put(0xC0 | (code_point >> 6));
    put(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    put(0xE0 | (code_point >> 12));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  } else {
    put(0xF0 | (code_point >> 18));
    put(0x80 | ((code_point >> 12) & 0x3F));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  }
}

// ---- Output ----------------------------------------------------------------------------------

// Pretty output writes lists of at most this many scalars on one line.
constexpr std::size_t kInlineListItems = 8;

class JsonWriter {
 public:
  explicit JsonWriter(JsonStyle style) : pretty_(style == JsonStyle::kPretty) {}

  void write(const Value& v, int depth) {
    switch (v.kind()) {
      case ValueKind::kNull:
        out_ += "null";
        break;
      case ValueKind::kBool:
        out_ += v.as_bool() ? "true" : "false";
        break;
      case ValueKind::kInt:
        fmt::format_to(std::back_inserter(out_), "{}", v.as_int());
        break;
      case ValueKind::kDouble:
        write_double(v.as_double());
        break;
      case ValueKind::kString:
        util::append_json_string(out_, v.as_string());
        break;
      case ValueKind::kPath:
        util::append_json_string(out_, v.as_path().shown);
        break;
      case ValueKind::kList: {
        if (v.is_array()) {
          write_array(v, depth);
          break;
        }
        const Value::List& list = v.as_list();
        if (list.empty()) {
          out_ += "[]";
          break;
        }
        // Pretty output keeps a short list of scalars on one line: ["the", 42], not 4 lines.
        const bool inline_list =
            pretty_ && list.size() <= kInlineListItems &&
            std::all_of(list.begin(), list.end(), [](const Value& x) {
              return x.kind() != ValueKind::kList && x.kind() != ValueKind::kMap;
            });
        out_ += '[';
        for (std::size_t i = 0; i < list.size(); ++i) {
          if (i != 0) out_ += inline_list ? ", " : ",";
          if (!inline_list) new_line(depth + 1);
          write(list[i], depth + 1);
        }
        if (!inline_list) new_line(depth);
        out_ += ']';
        break;
      }
      case ValueKind::kMap: {
        const Value::Map& map = v.as_map();
        if (map.empty()) {
          out_ += "{}";
          break;
        }
        out_ += '{';
        bool first = true;
        for (const auto& [key, x] : map) {
          if (!first) out_ += ',';
          first = false;
          new_line(depth + 1);
          util::append_json_string(out_, key);
          out_ += pretty_ ? ": " : ":";
          write(x, depth + 1);
        }
        new_line(depth);
        out_ += '}';
        break;
      }
    }
  }

  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  void new_line(int depth) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth) * 2, ' ');
  }

  // A typed array, as its boxed list would print (numbers are scalars: a short one is inline).
  void write_array(const Value& v, int depth) {
    const std::size_t n = v.list_size();
    if (n == 0) {
      out_ += "[]";
      return;
    }
    const bool inline_list = pretty_ && n <= kInlineListItems;
    out_ += '[';
    for (std::size_t i = 0; i < n; ++i) {
      if (i != 0) out_ += inline_list ? ", " : ",";
      if (!inline_list) new_line(depth + 1);
      if (const auto* ints = v.ints()) {
        fmt::format_to(std::back_inserter(out_), "{}", (*ints)[i]);
      } else {
        write_double((*v.doubles())[i]);
      }
    }
    if (!inline_list) new_line(depth);
    out_ += ']';
  }

  void write_double(double d) {
    if (!std::isfinite(d)) {
      out_ += "null";
      return;
    }
    // fmt's "{}" is the shortest text that reads back as the same double; it may look like an
    // integer ("1", "-0"), which would read back as an int, so such text gets a fraction.
    const std::size_t start = out_.size();
    fmt::format_to(std::back_inserter(out_), "{}", d);
    if (out_.find_first_of(".eE", start) == std::string::npos) out_ += ".0";
  }

  bool pretty_;
  std::string out_;
};

// ---- Input -----------------------------------------------------------------------------------

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Value parse_document() {
    // RFC 8259 lets a parser ignore a byte order mark.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    skip_whitespace();
    Value v = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail(pos_, fmt::format("unexpected {} after the value", here()));
    return v;
  }

 private:
  [[noreturn]] void fail(std::size_t at, std::string_view what) const {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
      const auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') {
        ++line;
        column = 1;
      } else if (!util::is_utf8_continuation(c)) {
        ++column;  // columns count characters, not the bytes of one
      }
    }
    throw ValueError(fmt::format("json:{}:{}: {}", line, column, what));
  }

  // The character at pos_, described for a message.
  [[nodiscard]] std::string here() const {
    if (pos_ >= text_.size()) return "end of input";
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x20 && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02x}", static_cast<unsigned>(c));
  }

  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
  [[nodiscard]] char peek() const { return text_[pos_]; }

  void skip_whitespace() {
    while (!at_end()) {
      const char c = peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  Value parse_value(int depth) {
    if (at_end()) fail(pos_, "unexpected end of input, expected a value");
    switch (peek()) {
      case '{':
        return parse_object(depth + 1);
      case '[':
        return parse_array(depth + 1);
      case '"':
        return Value(parse_string());
      case 't':
        return parse_literal("true", Value(true));
      case 'f':
        return parse_literal("false", Value(false));
      case 'n':
        return parse_literal("null", Value());
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
        fail(pos_, fmt::format("unexpected {}, expected a value", here()));
    }
  }

  void check_depth(int depth) const {
    if (depth > kMaxDepth) fail(pos_, fmt::format("nesting deeper than {} levels", kMaxDepth));
  }

  Value parse_array(int depth) {
    check_depth(depth);
    ++pos_;  // [
    Value::List list;
    skip_whitespace();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return Value(std::move(list));
    }
    while (true) {
      skip_whitespace();
      list.push_back(parse_value(depth));
      skip_whitespace();
      if (at_end()) fail(pos_, "unexpected end of input, expected ',' or ']'");
      if (peek() == ']') {
        ++pos_;
        return Value(std::move(list));
      }
      if (peek() != ',') fail(pos_, fmt::format("unexpected {}, expected ',' or ']'", here()));
      ++pos_;
      skip_whitespace();
      if (!at_end() && peek() == ']') fail(pos_, "trailing comma before ']'");
    }
  }

  Value parse_object(int depth) {
    check_depth(depth);
    ++pos_;  // {
    Value::Map map;
    skip_whitespace();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return Value(std::move(map));
    }
    while (true) {
      skip_whitespace();
      if (at_end()) fail(pos_, "unexpected end of input, expected a key");
      if (peek() != '"') fail(pos_, fmt::format("unexpected {}, expected a string key", here()));
      const std::size_t key_pos = pos_;
      std::string key = parse_string();
      const std::size_t key_end = pos_;
      skip_whitespace();
      if (at_end()) fail(pos_, "unexpected end of input, expected ':'");
      if (peek() != ':') fail(pos_, fmt::format("unexpected {}, expected ':'", here()));
      ++pos_;
      skip_whitespace();
      Value x = parse_value(depth);
      // Keys are unique in a Value::Map; silently keeping one of two would lose data.
      if (!map.emplace(std::move(key), std::move(x)).second) {
        fail(key_pos, fmt::format("duplicate key {}", text_.substr(key_pos, key_end - key_pos)));
      }
      skip_whitespace();
      if (at_end()) fail(pos_, "unexpected end of input, expected ',' or '}'");
      if (peek() == '}') {
        ++pos_;
        return Value(std::move(map));
      }
      if (peek() != ',') fail(pos_, fmt::format("unexpected {}, expected ',' or '}}'", here()));
      ++pos_;
      skip_whitespace();
      if (!at_end() && peek() == '}') fail(pos_, "trailing comma before '}'");
    }
  }

  Value parse_literal(std::string_view word, Value v) {
    if (text_.substr(pos_, word.size()) != word) {
      fail(pos_, fmt::format("invalid literal, expected '{}'", word));
    }
    pos_ += word.size();
    return v;
  }

  // Four hex digits at pos_.
  std::uint32_t parse_hex4() {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      if (at_end()) fail(pos_, "unexpected end of input in a \\u escape");
      const char c = peek();
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        fail(pos_, fmt::format("unexpected {} in a \\u escape, expected a hex digit", here()));
      }
      value = value * 16 + digit;
      ++pos_;
    }
    return value;
  }

  // After the backslash and 'u' of an escape starting at `start`.
  std::uint32_t parse_unicode_escape(std::size_t start) {
    const std::uint32_t unit = parse_hex4();
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      fail(start, fmt::format("lone low surrogate \\u{:04x}", unit));
    }
    if (unit < 0xD800 || unit > 0xDBFF) return unit;
    if (text_.substr(pos_, 2) != "\\u") {
      fail(start, fmt::format("lone high surrogate \\u{:04x}", unit));
    }
    const std::size_t low_start = pos_;
    pos_ += 2;
    const std::uint32_t low = parse_hex4();
    if (low < 0xDC00 || low > 0xDFFF) {
      fail(low_start, fmt::format("high surrogate \\u{:04x} followed by \\u{:04x}, not by a low "
                                  "surrogate",
                                  unit, low));
    }
    return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
  }

  std::string parse_string() {
    const std::size_t open = pos_;
    ++pos_;  // "
    std::string out;
    while (true) {
      if (at_end()) fail(open, "unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) {
        fail(pos_, fmt::format("unescaped control character 0x{:02x} in a string",
                               static_cast<unsigned>(c)));
      }
      if (c >= 0x80) {
        const std::size_t length = util::utf8_sequence_length(text_.substr(pos_));
        if (length == 0) fail(pos_, "invalid UTF-8 in a string");
        out += text_.substr(pos_, length);
        pos_ += length;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const std::size_t escape = pos_;
      ++pos_;
      if (at_end()) fail(open, "unterminated string");
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          append_utf8(out, parse_unicode_escape(escape));
          break;
        default:
          --pos_;
          fail(escape, fmt::format("invalid escape '\\' followed by {}", here()));
      }
    }
  }

  [[nodiscard]] bool is_digit_at(std::size_t i) const {
    return i < text_.size() && text_[i] >= '0' && text_[i] <= '9';
  }

  Value parse_number() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!is_digit_at(pos_)) fail(start, "invalid number: expected a digit after '-'");
    if (peek() == '0' && is_digit_at(pos_ + 1)) fail(start, "invalid number: leading zero");
    while (is_digit_at(pos_)) ++pos_;
    bool integral = true;
    if (!at_end() && peek() == '.') {
      integral = false;
      ++pos_;
      if (!is_digit_at(pos_)) fail(start, "invalid number: expected a digit after '.'");
      while (is_digit_at(pos_)) ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!is_digit_at(pos_)) fail(start, "invalid number: expected a digit in the exponent");
      while (is_digit_at(pos_)) ++pos_;
    }
    const std::string_view literal = text_.substr(start, pos_ - start);
    const char* const first = literal.data();
    const char* const last = first + literal.size();
    if (integral) {
      std::int64_t i = 0;
      const auto [end, error] = std::from_chars(first, last, i);
      if (error == std::errc() && end == last) return Value(i);
      // Too large for an int: it becomes a double, as the header promises.
    }
    double d = 0;
    const auto [end, error] = std::from_chars(first, last, d);
    if (error == std::errc() && end == last) return Value(d);
    // from_chars reports underflow and overflow alike; strtod tells them apart.
    const std::string copy(literal);
    d = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(d)) fail(start, fmt::format("number {} is out of range", literal));
    return Value(d);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string to_json(const Value& value, JsonStyle style) {
  JsonWriter writer(style);
  writer.write(value, 0);
  return writer.take();
}

Value from_json(std::string_view text) { return JsonParser(text).parse_document(); }

}  // namespace dagflow
