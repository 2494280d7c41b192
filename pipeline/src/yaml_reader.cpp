#include "yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <streambuf>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace dagflow {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";
constexpr std::size_t kMaxQuotedBytes = 60;
// ReadAheadGuard: the text goes to yaml-cpp in chunks of this size...
constexpr std::size_t kChunkBytes = 4096;
// ...and at most this many of the characters that make yaml-cpp tokens in a flow collection may
// lie between the last event and what yaml-cpp has read (about 70 MB of tokens at worst).
constexpr std::size_t kMaxPendingIndicators = std::size_t{1} << 17;

SourceMark to_source_mark(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

// "!!str" for "tag:yaml.org,2002:str", other tags as written, for messages.
std::string short_tag(std::string_view tag) {
  if (tag.starts_with(kCoreTagPrefix)) return "!!" + std::string(tag.substr(kCoreTagPrefix.size()));
  return std::string(tag);
}

// ---- encoding ---------------------------------------------------------------------------------

// The text without a leading BOM, with CRLF and lone CR turned into LF: yaml-cpp then counts lines
// and columns the way an editor does, whatever the line ends.
std::string normalise_line_ends(std::string_view text) {
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out.push_back(text[i]);
    } else if (i + 1 >= text.size() || text[i + 1] != '\n') {
      out.push_back('\n');
    }  // else: the '\r' of a CRLF, dropped
  }
  return out;
}

// Refuses what YAML 1.2 does not allow in a stream (its c-printable set) and what is not UTF-8:
// NUL and other C0 controls but tab and LF, DEL, C1 controls but NEL, U+FFFE/U+FFFF, invalid or
// overlong sequences, surrogates, code points past U+10FFFF. yaml-cpp would accept most of these
// as raw bytes. Columns count bytes, like yaml-cpp's.
void check_encoding(std::string_view text, const std::string& file) {
  int line = 1;
  std::size_t line_start = 0;
  auto fail = [&](std::size_t at, const std::string& message) {
    throw PipelineError(file, {line, static_cast<int>(at - line_start) + 1}, message);
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte == '\n') {
        ++line;
        line_start = i + 1;
      } else if (byte == 0) {
        fail(i, "NUL byte: a YAML file is text (is this a binary file?)");
      } else if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
        fail(i, fmt::format("control character U+{:04X} is not allowed in YAML", byte));
      }
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t code = 0;
    char32_t min_code = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code = byte & 0x1F;
      min_code = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code = byte & 0x0F;
      min_code = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code = byte & 0x07;
      min_code = 0x10000;
    } else {
      fail(i, fmt::format("invalid UTF-8 (byte 0x{:02x})", byte));
    }
    for (std::size_t k = 1; k < length; ++k) {
      if (i + k >= text.size()) fail(i, "invalid UTF-8 (a truncated sequence at the end)");
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        fail(i, fmt::format("invalid UTF-8 (byte 0x{:02x} after 0x{:02x})", next, byte));
      }
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail(i, fmt::format("invalid UTF-8 (byte 0x{:02x} starts an overlong sequence or an "
                          "invalid code point)",
                          byte));
    }
    if ((code >= 0x80 && code <= 0x9F && code != 0x85) || code == 0xFFFE || code == 0xFFFF) {
      fail(i, fmt::format("control character U+{:04X} is not allowed in YAML",
                          static_cast<std::uint32_t>(code)));
    }
    i += length;
  }
}

// " (line 3 is indented with a tab: YAML indents with spaces only)" when it is, for syntax errors.
std::string tab_hint(std::string_view text, int line) {
  if (line <= 0) return {};
  std::size_t start = 0;
  for (int l = 1; l < line; ++l) {
    const std::size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) return {};
    start = newline + 1;
  }
  for (std::size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
    if (text[i] == '\t') {
      return fmt::format(" (line {} is indented with a tab: YAML indents with spaces only)", line);
    }
  }
  return {};
}

