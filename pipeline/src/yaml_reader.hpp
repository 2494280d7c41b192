// The YAML reader of the pipeline loader: bytes -> a plain tree of our own (YamlNode), with a
// position for every node and key. It is the only code that sees yaml-cpp, and it holds the line
// against hostile input (see RELIABILITY.md, Y1-Y8): encoding checks before yaml-cpp runs, one
// document only (never YAML::LoadAll), no anchors or aliases, no tags that could pick a type,
// duplicate keys refused, a depth cap and a node budget.
//
// Parsing happens on the calling thread. yaml-cpp parses recursively, and with a small stack
// (64 or 128 KiB) about 250 nested '[' are enough to overflow it (a SIGSEGV, measured): never read
// YAML on a TBB worker or another small-stack thread. Free functions, no shared state: safe to call
// from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/nodes/value.hpp>
#include <dagflow/pipeline/pipeline.hpp>

namespace dagflow {

/// Nesting deeper than this many collections is refused (a pipeline needs about 6).
inline constexpr int kMaxYamlDepth = 64;
/// A document with more nodes than this (scalars, keys and collections) is refused.
inline constexpr std::size_t kMaxYamlNodes = 1'000'000;

/// A mapping key: keys are always scalars, kept as their text.
struct YamlKey {
  std::string text;
  SourceMark mark{};
};

/// One node of a YAML document.
struct YamlNode {
  enum class Kind : std::uint8_t { kScalar, kSequence, kMapping };

  Kind kind = Kind::kScalar;
  /// Scalars: true for a plain (unquoted, untagged) scalar, whose type the YAML 1.2 core schema
  /// decides (see resolve_core_scalar); false for a quoted or block (| >) scalar or one tagged
  /// !!str, which is always a string. An empty node (`a:` with nothing after it) and the plain
  /// scalars null, Null, NULL and ~ are plain with an empty text.
  bool plain = true;
  /// Where the node starts (1-based; for an empty node, where the next token is).
  SourceMark mark{};
  /// Scalars: the text, escapes and line folding already applied.
  std::string text{};
  /// Scalars: the column (1-based, in bytes, on mark.line) of the first byte of `text` when the
  /// file holds `text` as it is on one line (a plain scalar, or a quoted one without escapes):
  /// byte i of `text` is then at column text_column + i. 0 for the others (block scalars, escapes,
  /// folded lines, !!str).
  int text_column = 0;
  /// Sequences: the items. Mappings: the values, in file order (keys[i] is the key of items[i]).
  std::vector<YamlNode> items{};
  /// Mappings: the keys, in file order, all different.
  std::vector<YamlKey> keys{};

  [[nodiscard]] bool is_scalar() const noexcept { return kind == Kind::kScalar; }
  [[nodiscard]] bool is_sequence() const noexcept { return kind == Kind::kSequence; }
  [[nodiscard]] bool is_mapping() const noexcept { return kind == Kind::kMapping; }
  /// A plain scalar that the core schema reads as null (empty, null, Null, NULL, ~).
  [[nodiscard]] bool is_null() const noexcept;
};

/// Parses one YAML document. `file` names the text in messages. Returns nullopt when the text
/// holds no document at all (only whitespace, comments or directives).
///
/// Accepted: UTF-8 (a leading BOM is skipped), LF, CRLF or CR line ends (read as LF, so lines and
/// columns are right). Columns count bytes, as yaml-cpp does.
///
/// Throws PipelineError(file, position, message) for: a NUL byte, invalid UTF-8 or a control
/// character that YAML does not allow; a YAML syntax error ("YAML syntax error: ...", with a hint
/// when the line is indented with a tab: YAML indents with spaces only); a second document
/// ("multiple documents are not supported"); an anchor or alias; an explicit tag other than
/// !!str, !!seq and !!map (tags never select types or code); a key that is not a scalar or is
/// null; a duplicate key ("duplicate key 'a' (first at line 1)"); nesting deeper than
/// kMaxYamlDepth; more than kMaxYamlNodes nodes; memory exhaustion ("input too large"); and
/// input that yaml-cpp would buffer whole before any event ("the YAML parser would hold too much
/// in memory..."): a flow collection where a key could start ("[1, 1, ..." at the top level or
/// after "- ") with over 2^17 YAML indicator characters, or a scalar or comment with that many
/// ([]{},:?&!*"'), which yaml-cpp also reads whole.
[[nodiscard]] std::optional<YamlNode> read_yaml(std::string_view text, const std::string& file);

/// A plain scalar's value under the YAML 1.2 core schema:
/// - null: empty, null, Null, NULL, ~
/// - bool: true, True, TRUE, false, False, FALSE (so yes/no/on/off are strings)
/// - int: [-+]?[0-9]+ (decimal: 010 is 10), 0o[0-7]+, 0x[0-9a-fA-F]+
/// - double: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?(.inf|.Inf|.INF),
///   .nan|.NaN|.NAN
/// - anything else: the string itself.
/// Throws ValueError "integer '...' is out of range" for an int outside int64_t, "number '...' is
/// out of range" for a float beyond double.
[[nodiscard]] Value resolve_core_scalar(std::string_view plain);

/// The value of a scalar node: resolve_core_scalar for a plain one, the text for the others.
/// Throws ValueError as resolve_core_scalar does.
[[nodiscard]] Value scalar_value(const YamlNode& scalar);

/// `text` quoted for a message: 'text', control characters escaped (\n, \t, \x01), cut after 60
/// bytes with "..." so a huge key cannot flood a terminal.
[[nodiscard]] std::string quote_for_message(std::string_view text);

/// "a string", "a list", "a mapping", "null", "an int"... for a node, as a message word.
[[nodiscard]] std::string describe_node(const YamlNode& node);

}  // namespace dagflow
