// The pipeline loader: a YAML file -> a validated PipelineSpec. Every mistake is a PipelineError
// at the position of the node or key that is wrong, found before anything runs.
//
// The text is parsed on the calling thread (see yaml_reader.hpp: yaml-cpp recurses, and ~250
// nested '[' overflow a 64 KiB stack), so never load a pipeline from a TBB worker.
#include <dagflow/pipeline/pipeline.hpp>
// (the header this file implements first)

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/util/file_read.hpp>
#include <dagflow/util/suggest.hpp>

#include "yaml_reader.hpp"

namespace dagflow {

namespace {

std::string format_what(const std::string& file, SourceMark mark, const std::string& message) {
  if (mark.line <= 0) return fmt::format("{}: {}", file, message);
  if (mark.column <= 0) return fmt::format("{}:{}: {}", file, mark.line, message);
  return fmt::format("{}:{}:{}: {}", file, mark.line, mark.column, message);
}

}  // namespace

PipelineError::PipelineError(std::string file, SourceMark mark, std::string message,
                             std::optional<Capability> refused)
    : Error(format_what(file, mark, message)),
      file_(std::move(file)),
      mark_(mark),
      message_(std::move(message)),
      refused_(refused) {}

namespace {

namespace fs = std::filesystem;

// Named in messages when a pipeline comes from text with no file name.
constexpr std::string_view kUnnamedFile = "<pipeline>";
// Names the --set options in their messages.
constexpr std::string_view kSetOption = "--set";
constexpr std::int64_t kFormatVersion = 1;

const std::array<std::string, 5> kTopLevelKeys = {"name", "params", "nodes", "outputs", "version"};
const std::array<std::string, 6> kNodeKeys = {"op", "inputs", "map", "args", "doc", "cache"};

std::string q(std::string_view text) { return quote_for_message(text); }

// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)", " (did you mean 'a', 'b' or 'c'?)" or
// "" when nothing is close.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
  return util::did_you_mean(util::nearest_names(word, candidates), q);
}

// did_you_mean, or when nothing is close, " (<label>: a, b, c)" (at most 8 names), or
// " (<when_none>)" when there are no candidates.
std::string suggest_or_list(std::string_view word, std::span<const std::string> candidates,
                            std::string_view label, std::string_view when_none) {
  std::string hint = did_you_mean(word, candidates);
  if (!hint.empty()) return hint;
  if (candidates.empty()) return fmt::format(" ({})", when_none);
  constexpr std::size_t kMaxListed = 8;
  std::string list;
  for (std::size_t i = 0; i < candidates.size() && i < kMaxListed; ++i) {
    if (i > 0) list += ", ";
    // Names from the file can be long; quote_for_message cuts them, here without the quotes.
    const std::string quoted = q(candidates[i]);
    list += quoted.substr(1, quoted.size() - 2);
  }
  if (candidates.size() > kMaxListed) list += ", ...";
  return fmt::format(" ({}: {})", label, list);
}

// Node ids and param names: [A-Za-z_][A-Za-z0-9_-]*.
bool is_valid_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !letter(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-'; });
}

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// "string 'x'", "int 5", "a list"... for "expects int, got ...".
std::string describe_value(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return v.as_bool() ? "bool true" : "bool false";
    case ValueKind::kInt:
      return fmt::format("int {}", v.as_int());
    case ValueKind::kDouble:
      return fmt::format("number {}", v.as_double());
    case ValueKind::kString:
      return "string " + q(v.as_string());
    case ValueKind::kPath:
      return "path " + q(v.as_path().shown);
    case ValueKind::kList:
      return "a list";
    case ValueKind::kMap:
      return "a map";
  }
  return "a value";
}

// A number or bool as YAML prints it, for splicing a param into a longer string.
std::string scalar_text(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool:
      return v.as_bool() ? "true" : "false";
    case ValueKind::kInt:
      return std::to_string(v.as_int());
    case ValueKind::kDouble: {
      const double d = v.as_double();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d < 0 ? "-.inf" : ".inf";
      return fmt::format("{}", d);
    }
    case ValueKind::kString:
      return v.as_string();
    case ValueKind::kPath:
      return v.as_path().shown;
    default:
      return {};
  }
}

// A key of a mapping with its value.
struct Entry {
  const YamlKey* key;
  const YamlNode* value;
};