// The line `line` (1-based) of `text`, or empty.
std::string_view line_of(std::string_view text, int line) {
  std::size_t start = 0;
  for (int l = 1; l < line; ++l) {
    const std::size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) return {};
    start = newline + 1;
  }
  const std::size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// ---- the read-ahead guard ---------------------------------------------------------------------

// The 1-based line and column of byte `pos` of `text`.
SourceMark position_of(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  const std::string_view before = text.substr(0, pos);
  const std::size_t line_start = before.rfind('\n');
  const auto line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
  const std::size_t column = line_start == std::string_view::npos ? pos : pos - line_start - 1;
  return {line, static_cast<int>(column) + 1};
}

// The YAML indicators that make tokens in a flow collection (a plain scalar between two of them
// is one more): a bound on the tokens yaml-cpp can hold for that much text.
std::size_t count_indicators(std::string_view s) {
  constexpr std::string_view kIndicators = "[]{},:?&!*\"'";
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [&](char c) { return kIndicators.find(c) != std::string_view::npos; }));
}

// yaml-cpp cannot tell whether a flow collection that starts where a mapping key could ("[1, 2]:
// x") is a key until it has scanned to its end, and it holds every token of it in memory
// meanwhile, without a single event: a 16 MiB "[1,1,1,..." costs 2.3 GB and 20 s (measured), and
// neither the depth cap nor the node budget can see it. This stream buffer hands the text to
// yaml-cpp a chunk at a time and counts the indicators yaml-cpp has read past the last event;
// too many means it is buffering such a collection, and the read is refused. Streamed
// collections (`key: [1, 2, ...]`) produce events as they go and never come close; only a
// single scalar or comment holding over 2^17 of these characters could be refused wrongly.
class ReadAheadGuard final : public std::streambuf {
 public:
  ReadAheadGuard(std::string& text, const std::string& file) : text_(text), file_(file) {}

  /// The whole text being parsed.
  [[nodiscard]] std::string_view text() const noexcept { return text_; }

  /// Called for every event, with its byte position: what yaml-cpp has turned into events.
  void on_event(int pos) {
    if (pos > 0) event_pos_ = std::max(event_pos_, static_cast<std::size_t>(pos));
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (served_ >= text_.size()) return traits_type::eof();
    const std::size_t anchor = std::min(event_pos_, served_);
    if (anchor > anchor_) {
      pending_ -= count_indicators(std::string_view(text_).substr(anchor_, anchor - anchor_));
      anchor_ = anchor;
    }
    const std::size_t n = std::min(kChunkBytes, text_.size() - served_);
    pending_ += count_indicators(std::string_view(text_).substr(served_, n));
    if (pending_ > kMaxPendingIndicators) {
      throw PipelineError(
          file_, position_of(text_, anchor_),
          fmt::format("the YAML parser would hold too much in memory to read on from here (over "
                      "{} brackets, commas and other indicators before the next node ends): "
                      "write long [...] or {{...}} collections in block style or as the value of "
                      "a key",
                      kMaxPendingIndicators));
    }
    char* begin = text_.data() + served_;
    setg(begin, begin, begin + n);
    served_ += n;
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string& text_;
  const std::string& file_;
  std::size_t served_ = 0;  // bytes handed to yaml-cpp
  std::size_t anchor_ = 0;  // pending_ counts the indicators in [anchor_, served_)
  std::size_t pending_ = 0;
  std::size_t event_pos_ = 0;  // the furthest event position seen
};

// yaml-cpp takes the end of the file as the end of a quoted scalar that is never closed
// (`k: "abc` loads as "abc"). False when the quote at `pos` of `text` opens such a scalar.
bool quote_is_closed(std::string_view text, std::size_t pos) {
  const char quote = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;  // an escape: the next character is not the closing quote
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;  // '' is a quote inside a single-quoted scalar
      } else {
        return true;
      }
    }
  }
  return false;
}