// A node's dependency as written: the id and where.
struct IdRef {
  std::string id;
  SourceMark mark;
};

// What a node says before its args are checked.
struct RawNode {
  std::string id;
  SourceMark mark;
  const OpInfo* op = nullptr;
  std::optional<IdRef> map{};
  std::vector<IdRef> inputs{};
  std::optional<Entry> inputs_entry{};
  const YamlNode* args = nullptr;
  std::string doc{};
  bool cache = true;
};

class Loader {
 public:
  Loader(std::string file, fs::path base_dir, const OpRegistry& ops, const LoadOptions& options)
      : file_(std::move(file)),
        ops_(ops),
        options_(options),
        context_{.base_dir = std::move(base_dir),
                 .allow_outside = options.allow_outside,
                 .allow_shell = options.allow_shell} {}

  PipelineSpec load(std::string_view text) {
    if (text.empty() || text == "\xEF\xBB\xBF") fail({}, "empty file");
    expanded_bytes_ = text.size();
    const std::optional<YamlNode> root = read_yaml(text, file_);
    if (!root || root->is_null()) {
      fail(root ? root->mark : SourceMark{},
           "the pipeline is empty (expected a mapping with 'name' and 'nodes')");
    }
    if (!root->is_mapping()) {
      fail(root->mark, "expected a mapping with 'name' and 'nodes' at the top level, got " +
                           describe_node(*root));
    }

    std::optional<Entry> name;
    std::optional<Entry> params;
    std::optional<Entry> nodes;
    std::optional<Entry> outputs;
    for (std::size_t i = 0; i < root->keys.size(); ++i) {
      const Entry entry{&root->keys[i], &root->items[i]};
      const std::string& key = entry.key->text;
      if (key == "name") {
        name = entry;
      } else if (key == "params") {
        params = entry;
      } else if (key == "nodes") {
        nodes = entry;
      } else if (key == "outputs") {
        outputs = entry;
      } else if (key == "version") {
        check_version(entry);
      } else {
        fail(entry.key->mark, "unknown top-level key " + q(key) +
                                  suggest_or_list(key, kTopLevelKeys, "the keys are", ""));
      }
    }

    PipelineSpec spec;
    spec.file = file_;
    spec.base_dir = context_.base_dir;
    if (!name) fail(root->mark, "missing 'name' (the pipeline's name)");
    spec.name = read_text(*name, "'name'");
    if (spec.name.empty()) fail(value_mark(*name), "'name' is empty");
    if (params) read_params(*params);
    apply_set_options();
    spec.params = params_;
    if (!nodes) fail(root->mark, "missing 'nodes' (a mapping from node id to node)");
    read_nodes(*nodes);
    spec.nodes = ordered_nodes();
    spec.outputs = outputs ? read_outputs(*outputs) : default_outputs();
    return spec;
  }

 private:
  [[noreturn]] void fail(SourceMark mark, std::string message) const {
    throw PipelineError(file_, mark, std::move(message));
  }

  // Where to point at for a problem with an entry's value: the value, or the key when the value
  // is empty (yaml-cpp places an empty value at the next token, often on the next line).
  static SourceMark value_mark(const Entry& entry) {
    return entry.value->is_null() && entry.value->text.empty() ? entry.key->mark
                                                               : entry.value->mark;
  }

  void check_version(const Entry& entry) const {
    const YamlNode& v = *entry.value;
    if (v.is_scalar() && v.plain && v.text == std::to_string(kFormatVersion)) return;
    fail(value_mark(entry),
         fmt::format("unsupported version {} (this dagflow reads version {})",
                     v.is_scalar() ? q(v.text) : describe_node(v), kFormatVersion));
  }

  // The text of a scalar entry (a string, or a number written plainly: `name: 2024`).
  std::string read_text(const Entry& entry, std::string_view what) const {
    const YamlNode& v = *entry.value;
    if (!v.is_scalar()) {
      fail(value_mark(entry), fmt::format("{} must be a string, got {}", what, describe_node(v)));
    }
    return v.is_null() ? std::string() : v.text;
  }