// ---- the tree builder -------------------------------------------------------------------------

// Builds a YamlNode tree from yaml-cpp's parse events. Working on events rather than on a
// YAML::Node tree means an alias can never be followed (it is refused where it is written, so
// `&s [ *s ]` and billion laughs never expand), every key keeps its own position, and the tree is
// built with an explicit stack: no recursion of ours, whatever the input.
class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, ReadAheadGuard& guard) : file_(file), guard_(guard) {}

  std::optional<YamlNode>& root() { return root_; }
  [[nodiscard]] const YAML::Mark& document_start() const { return document_start_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    document_start_ = mark;
    guard_.on_event(mark.pos);
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    refuse_anchor(mark, anchor);
    YamlNode node;
    node.mark = to_source_mark(mark);
    add(std::move(node), /*null_key=*/true, mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override {
    fail(mark, "aliases (*name) are not supported: write the value out in full");
  }

  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    fail(mark, fmt::format("anchors and aliases are not supported (found '&{}'): write the value "
                           "out in full",
                           name.substr(0, kMaxQuotedBytes)));
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    refuse_anchor(mark, anchor);
    YamlNode node;
    node.mark = to_source_mark(mark);
    if (tag == "?") {
      node.plain = true;
    } else if (tag == "!" || tag == std::string(kCoreTagPrefix) + "str") {
      node.plain = false;  // quoted, a block scalar, or !!str: a string whatever it looks like
      check_quote_closed(mark);
    } else {
      refuse_tag(mark, tag, "!!str");
    }
    node.text_column = verbatim_column(mark, value, node.plain);
    node.text = value;
    add(std::move(node), false, mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    refuse_anchor(mark, anchor);
    if (tag != "?" && tag != "!" && tag != std::string(kCoreTagPrefix) + "seq") {
      refuse_tag(mark, tag, "!!seq");
    }
    YamlNode node;
    node.kind = YamlNode::Kind::kSequence;
    node.mark = to_source_mark(mark);
    add(std::move(node), false, mark);
  }

  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    refuse_anchor(mark, anchor);
    if (tag != "?" && tag != "!" && tag != std::string(kCoreTagPrefix) + "map") {
      refuse_tag(mark, tag, "!!map");
    }
    YamlNode node;
    node.kind = YamlNode::Kind::kMapping;
    node.mark = to_source_mark(mark);
    add(std::move(node), false, mark);
  }

  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YamlNode* node;
    /// This collection is a mapping key: an error once it is read (see add).
    bool is_key = false;
    bool expect_key = true;
    YamlKey pending_key{};
    std::unordered_map<std::string, int> key_lines{};  // mappings: key -> its line
    /// A collection used as a key of this mapping, kept until it is closed.
    std::unique_ptr<YamlNode> key_collection{};
  };

  void close() {
    if (stack_.back().is_key) {
      throw PipelineError(file_, stack_.back().node->mark,
                          "a mapping key must be a scalar, not a list or mapping");
    }
    stack_.pop_back();
  }

  // Refuses a quoted scalar that starts at `mark` and is never closed.
  void check_quote_closed(const YAML::Mark& mark) const {
    const std::string_view text = guard_.text();
    if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text.size()) return;
    const auto pos = static_cast<std::size_t>(mark.pos);
    const SourceMark at = to_source_mark(mark);
    const SourceMark found = position_of(text, pos);
    // Only where yaml-cpp's offset and its line and column agree on where the scalar starts.
    if (found.line != at.line || found.column != at.column) return;
    if ((text[pos] == '"' || text[pos] == '\'') && !quote_is_closed(text, pos)) {
      fail(mark, fmt::format("YAML syntax error: the quoted string opened here with {} is never "
                             "closed",
                             text[pos]));
    }
  }

  // YamlNode::text_column of a scalar: where `value` starts when the file holds it as it is, on
  // one line, plain or between quotes (0 otherwise). O(the scalar's column and size).
  int verbatim_column(const YAML::Mark& mark, const std::string& value, bool plain) const {
    const std::string_view text = guard_.text();
    if (mark.pos < 0 || mark.column < 0) return 0;
    const auto pos = static_cast<std::size_t>(mark.pos);
    const auto column = static_cast<std::size_t>(mark.column);
    if (pos >= text.size() || column > pos || value.find('\n') != std::string::npos) return 0;
    // Only where yaml-cpp's offset and its column agree: pos - column starts a line.
    const std::size_t line_start = pos - column;
    if (text.substr(line_start, column).find('\n') != std::string_view::npos) return 0;
    if (line_start > 0 && text[line_start - 1] != '\n') return 0;
    std::size_t start = pos;
    if (!plain) {
      if (text[pos] != '"' && text[pos] != '\'') return 0;
      start = pos + 1;
      const std::size_t end = start + value.size();
      if (end >= text.size() || text[end] != text[pos]) return 0;
    }
    if (text.compare(start, value.size(), value) != 0) return 0;
    return static_cast<int>(start - line_start) + 1;
  }

  [[noreturn]] void fail(const YAML::Mark& mark, std::string message) const {
    throw PipelineError(file_, to_source_mark(mark), std::move(message));
  }

  void refuse_anchor(const YAML::Mark& mark, YAML::anchor_t anchor) const {
    // OnAnchor refuses first; this is the backstop should a yaml-cpp version not call it.
    if (anchor != YAML::NullAnchor) fail(mark, "anchors and aliases are not supported");
  }

  [[noreturn]] void refuse_tag(const YAML::Mark& mark, const std::string& tag,
                               std::string_view allowed) const {
    fail(mark, fmt::format("unsupported tag {}: tags never choose a type here (only {} is "
                           "allowed on this node)",
                           quote_for_message(short_tag(tag)), allowed));
  }

  // Places `node` as the root, the next item of the open sequence, or the next key or value of
  // the open mapping; opens a frame when it is a collection (its end event closes it).
  void add(YamlNode node, bool null_key, const YAML::Mark& yaml_mark) {
    guard_.on_event(yaml_mark.pos);
    const SourceMark mark = node.mark;
    if (++count_ > kMaxYamlNodes) {
      throw PipelineError(file_, mark,
                          fmt::format("the document has more than {} nodes", kMaxYamlNodes));
    }
    const bool opens = !node.is_scalar();
    if (opens && stack_.size() >= static_cast<std::size_t>(kMaxYamlDepth)) {
      throw PipelineError(file_, mark, fmt::format("nesting deeper than {} levels", kMaxYamlDepth));
    }
    YamlNode* placed = nullptr;
    if (stack_.empty()) {
      root_ = std::move(node);
      placed = &*root_;
    } else {
      Frame& top = stack_.back();
      YamlNode& parent = *top.node;
      if (parent.is_sequence()) {
        placed = &parent.items.emplace_back(std::move(node));
      } else if (top.expect_key) {
        if (!node.is_scalar()) {
          // Refused when it closes, not now: yaml-cpp reads unclosed flow collections ("[[[")
          // as the key of an implicit mapping, and the real problem there (too deep, or not
          // closed) is the better message.
          top.key_collection = std::make_unique<YamlNode>(std::move(node));
          stack_.push_back(Frame{top.key_collection.get(), /*is_key=*/true});
          return;
        }
        if (null_key) throw PipelineError(file_, mark, "a mapping key cannot be empty or null");
        const auto [it, inserted] = top.key_lines.emplace(node.text, mark.line);
        if (!inserted) {
          throw PipelineError(file_, mark,
                              fmt::format("duplicate key {} (first at line {})",
                                          quote_for_message(node.text), it->second));
        }
        top.pending_key = YamlKey{std::move(node.text), mark};
        top.expect_key = false;
        return;
      } else {
        parent.keys.push_back(std::move(top.pending_key));
        placed = &parent.items.emplace_back(std::move(node));
        top.expect_key = true;
      }
    }
    // An open collection is always the last item of its parent, and its parent gets no new item
    // until it is closed: `placed` stays valid while it is on the stack.
    if (opens) stack_.push_back(Frame{placed});
  }

  const std::string& file_;
  ReadAheadGuard& guard_;
  YAML::Mark document_start_;
  std::optional<YamlNode> root_;
  std::vector<Frame> stack_;
  std::size_t count_ = 0;
};

// Thrown by DocumentProbe to stop the parser as soon as a second document begins.
struct SecondDocument {
  YAML::Mark mark;
};

class DocumentProbe final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { throw SecondDocument{mark}; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// What a second document means: yaml-cpp also starts one where a top-level node ends and
// something unrelated follows ("- a\nb: 1"), and, on a stray ',' it cannot consume, starts empty
// documents at the same place forever (LoadAll's runaway loop, yaml-cpp #1040).
std::string second_document_message(std::string_view text, const YAML::Mark& first,
                                    const YAML::Mark& second) {
  const std::string_view line = line_of(text, second.line + 1);
  if (second.column == 0 && line.starts_with("---")) {
    return "multiple documents are not supported (a second document starts here)";
  }
  if (second.pos == first.pos && second.column >= 0 &&
      static_cast<std::size_t>(second.column) < line.size()) {
    const char c = line[static_cast<std::size_t>(second.column)];
    if (c > ' ' && c < 0x7F) return fmt::format("YAML syntax error: unexpected '{}'", c);
  }
  return "YAML syntax error: unexpected content after the end of the top-level node";
}

// ---- scalars ----------------------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

template <class Pred>
bool all_of_nonempty(std::string_view s, Pred pred) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

[[noreturn]] void integer_out_of_range(std::string_view text) {
  throw ValueError(
      fmt::format("integer {} is out of range (64-bit signed)", quote_for_message(text)));
}

std::int64_t parse_unsigned(std::string_view text, std::string_view digits, int base) {
  std::uint64_t magnitude = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc{} || end != digits.data() + digits.size() ||
      magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    integer_out_of_range(text);
  }
  return static_cast<std::int64_t>(magnitude);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_core_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// For a float from_chars found out of range: true when it is too large (not too small). Compares
// the decimal exponent of its first non-zero digit with 0 (out of range means |that| > 300).
bool float_overflows(std::string_view s) {
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  long long lead = 0;  // exponent of the first non-zero digit, before the 'e' part
  bool seen_nonzero = false;
  bool after_point = false;
  long long int_digits = 0;
  long long position = 0;  // digits seen so far
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      after_point = true;
      continue;
    }
    if (!after_point) ++int_digits;
    if (!seen_nonzero && s[i] != '0') {
      seen_nonzero = true;
      lead = position;
    }
    ++position;
  }
  if (!seen_nonzero) return false;
  long long exponent = 0;
  if (i < s.size()) {
    ++i;
    const bool negative = s[i] == '-';
    if (s[i] == '-' || s[i] == '+') ++i;
    for (; i < s.size(); ++i) {
      exponent = std::min(exponent * 10 + (s[i] - '0'), 1'000'000'000LL);  // saturate
    }
    if (negative) exponent = -exponent;
  }
  return int_digits - 1 - lead + exponent > 0;
}

}  // namespace