  // A YAML node as a Value; with `substitute`, ${NAME} in strings is replaced by the param.
  Value to_value(const YamlNode& node, bool substitute) const {
    switch (node.kind) {
      case YamlNode::Kind::kScalar: {
        Value v;
        try {
          v = scalar_value(node);
        } catch (const ValueError& e) {
          fail(node.mark, e.what());
        }
        if (substitute && v.kind() == ValueKind::kString) return substitute_params(node);
        return v;
      }
      case YamlNode::Kind::kSequence: {
        Value::List list;
        list.reserve(node.items.size());
        for (const YamlNode& item : node.items) list.push_back(to_value(item, substitute));
        return Value(std::move(list));
      }
      case YamlNode::Kind::kMapping: {
        Value::Map map;
        for (std::size_t i = 0; i < node.keys.size(); ++i) {
          map.emplace(node.keys[i].text, to_value(node.items[i], substitute));
        }
        return Value(std::move(map));
      }
    }
    return Value();
  }

  // ---- params and substitution --------------------------------------------------------------

  void read_params(const Entry& entry) {
    const YamlNode& v = *entry.value;
    if (v.is_null()) return;
    if (!v.is_mapping()) {
      fail(value_mark(entry),
           "'params' must be a mapping from param name to value, got " + describe_node(v));
    }
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const YamlKey& key = v.keys[i];
      if (!is_valid_name(key.text)) {
        fail(key.mark, "invalid param name " + q(key.text) +
                           " (letters, digits, '_' and '-', starting with a letter or '_')");
      }
      params_.emplace(key.text, to_value(v.items[i], false));  // params are literals
      param_names_.push_back(key.text);
    }
  }

  // --set NAME=VALUE overrides, VALUE read with the YAML core schema. Errors name "--set", not
  // the file, and have no position.
  void apply_set_options() {
    for (const std::string& assignment : options_.set) {
      const std::size_t equals = assignment.find('=');
      if (equals == std::string::npos) {
        throw PipelineError(std::string(kSetOption), {},
                            "expected NAME=VALUE, got " + q(assignment) + " (no '=')");
      }
      if (equals == 0) {
        throw PipelineError(std::string(kSetOption), {}, "expected NAME=VALUE, got an empty NAME");
      }
      const std::string name = assignment.substr(0, equals);
      auto it = params_.find(name);
      if (it == params_.end()) {
        throw PipelineError(std::string(kSetOption), {},
                            "unknown param " + q(name) +
                                suggest_or_list(name, param_names_, "the params are",
                                                "the pipeline has no params"));
      }
      try {
        it->second = resolve_core_scalar(std::string_view(assignment).substr(equals + 1));
      } catch (const ValueError& e) {
        throw PipelineError(std::string(kSetOption), {},
                            fmt::format("param {}: {}", q(name), e.what()));
      }
    }
  }

  const Value& param(std::string_view name, SourceMark mark) const {
    auto it = params_.find(name);
    if (it == params_.end()) {
      fail(mark,
           "undefined param " + q(name) +
               suggest_or_list(name, param_names_, "the params are", "the pipeline has no params"));
    }
    return it->second;
  }

  // A string scalar with ${NAME} replaced: the whole scalar "${NAME}" is the param itself (an int
  // stays an int); inside a longer string the param's text is spliced in; "$${" is a literal "${".
  Value substitute_params(const YamlNode& node) const {
    const std::string& s = node.text;
    if (s.size() > 3 && s.starts_with("${") && s.back() == '}' && s.find('}') == s.size() - 1) {
      const Value& whole = param(std::string_view(s).substr(2, s.size() - 3), node.mark);
      count_expansion(text_bytes(whole), node.mark);
      return whole;
    }
    if (s.find('$') == std::string::npos) return Value(s);
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
      if (s.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
      } else if (s.compare(i, 2, "${") == 0) {
        const std::size_t close = s.find('}', i + 2);
        if (close == std::string::npos) {
          fail(node.mark, "unterminated '${' in " + q(s) + " (write '$${' for a literal '${')");
        }
        const std::string_view name = std::string_view(s).substr(i + 2, close - i - 2);
        const Value& v = param(name, node.mark);
        switch (v.kind()) {
          case ValueKind::kList:
          case ValueKind::kMap:
          case ValueKind::kNull:
            fail(node.mark, fmt::format("param {} is {} and cannot be part of a string", q(name),
                                        v.kind() == ValueKind::kList  ? "a list"
                                        : v.kind() == ValueKind::kMap ? "a mapping"
                                                                      : "null"));
          default: {
            const std::string text = scalar_text(v);
            count_expansion(text.size(), node.mark);
            out += text;
          }
        }
        i = close + 1;
      } else {
        out.push_back(s[i++]);
      }
    }
    return Value(std::move(out));
  }

  // The pipeline as params expand it must stay within the file's own limit: a 1 MB param used
  // 256 times would otherwise hold gigabytes of copies before anything checked a size.
  void count_expansion(std::size_t bytes, SourceMark mark) const {
    expanded_bytes_ += bytes;
    if (expanded_bytes_ > kMaxPipelineBytes) {
      fail(mark, fmt::format("with its params substituted the pipeline is over the {} MiB limit "
                             "of a pipeline file (a large param used many times?)",
                             kMaxPipelineBytes >> 20));
    }
  }

  // About the bytes a value takes as text (strings in full, a few per number).
  static std::size_t text_bytes(const Value& v) {
    constexpr std::size_t kScalarBytes = 8;
    switch (v.kind()) {
      case ValueKind::kString:
        return v.as_string().size();
      case ValueKind::kList: {
        std::size_t bytes = 0;
        for (const Value& item : v.as_list()) bytes += text_bytes(item);
        return bytes;
      }
      case ValueKind::kMap: {
        std::size_t bytes = 0;
        for (const auto& [key, item] : v.as_map()) bytes += key.size() + text_bytes(item);
        return bytes;
      }
      default:
        return kScalarBytes;
    }
  }

  // ---- nodes --------------------------------------------------------------------------------

  void read_nodes(const Entry& entry) {
    const YamlNode& v = *entry.value;
    if (v.is_null() || (v.is_mapping() && v.keys.empty())) {
      fail(value_mark(entry), "'nodes' is empty: a pipeline needs at least one node");
    }
    if (!v.is_mapping()) {
      fail(value_mark(entry),
           "'nodes' must be a mapping from node id to node, got " + describe_node(v));
    }
    // All ids first: inputs may name nodes further down.
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const YamlKey& key = v.keys[i];
      if (!is_valid_name(key.text)) {
        fail(key.mark, "invalid node id " + q(key.text) +
                           " (letters, digits, '_' and '-', starting with a letter or '_')");
      }
      index_.emplace(key.text, i);
      ids_.push_back(key.text);
    }
    raw_.reserve(v.keys.size());
    specs_.reserve(v.keys.size());
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      raw_.push_back(read_node(Entry{&v.keys[i], &v.items[i]}));
      specs_.push_back(build_spec(raw_.back()));
    }
  }

  RawNode read_node(const Entry& entry) const {
    RawNode node;
    node.id = entry.key->text;
    node.mark = entry.key->mark;
    const YamlNode& v = *entry.value;
    if (!v.is_mapping()) {
      fail(value_mark(entry), fmt::format("node {} must be a mapping with an 'op', got {}",
                                          q(node.id), describe_node(v)));
    }
    std::optional<Entry> op;
    std::optional<Entry> map;
    std::optional<Entry> doc;
    std::optional<Entry> cache;
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const Entry e{&v.keys[i], &v.items[i]};
      const std::string& key = e.key->text;
      if (key == "op") {
        op = e;
      } else if (key == "inputs") {
        node.inputs_entry = e;
      } else if (key == "map") {
        map = e;
      } else if (key == "args") {
        node.args = e.value;
        if (!e.value->is_null() && !e.value->is_mapping()) {
          fail(value_mark(e), fmt::format("'args' of node {} must be a mapping from argument "
                                          "name to value, got {}",
                                          q(node.id), describe_node(*e.value)));
        }
      } else if (key == "doc") {
        doc = e;
      } else if (key == "cache") {
        cache = e;
      } else {
        fail(e.key->mark, fmt::format("unknown key {} in node {}{}", q(key), q(node.id),
                                      suggest_or_list(key, kNodeKeys, "the keys are", "")));
      }
    }

    if (!op) fail(node.mark, fmt::format("node {} has no 'op'", q(node.id)));
    const std::string op_name = read_text(*op, "'op'");
    node.op = ops_.find(op_name);
    if (node.op == nullptr) {
      const std::vector<std::string> near = ops_.suggest(op_name);
      fail(value_mark(*op), "unknown op " + q(op_name) + util::did_you_mean(near, q));
    }
    if (node.op->runs_commands() && !options_.allow_shell) {
      constexpr Capability kNeeded = Capability::kRunCommands;
      throw PipelineError(file_, value_mark(*op),
                          fmt::format("node {} uses op {}, which runs commands without a "
                                      "sandbox: {}",
                                      q(node.id), q(op_name), refusal_text(kNeeded)),
                          kNeeded);
    }

    if (map) {
      const YamlNode& m = *map->value;
      if (!m.is_scalar() || m.is_null()) {
        fail(value_mark(*map), fmt::format("expected one node id for 'map' of node {}, got {}",
                                           q(node.id), describe_node(m)));
      }
      node.map = IdRef{m.text, m.mark};
      check_reference(node, *node.map, "'map'");
    }
    if (node.inputs_entry) {
      const YamlNode& list = *node.inputs_entry->value;
      if (!list.is_sequence()) {
        fail(value_mark(*node.inputs_entry),
             fmt::format("expected a list of node ids for 'inputs' of node {}, got {}", q(node.id),
                         describe_node(list)));
      }
      for (const YamlNode& item : list.items) {
        if (!item.is_scalar() || item.is_null()) {
          fail(item.mark, fmt::format("expected a node id in 'inputs' of node {}, got {}",
                                      q(node.id), describe_node(item)));
        }
        node.inputs.push_back(IdRef{item.text, item.mark});
        check_reference(node, node.inputs.back(), "'inputs'");
      }
    }

    const std::size_t given = (node.map ? 1 : 0) + node.inputs.size();
    if (given != node.op->inputs().size()) {
      fail(node.inputs_entry ? node.inputs_entry->key->mark : node.mark,
           fmt::format("op {} takes {}, node {} gives {}{}", q(op_name),
                       plural(node.op->inputs().size(), "input"), q(node.id), given,
                       node.map ? " (the mapped element counts as the first)" : ""));
    }

    if (doc) node.doc = read_text(*doc, fmt::format("'doc' of node {}", q(node.id)));
    if (cache) {
      const YamlNode& c = *cache->value;
      if (!c.is_scalar() || !c.plain ||
          (c.text != "true" && c.text != "True" && c.text != "TRUE" && c.text != "false" &&
           c.text != "False" && c.text != "FALSE")) {
        fail(value_mark(*cache), fmt::format("'cache' of node {} must be true or false, got {}",
                                             q(node.id), describe_node(c)));
      }
      node.cache = scalar_value(c).as_bool();
    }
    return node;
  }

  void check_reference(const RawNode& node, const IdRef& ref, std::string_view where) const {
    if (ref.id == node.id) {
      fail(ref.mark, fmt::format("node {} uses itself as an input (in {})", q(node.id), where));
    }
    if (!index_.contains(ref.id)) {
      fail(ref.mark, fmt::format("unknown node {} in {} of node {}{}", q(ref.id), where, q(node.id),
                                 did_you_mean(ref.id, ids_)));
    }
  }

  NodeSpec build_spec(const RawNode& raw) const {
    NodeSpec spec;
    spec.id = raw.id;
    spec.op = raw.op->name();
    spec.mark = raw.mark;
    spec.doc = raw.doc;
    spec.cache = raw.cache;
    if (raw.map) spec.map = raw.map->id;
    for (const IdRef& ref : raw.inputs) spec.inputs.push_back(ref.id);

    const std::vector<ArgSpec>& arg_specs = raw.op->args();
    std::vector<std::string> arg_names;
    arg_names.reserve(arg_specs.size());
    for (const ArgSpec& a : arg_specs) arg_names.push_back(a.name);
    if (raw.args != nullptr && raw.args->is_mapping()) {
      for (std::size_t i = 0; i < raw.args->keys.size(); ++i) {
        const YamlKey& key = raw.args->keys[i];
        auto it = std::find_if(arg_specs.begin(), arg_specs.end(),
                               [&](const ArgSpec& a) { return a.name == key.text; });
        if (it == arg_specs.end()) {
          fail(key.mark, fmt::format("op {} has no argument {}{}", q(spec.op), q(key.text),
                                     suggest_or_list(key.text, arg_names, "its arguments are",
                                                     "it takes no arguments")));
        }
        const YamlNode& value = raw.args->items[i];
        const SourceMark mark = value.is_null() && value.text.empty() ? key.mark : value.mark;
        spec.args.emplace(key.text, finish_arg(*it, to_value(value, true), mark, spec));
      }
    }
    for (const ArgSpec& a : arg_specs) {
      if (spec.args.contains(a.name)) continue;
      if (!a.default_value) {
        fail(raw.mark,
             fmt::format("node {} (op {}) needs argument {}", q(spec.id), q(spec.op), q(a.name)));
      }
      spec.args.emplace(a.name, finish_arg(a, *a.default_value, raw.mark, spec));
    }
    return spec;
  }

  // An argument's value made final: a string for a path argument resolved against the
  // pipeline's directory (output paths checked now), then its type checked.
  Value finish_arg(const ArgSpec& a, Value value, SourceMark mark, const NodeSpec& node) const {
    static const std::string path_type = ValueConvert<fs::path>::type_name();
    static const std::string path_list_type = ValueConvert<std::vector<fs::path>>::type_name();
    if (a.is_output_path && value.kind() == ValueKind::kString) {
      fs::path resolved;
      try {
        resolved = context_.output_path(value.as_string());
      } catch (const CapabilityError& e) {
        throw PipelineError(
            file_, mark, fmt::format("argument {} of node {}: {}", q(a.name), q(node.id), e.what()),
            e.refused());
      } catch (const Error& e) {
        fail(mark, fmt::format("argument {} of node {}: {}", q(a.name), q(node.id), e.what()));
      }
      if (a.type == path_type) value = Value::path(std::move(resolved), value.as_string());
    } else if (a.type == path_type && value.kind() == ValueKind::kString) {
      value = Value::path(context_.input_path(value.as_string()), value.as_string());
    } else if (a.type == path_list_type && value.kind() == ValueKind::kList) {
      for (Value& item : value.as_list()) {
        if (item.kind() == ValueKind::kString) {
          item = Value::path(context_.input_path(item.as_string()), item.as_string());
        }
      }
    }
    if (a.accepts != nullptr && !a.accepts(value)) {
      fail(mark, fmt::format("argument {} of op {} expects {}, got {}", q(a.name), q(node.op),
                             a.type, describe_value(value)));
    }
    return value;
  }

  // ---- order and outputs --------------------------------------------------------------------

  std::vector<std::size_t> dependencies(std::size_t i) const {
    std::vector<std::size_t> deps;
    if (raw_[i].map) deps.push_back(index_.at(raw_[i].map->id));
    for (const IdRef& ref : raw_[i].inputs) deps.push_back(index_.at(ref.id));
    return deps;
  }

  // The nodes, dependencies first, file order where there is a choice (Kahn's algorithm with the
  // ready nodes in a min-heap of file positions). A cycle is reported with its path.
  std::vector<NodeSpec> ordered_nodes() {
    const std::size_t n = raw_.size();
    std::vector<std::vector<std::size_t>> dependents(n);
    std::vector<std::size_t> waiting(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      for (const std::size_t d : dependencies(i)) {
        dependents[d].push_back(i);
        ++waiting[i];
      }
    }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t i = 0; i < n; ++i) {
      if (waiting[i] == 0) ready.push(i);
    }
    std::vector<NodeSpec> ordered;
    ordered.reserve(n);
    while (!ready.empty()) {
      const std::size_t i = ready.top();
      ready.pop();
      ordered.push_back(std::move(specs_[i]));
      for (const std::size_t d : dependents[i]) {
        if (--waiting[d] == 0) ready.push(d);
      }
    }
    if (ordered.size() != n) report_cycle(waiting);
    return ordered;
  }

  // Every node left waiting has a dependency that is also waiting, so following those from any
  // of them must come back to a node already seen: that loop is a cycle.
  [[noreturn]] void report_cycle(const std::vector<std::size_t>& waiting) const {
    std::size_t start = 0;
    while (waiting[start] == 0) ++start;
    std::vector<std::size_t> path;
    std::vector<std::size_t> position(raw_.size(), raw_.size());
    std::size_t current = start;
    while (position[current] == raw_.size()) {
      position[current] = path.size();
      path.push_back(current);
      for (const std::size_t d : dependencies(current)) {
        if (waiting[d] != 0) {
          current = d;
          break;
        }
      }
    }
    // path[position[current]..] follows dependencies (a node, then what it uses); print it in
    // the direction data flows, starting from the cycle's node that comes first in the file.
    std::vector<std::size_t> cycle(path.begin() + static_cast<std::ptrdiff_t>(position[current]),
                                   path.end());
    std::reverse(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    std::string text;
    for (const std::size_t i : cycle) text += raw_[i].id + " -> ";
    text += raw_[cycle.front()].id;
    fail(raw_[cycle.front()].mark, "cycle: " + text);
  }

  std::vector<std::string> read_outputs(const Entry& entry) const {
    const YamlNode& v = *entry.value;
    if (!v.is_sequence()) {
      fail(value_mark(entry), "expected a list of node ids for 'outputs', got " + describe_node(v));
    }
    if (v.items.empty()) fail(v.mark, "'outputs' is empty: name at least one node");
    std::vector<std::string> outputs;
    for (const YamlNode& item : v.items) {
      if (!item.is_scalar() || item.is_null()) {
        fail(item.mark, "expected a node id in 'outputs', got " + describe_node(item));
      }
      if (!index_.contains(item.text)) {
        fail(item.mark,
             "unknown node " + q(item.text) + " in 'outputs'" + did_you_mean(item.text, ids_));
      }
      if (std::find(outputs.begin(), outputs.end(), item.text) != outputs.end()) {
        fail(item.mark, "node " + q(item.text) + " is listed twice in 'outputs'");
      }
      outputs.push_back(item.text);
    }
    return outputs;
  }

  // The nodes nothing consumes, in file order.
  std::vector<std::string> default_outputs() const {
    std::vector<bool> consumed(raw_.size(), false);
    for (std::size_t i = 0; i < raw_.size(); ++i) {
      for (const std::size_t d : dependencies(i)) consumed[d] = true;
    }
    std::vector<std::string> outputs;
    for (std::size_t i = 0; i < raw_.size(); ++i) {
      if (!consumed[i]) outputs.push_back(raw_[i].id);
    }
    return outputs;
  }

  std::string file_;
  const OpRegistry& ops_;
  const LoadOptions& options_;
  OpContext context_;
  Value::Map params_;
  std::vector<std::string> param_names_;                // in file order, for suggestions
  std::unordered_map<std::string, std::size_t> index_;  // node id -> position in the file
  std::vector<std::string> ids_;
  std::vector<RawNode> raw_;
  std::vector<NodeSpec> specs_;
  mutable std::size_t expanded_bytes_ = 0;  // the text's size plus what substitution added
};