bool YamlNode::is_null() const noexcept {
  return kind == Kind::kScalar && plain &&
         (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL");
}

std::optional<YamlNode> read_yaml(std::string_view raw_text, const std::string& file) {
  std::string text = normalise_line_ends(raw_text);
  check_encoding(text, file);
  try {
    ReadAheadGuard guard(text, file);
    std::istream in(&guard);
    in.exceptions(std::ios::badbit);  // the guard's PipelineError reaches us, not a failbit
    YAML::Parser parser(in);
    TreeBuilder builder(file, guard);
    // One document only: YAML::LoadAll loops forever on a stray ',' (yaml-cpp #1040). The first
    // call reads the first document; the second only has to tell whether another one starts.
    if (!parser.HandleNextDocument(builder)) return std::nullopt;
    try {
      DocumentProbe probe;
      parser.HandleNextDocument(probe);
    } catch (const SecondDocument& second) {
      throw PipelineError(file, to_source_mark(second.mark),
                          second_document_message(text, builder.document_start(), second.mark));
    }
    return std::move(builder.root());
  } catch (const YAML::DeepRecursion& e) {
    throw PipelineError(file, to_source_mark(e.mark), "YAML syntax error: nesting is too deep");
  } catch (const YAML::ParserException& e) {
    throw PipelineError(file, to_source_mark(e.mark),
                        "YAML syntax error: " + e.msg + tab_hint(text, e.mark.line + 1));
  } catch (const YAML::Exception& e) {
    throw PipelineError(file, to_source_mark(e.mark), "YAML error: " + e.msg);
  } catch (const std::bad_alloc&) {
    throw PipelineError(file, {}, "input too large (out of memory while parsing)");
  } catch (const std::length_error&) {
    throw PipelineError(file, {}, "input too large (out of memory while parsing)");
  }
}

Value resolve_core_scalar(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Value();
  if (s == "true" || s == "True" || s == "TRUE") return Value(true);
  if (s == "false" || s == "False" || s == "FALSE") return Value(false);

  const bool signed_text = s[0] == '-' || s[0] == '+';
  const std::string_view unsigned_part = signed_text ? s.substr(1) : s;
  if (all_of_nonempty(unsigned_part, is_digit)) {
    const std::string_view digits = s[0] == '+' ? s.substr(1) : s;  // from_chars takes no '+'
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size()) integer_out_of_range(s);
    return Value(value);
  }
  if (s.starts_with("0o") && all_of_nonempty(s.substr(2), is_octal)) {
    return Value(parse_unsigned(s, s.substr(2), 8));
  }
  if (s.starts_with("0x") && all_of_nonempty(s.substr(2), is_hex)) {
    return Value(parse_unsigned(s, s.substr(2), 16));
  }

  if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") {
    const double inf = std::numeric_limits<double>::infinity();
    return Value(s[0] == '-' ? -inf : inf);
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    return Value(std::numeric_limits<double>::quiet_NaN());
  }
  if (is_core_float(s)) {
    const std::string_view number = s[0] == '+' ? s.substr(1) : s;
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec == std::errc::result_out_of_range) {
      if (float_overflows(s)) {
        throw ValueError(fmt::format("number {} is out of range", quote_for_message(s)));
      }
      return Value(s[0] == '-' ? -0.0 : 0.0);  // too small: it is zero, as other readers say
    }
    if (ec == std::errc{} && end == number.data() + number.size()) return Value(value);
  }
  return Value(std::string(s));
}

Value scalar_value(const YamlNode& scalar) {
  if (scalar.plain) return resolve_core_scalar(scalar.text);
  return Value(scalar.text);
}

std::string quote_for_message(std::string_view text) {
  bool cut = false;
  if (text.size() > kMaxQuotedBytes) {
    std::size_t end = kMaxQuotedBytes;
    // Never split a UTF-8 sequence: back up over continuation bytes.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out = "'";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out.push_back(c);
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

std::string describe_node(const YamlNode& node) {
  if (node.is_mapping()) return "a mapping";
  if (node.is_sequence()) return "a list";
  if (!node.plain) return "a string";
  try {
    switch (scalar_value(node).kind()) {
      case ValueKind::kNull:
        return "null";
      case ValueKind::kBool:
        return "a bool";
      case ValueKind::kInt:
        return "an int";
      case ValueKind::kDouble:
        return "a double";
      default:
        return "a string";
    }
  } catch (const ValueError&) {
    return "a number";
  }
}

}  // namespace dagflow