std::string display_name(const fs::path& file) {
  return file.empty() ? std::string(kUnnamedFile) : file.string();
}

// Why the pipeline file cannot be read, as util says it, but with sizes in MiB.
std::string read_problem(const util::ReadFileError& e) {
  if (e.reason() != util::ReadFileError::Reason::kTooLarge) return e.what();
  constexpr std::size_t kLimitMiB = kMaxPipelineBytes >> 20;
  if (!e.size()) return fmt::format("file is over the {} MiB limit", kLimitMiB);
  return fmt::format("file is {:.1f} MiB, over the {} MiB limit",
                     static_cast<double>(*e.size()) / (1024.0 * 1024.0), kLimitMiB);
}

}  // namespace

PipelineSpec load_pipeline_spec(const fs::path& file, const OpRegistry& ops,
                                const LoadOptions& options) {
  const std::string name = display_name(file);
  std::string text;
  try {
    // Not a FIFO, a device or a directory (refused before it is opened), and never more than
    // the limit, even when the file grows while it is read.
    text = util::read_regular_file(file, kMaxPipelineBytes);
  } catch (const util::ReadFileError& e) {
    throw PipelineError(name, {}, read_problem(e));
  }
  return parse_pipeline_spec(text, file, ops, options);
}

fs::path pipeline_dir_of(const fs::path& file) {
  return fs::absolute(file.empty() ? fs::path(".") : file).parent_path().lexically_normal();
}

PipelineSpec parse_pipeline_spec(std::string_view text, const fs::path& file, const OpRegistry& ops,
                                 const LoadOptions& options) {
  const std::string name = display_name(file);
  fs::path base_dir;
  try {
    base_dir = pipeline_dir_of(file);
  } catch (const fs::filesystem_error& e) {
    throw PipelineError(
        name, {}, fmt::format("cannot find the pipeline's directory: {}", e.code().message()));
  }
  return Loader(name, std::move(base_dir), ops, options).load(text);
}

}  // namespace dagflow
