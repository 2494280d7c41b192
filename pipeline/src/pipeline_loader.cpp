// The pipeline loader: a YAML file -> a validated PipelineSpec. Every mistake is found before
// anything runs, at the position of the node or key that is wrong, and all of them are reported
// together in one PipelineError (up to kMaxPipelineProblems).
//
// The text is parsed on the calling thread (see yaml_reader.hpp: yaml-cpp recurses, and ~250
// nested '[' overflow a 64 KiB stack), so never load a pipeline from a TBB worker.
#include <dagflow/pipeline/pipeline.hpp>
// (the header this file implements first)

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <dagflow/util/file_read.hpp>
#include <dagflow/util/suggest.hpp>

#include "duration.hpp"
#include "type_names.hpp"
#include "yaml_reader.hpp"

namespace dagflow {

namespace {

std::string format_what(const std::string& file, SourceMark mark, const std::string& message) {
  if (mark.line <= 0) return fmt::format("{}: {}", file, message);
  if (mark.column <= 0) return fmt::format("{}:{}: {}", file, mark.line, message);
  return fmt::format("{}:{}:{}: {}", file, mark.line, mark.column, message);
}

// One line per problem, then the count of those not kept.
std::string format_all(const std::vector<PipelineProblem>& problems, std::size_t not_shown) {
  if (problems.empty()) throw std::invalid_argument("PipelineError: no problem to report");
  std::string text;
  for (const PipelineProblem& p : problems) {
    if (!text.empty()) text += '\n';
    text += format_what(p.file, p.mark, p.message);
  }
  if (not_shown > 0) {
    text += fmt::format("\n{}: {} more error{} not shown", problems.back().file, not_shown,
                        not_shown == 1 ? "" : "s");
  }
  return text;
}

}  // namespace

PipelineError::PipelineError(std::string file, SourceMark mark, std::string message,
                             std::optional<Capability> refused)
    : Error(format_what(file, mark, message)) {
  problems_.push_back(PipelineProblem{
      .file = std::move(file), .mark = mark, .message = std::move(message), .refused = refused});
}

PipelineError::PipelineError(std::vector<PipelineProblem> problems, std::size_t not_shown)
    : Error(format_all(problems, not_shown)),
      problems_(std::move(problems)),
      not_shown_(not_shown) {}

std::optional<Capability> PipelineError::refused() const noexcept {
  for (const PipelineProblem& p : problems_) {
    if (p.refused) return p.refused;
  }
  return std::nullopt;
}

namespace {

namespace fs = std::filesystem;

// Named in messages when a pipeline comes from text with no file name.
constexpr std::string_view kUnnamedFile = "<pipeline>";
// Names the --set options in their messages.
constexpr std::string_view kSetOption = "--set";
constexpr std::int64_t kFormatVersion = 1;

const std::array<std::string, 7> kTopLevelKeys = {"name",    "params",    "nodes",  "outputs",
                                                  "version", "resources", "plugins"};
const std::array<std::string, 12> kNodeKeys = {"op",        "inputs",  "map",         "reduce",
                                               "args",      "doc",     "cache",       "io",
                                               "resources", "retries", "retry_delay", "timeout"};

std::string q(std::string_view text) { return quote_for_message(text); }

// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)", " (did you mean 'a', 'b' or 'c'?)" or
// "" when nothing is close.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
  return util::did_you_mean(util::nearest_names(word, candidates), q);
}

// did_you_mean, or when nothing is close, " (<label>: a, b, c)" (at most `max_listed` names),
// or " (<when_none>)" when there are no candidates.
std::string suggest_or_list(std::string_view word, std::span<const std::string> candidates,
                            std::string_view label, std::string_view when_none,
                            std::size_t max_listed = 8) {
  std::string hint = did_you_mean(word, candidates);
  if (!hint.empty()) return hint;
  if (candidates.empty()) return fmt::format(" ({})", when_none);
  std::string list;
  for (std::size_t i = 0; i < candidates.size() && i < max_listed; ++i) {
    if (i > 0) list += ", ";
    // Names from the file can be long; quote_for_message cuts them, here without the quotes.
    const std::string quoted = q(candidates[i]);
    list += quoted.substr(1, quoted.size() - 2);
  }
  if (candidates.size() > max_listed) list += ", ...";
  return fmt::format(" ({}: {})", label, list);
}

// Node ids and param names: [A-Za-z_][A-Za-z0-9_-]*.
bool is_valid_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !letter(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-'; });
}

// "a list of path", "an int": a type name in a sentence.
std::string a_type(std::string_view type) {
  const bool vowel =
      !type.empty() && std::string_view("aeiou").find(type[0]) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", type);
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

// A node's dependency as written: the id and where. `known` when it names another node of the
// file (else its mistake is recorded, and it is no dependency).
struct IdRef {
  std::string id;
  SourceMark mark;
  bool known = false;
};

// What a node says before its args are checked. `op` is null when it is missing or unknown;
// `wired` says the inputs and map were read, name known nodes and match the op's count, so
// their types can be checked. `reduces` says it has a `reduce` key, `reduce` is its op when
// that op is known and fits.
struct RawNode {
  std::string id;
  SourceMark mark;
  const OpInfo* op = nullptr;
  std::optional<IdRef> map{};
  bool reduces = false;
  const OpInfo* reduce = nullptr;
  std::vector<IdRef> inputs{};
  std::optional<Entry> inputs_entry{};
  const YamlNode* args = nullptr;
  std::string doc{};
  bool cache = true;
  bool wired = false;
  TaskOptions options{};
  std::optional<bool> io{};  // as the node says; else its op's
};

// The top-level entries of a pipeline file, each when present.
struct TopLevel {
  std::optional<Entry> name{};
  std::optional<Entry> params{};
  std::optional<Entry> nodes{};
  std::optional<Entry> outputs{};
  std::optional<Entry> resources{};
  std::optional<Entry> plugins{};
};

// The keys of a node that are read after its op.
struct NodeKeys {
  std::optional<Entry> op{};
  std::optional<Entry> map{};
  std::optional<Entry> reduce{};
  std::optional<Entry> doc{};
  std::optional<Entry> cache{};
  // How its task runs (TaskOptions).
  std::optional<Entry> io{};
  std::optional<Entry> resources{};
  std::optional<Entry> retries{};
  std::optional<Entry> retry_delay{};
  std::optional<Entry> timeout{};
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

  // The spec, or one PipelineError listing every problem found (see check).
  PipelineSpec load(std::string_view text) {
    PipelineSpec spec;
    try {
      spec = check(text);
    } catch (const PipelineError& e) {
      record(e);
    } catch (const Stopped& e) {
      if (e.reason) record(*e.reason);
    }
    if (problems_.empty()) return spec;
    // A front end adds how to allow a refused capability after what() (the `dagflow` command
    // names its flag): list those refusals last, where that lands on their own line.
    std::stable_partition(problems_.begin(), problems_.end(),
                          [](const PipelineProblem& p) { return !p.refused; });
    throw PipelineError(std::move(problems_), not_shown_);
  }

 private:
  // Thrown to stop the load; `reason` is recorded (none: it was already).
  struct Stopped {
    std::optional<PipelineError> reason{};
  };
  // Thrown by a check that cannot be made because of a mistake already recorded (a node using a
  // param whose value is wrong): attempt() records nothing more.
  struct AlreadyReported {};

  // Checks the whole pipeline, recording each mistake where it is found (see attempt) and
  // going on with what is left, so that the user sees them all at once: a node with an unknown
  // op still has its inputs checked, a node downstream of a broken one takes its value as "any".
  // A mistake after which going on could only report noise is thrown out of here and stops the
  // load: the text is empty, no YAML or no mapping; 'nodes' is missing or no mapping of nodes;
  // params expand beyond the size limit (count_expansion).
  PipelineSpec check(std::string_view text) {
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
    const TopLevel top = read_top_level(*root);

    PipelineSpec spec;
    spec.file = file_;
    spec.base_dir = context_.base_dir;
    attempt([&] { spec.name = read_name(top.name, root->mark); });
    if (top.params) read_params(*top.params);
    apply_set_options();
    spec.params = params_;
    if (top.resources) read_capacities(*top.resources);
    for (const auto& [name, units] : options_.resources) capacities_.insert_or_assign(name, units);
    spec.resources = capacities_;
    if (top.plugins) spec.plugins = read_plugins(*top.plugins);
    if (!top.nodes) {
      if (was_suggested("nodes")) throw Stopped{};  // the typo of it is reported
      fail(root->mark, "missing 'nodes' (a mapping from node id to node)");
    }
    read_nodes(*top.nodes);
    const std::optional<std::vector<std::size_t>> order = topological_order();
    if (order) check_types(*order);
    spec.outputs = top.outputs ? read_outputs(*top.outputs) : default_outputs();
    if (order && problems_.empty()) spec.nodes = specs_in(*order);
    return spec;
  }

  [[noreturn]] void fail(SourceMark mark, std::string message) const {
    throw PipelineError(file_, mark, std::move(message));
  }

  // Runs one check; the mistake it throws (fail) is recorded and the load goes on. Returns
  // whether there was none.
  template <class Check>
  bool attempt(Check&& check) {
    try {
      std::forward<Check>(check)();
      return true;
    } catch (const PipelineError& e) {
      record(e);
      return false;
    } catch (const AlreadyReported&) {
      return false;
    }
  }

  // Keeps the first kMaxPipelineProblems problems and counts the rest.
  void record(const PipelineError& e) {
    for (const PipelineProblem& problem : e.all()) {
      if (problems_.size() < kMaxPipelineProblems) {
        problems_.push_back(problem);
      } else {
        ++not_shown_;
      }
    }
    not_shown_ += e.not_shown();
  }

  // ---- top level ----------------------------------------------------------------------------

  TopLevel read_top_level(const YamlNode& root) {
    TopLevel top;
    for (std::size_t i = 0; i < root.keys.size(); ++i) {
      const Entry entry{&root.keys[i], &root.items[i]};
      const std::string& key = entry.key->text;
      if (key == "name") {
        top.name = entry;
      } else if (key == "params") {
        top.params = entry;
      } else if (key == "nodes") {
        top.nodes = entry;
      } else if (key == "outputs") {
        top.outputs = entry;
      } else if (key == "resources") {
        top.resources = entry;
      } else if (key == "plugins") {
        top.plugins = entry;
      } else if (key == "version") {
        attempt([&] { check_version(entry); });
      } else {
        unknown_keys_.push_back(key);
        attempt([&] {
          fail(entry.key->mark, "unknown top-level key " + q(key) +
                                    suggest_or_list(key, kTopLevelKeys, "the keys are", ""));
        });
      }
    }
    return top;
  }

  // Whether an unknown top-level key was reported as a typo of `key`: then that key being
  // missing is the same mistake, not worth a second line.
  bool was_suggested(std::string_view key) const {
    return std::any_of(unknown_keys_.begin(), unknown_keys_.end(), [&](const std::string& k) {
      const std::vector<std::string> near = util::nearest_names(k, kTopLevelKeys);
      return std::find(near.begin(), near.end(), key) != near.end();
    });
  }

  std::string read_name(const std::optional<Entry>& name, SourceMark root_mark) const {
    if (!name) {
      if (was_suggested("name")) return {};
      fail(root_mark, "missing 'name' (the pipeline's name)");
    }
    std::string text = read_text(*name, "'name'");
    if (text.empty()) fail(value_mark(*name), "'name' is empty");
    return text;
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
      attempt([&] {
        if (is_valid_name(key.text)) return;
        fail(key.mark, "invalid param name " + q(key.text) +
                           " (letters, digits, '_' and '-', starting with a letter or '_')");
      });
      // Kept even when wrong, so that its uses are not reported again as undefined.
      param_names_.push_back(key.text);
      Value value;
      if (!attempt([&] { value = to_value(v.items[i], false); })) broken_params_.insert(key.text);
      params_.emplace(key.text, std::move(value));  // params are literals
    }
  }

  // --set NAME=VALUE overrides, VALUE read with the YAML core schema. Errors name "--set", not
  // the file, and have no position.
  void apply_set_options() {
    for (const std::string& assignment : options_.set) attempt([&] { apply_set(assignment); });
  }

  void apply_set(const std::string& assignment) {
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
      throw PipelineError(
          std::string(kSetOption), {},
          "unknown param " + q(name) +
              suggest_or_list(name, param_names_, "the params are", "the pipeline has no params"));
    }
    try {
      it->second = resolve_core_scalar(std::string_view(assignment).substr(equals + 1));
    } catch (const ValueError& e) {
      throw PipelineError(std::string(kSetOption), {},
                          fmt::format("param {}: {}", q(name), e.what()));
    }
    broken_params_.erase(name);  // a good --set value replaces a bad one
  }

  const Value& param(std::string_view name, SourceMark mark) const {
    if (broken_params_.contains(name)) throw AlreadyReported{};
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
      // Not one mistake among others: going on would repeat it at every later use of a param.
      throw Stopped{PipelineError(
          file_, mark,
          fmt::format("with its params substituted the pipeline is over the {} MiB limit "
                      "of a pipeline file (a large param used many times?)",
                      kMaxPipelineBytes >> 20))};
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
    // All ids first: inputs may name nodes further down. An invalid id is still a node, so that
    // its uses are not reported again as unknown.
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const YamlKey& key = v.keys[i];
      attempt([&] {
        if (is_valid_name(key.text)) return;
        fail(key.mark, "invalid node id " + q(key.text) +
                           " (letters, digits, '_' and '-', starting with a letter or '_')");
      });
      index_.emplace(key.text, i);
      ids_.push_back(key.text);
    }
    raw_.reserve(v.keys.size());
    specs_.reserve(v.keys.size());
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      raw_.push_back(read_node(Entry{&v.keys[i], &v.items[i]}));
      specs_.push_back(raw_.back().op != nullptr ? build_spec(raw_.back()) : NodeSpec{});
    }
  }

  // One node as written, each of its mistakes recorded: what could be read of it is kept.
  RawNode read_node(const Entry& entry) {
    RawNode node;
    node.id = entry.key->text;
    node.mark = entry.key->mark;
    const YamlNode& v = *entry.value;
    if (!v.is_mapping()) {
      attempt([&] {
        fail(value_mark(entry), fmt::format("node {} must be a mapping with an 'op', got {}",
                                            q(node.id), describe_node(v)));
      });
      return node;
    }
    const NodeKeys keys = read_node_keys(node, v);
    attempt([&] { node.op = read_op(node, keys.op); });
    if (node.op != nullptr) attempt([&] { check_allowed(node, *keys.op); });
    const bool map_read = !keys.map || attempt([&] { read_map(node, *keys.map); });
    const bool inputs_read = !node.inputs_entry || read_inputs(node);
    // The count and the types are checked only for inputs that could be read; an unknown id
    // still counts.
    if (node.op != nullptr && map_read && inputs_read) {
      node.wired = attempt([&] { check_input_count(node); }) && (!node.map || node.map->known) &&
                   std::all_of(node.inputs.begin(), node.inputs.end(),
                               [](const IdRef& ref) { return ref.known; });
    }
    if (keys.reduce) read_reduce(node, *keys.reduce, keys.map.has_value());
    if (keys.doc) {
      attempt(
          [&] { node.doc = read_text(*keys.doc, fmt::format("'doc' of node {}", q(node.id))); });
    }
    if (keys.cache) {
      attempt([&] { node.cache = read_flag(*keys.cache, "'cache' of node " + q(node.id)); });
    }
    read_task_options(node, keys);
    return node;
  }

  // Sorts a node's keys; `inputs` and `args` go straight into `node`.
  NodeKeys read_node_keys(RawNode& node, const YamlNode& v) {
    NodeKeys keys;
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const Entry e{&v.keys[i], &v.items[i]};
      const std::string& key = e.key->text;
      if (key == "op") {
        keys.op = e;
      } else if (key == "inputs") {
        node.inputs_entry = e;
      } else if (key == "map") {
        keys.map = e;
      } else if (key == "reduce") {
        keys.reduce = e;
      } else if (key == "args") {
        node.args = e.value;
        attempt([&] {
          if (e.value->is_null() || e.value->is_mapping()) return;
          fail(value_mark(e), fmt::format("'args' of node {} must be a mapping from argument "
                                          "name to value, got {}",
                                          q(node.id), describe_node(*e.value)));
        });
      } else if (key == "doc") {
        keys.doc = e;
      } else if (key == "cache") {
        keys.cache = e;
      } else if (key == "io") {
        keys.io = e;
      } else if (key == "resources") {
        keys.resources = e;
      } else if (key == "retries") {
        keys.retries = e;
      } else if (key == "retry_delay") {
        keys.retry_delay = e;
      } else if (key == "timeout") {
        keys.timeout = e;
      } else {
        attempt([&] {
          fail(e.key->mark,
               fmt::format("unknown key {} in node {}{}", q(key), q(node.id),
                           suggest_or_list(key, kNodeKeys, "the keys are", "", kNodeKeys.size())));
        });
      }
    }
    return keys;
  }

  const OpInfo* read_op(const RawNode& node, const std::optional<Entry>& op) const {
    if (!op) fail(node.mark, fmt::format("node {} has no 'op'", q(node.id)));
    const std::string op_name = read_text(*op, "'op'");
    const OpInfo* info = ops_.find(op_name);
    if (info == nullptr) {
      const std::vector<std::string> near = ops_.suggest(op_name);
      fail(value_mark(*op), "unknown op " + q(op_name) + util::did_you_mean(near, q));
    }
    return info;
  }

  void check_allowed(const RawNode& node, const Entry& op) const {
    if (!node.op->runs_commands() || options_.allow_shell) return;
    constexpr Capability kNeeded = Capability::kRunCommands;
    throw PipelineError(file_, value_mark(op),
                        fmt::format("node {} uses op {}, which runs commands without a "
                                    "sandbox: {}",
                                    q(node.id), q(node.op->name()), refusal_text(kNeeded)),
                        kNeeded);
  }

  void read_map(RawNode& node, const Entry& map) {
    const YamlNode& m = *map.value;
    if (!m.is_scalar() || m.is_null()) {
      fail(value_mark(map), fmt::format("expected one node id for 'map' of node {}, got {}",
                                        q(node.id), describe_node(m)));
    }
    node.map = IdRef{m.text, m.mark};
    node.map->known = attempt([&] { check_reference(node, *node.map, "'map'"); });
  }

  // `reduce: OP` of a map node (`has_map`: it has a 'map' key, even a wrong one): OP combines
  // the results of the node's op, a list of two at a time (dagflow::map_reduce), and the node
  // gives what it returns. Each mistake is recorded; `reduce` is set only when OP fits.
  void read_reduce(RawNode& node, const Entry& entry, bool has_map) {
    node.reduces = true;
    attempt([&] { check_reduce_place(node, entry, has_map); });
    const OpInfo* reduce = nullptr;
    if (!attempt([&] { reduce = read_reduce_op(node, entry); })) return;
    if (!attempt([&] { check_reduce_op(node, *reduce, value_mark(entry)); })) return;
    if (node.op != nullptr &&
        !attempt([&] { check_reduce_types(node, *reduce, value_mark(entry)); })) {
      return;
    }
    node.reduce = reduce;
  }

  // A reduce needs a map, and dagflow::map_reduce passes nothing else to the items.
  void check_reduce_place(const RawNode& node, const Entry& entry, bool has_map) const {
    if (!has_map) {
      fail(entry.key->mark,
           fmt::format("'reduce' of node {} needs 'map': it combines the results of the node's "
                       "op over each element of a list",
                       q(node.id)));
    }
    const bool extras = node.inputs_entry && node.inputs_entry->value->is_sequence() &&
                        !node.inputs_entry->value->items.empty();
    if (extras) {
      fail(entry.key->mark,
           fmt::format("'reduce' takes no other inputs; node {} has 'inputs' too (compute what "
                       "each element needs into the list it maps over, or leave 'reduce' out "
                       "and combine in a node of its own)",
                       q(node.id)));
    }
  }

  const OpInfo* read_reduce_op(const RawNode& node, const Entry& entry) const {
    const std::string what = fmt::format("'reduce' of node {}", q(node.id));
    const std::string name = read_text(entry, what);
    if (name.empty()) fail(value_mark(entry), what + " is empty: name the op that combines");
    const OpInfo* info = ops_.find(name);
    if (info == nullptr) {
      fail(value_mark(entry), fmt::format("unknown op {} in {}{}", q(name), what,
                                          util::did_you_mean(ops_.suggest(name), q)));
    }
    return info;
  }

  // The reduce op is called again and again, with one list and no arguments: it must take one
  // input, have a default for every argument, and do nothing but compute.
  void check_reduce_op(const RawNode& node, const OpInfo& reduce, SourceMark mark) const {
    const std::string what =
        fmt::format("op {} in 'reduce' of node {}", q(reduce.name()), q(node.id));
    if (reduce.inputs().size() != 1) {
      fail(mark, fmt::format("{} takes {}; a reduce op takes one, the list of results to combine",
                             what, plural(reduce.inputs().size(), "input")));
    }
    for (const ArgSpec& a : reduce.args()) {
      if (a.default_value) continue;
      fail(mark, fmt::format("{} needs argument {}; a reduce op is called with its defaults only",
                             what, q(a.name)));
    }
    const char* kind = reduce.is_probe()           ? "is a probe"
                       : reduce.writes_files()     ? "writes files"
                       : reduce.runs_commands()    ? "runs commands"
                       : reduce.has_side_effects() ? "has side effects"
                                                   : nullptr;
    if (kind != nullptr) fail(mark, fmt::format("{} {}: a reduce op only computes", what, kind));
  }

  // The reduce op takes a list of what the node's op gives each element, and gives that again:
  // its result is combined again, and is the node's value. Only certain mismatches are refused
  // (see type_names.hpp).
  void check_reduce_types(const RawNode& node, const OpInfo& reduce, SourceMark mark) const {
    const std::string& each = node.op->result_type();
    const std::string what =
        fmt::format("op {} in 'reduce' of node {}", q(reduce.name()), q(node.id));
    if (!may_accept(reduce.inputs().front(), list_type(each))) {
      fail(mark, fmt::format("{} takes {}, but it gets {} (op {} gives {} for each element)", what,
                             a_type(reduce.inputs().front()), a_type(list_type(each)),
                             q(node.op->name()), a_type(each)));
    }
    if (!may_accept(each, reduce.result_type())) {
      fail(mark, fmt::format("{} gives {}, but it must give {} as op {} does: its result is "
                             "combined again",
                             what, a_type(reduce.result_type()), a_type(each), q(node.op->name())));
    }
  }

  // Whether every entry of `inputs` could be read (each mistake is recorded).
  bool read_inputs(RawNode& node) {
    const YamlNode& list = *node.inputs_entry->value;
    if (!list.is_sequence()) {
      return attempt([&] {
        fail(value_mark(*node.inputs_entry),
             fmt::format("expected a list of node ids for 'inputs' of node {}, got {}", q(node.id),
                         describe_node(list)));
      });
    }
    bool all_read = true;
    for (const YamlNode& item : list.items) {
      if (!item.is_scalar() || item.is_null()) {
        all_read =
            attempt([&] {
              fail(item.mark, fmt::format("expected a node id in 'inputs' of node {}, got {}",
                                          q(node.id), describe_node(item)));
            }) &&
            all_read;
        continue;
      }
      node.inputs.push_back(IdRef{item.text, item.mark});
      node.inputs.back().known =
          attempt([&] { check_reference(node, node.inputs.back(), "'inputs'"); });
    }
    return all_read;
  }

  void check_input_count(const RawNode& node) const {
    const std::size_t given = (node.map ? 1 : 0) + node.inputs.size();
    if (given == node.op->inputs().size() || node.op->takes_any_inputs()) return;
    // Several inputs become one map keyed by node id (OpInfo::has_keyed_inputs): not for a map
    // node (its element has no id), and each id once.
    if (node.op->has_keyed_inputs() && !node.map && given > 1) {
      check_keyed_inputs(node);
      return;
    }
    fail(node.inputs_entry ? node.inputs_entry->key->mark : node.mark,
         fmt::format("op {} takes {}, node {} gives {}{}", q(node.op->name()),
                     plural(node.op->inputs().size(), "input"), q(node.id), given,
                     node.map ? " (the mapped element counts as the first)" : ""));
  }

  void check_keyed_inputs(const RawNode& node) const {
    std::set<std::string_view> seen;
    for (const IdRef& ref : node.inputs) {
      if (seen.insert(ref.id).second) continue;
      fail(ref.mark, fmt::format("node {} names input {} twice: op {} takes several inputs as one "
                                 "map keyed by node id",
                                 q(node.id), q(ref.id), q(node.op->name())));
    }
  }

  // true or false (`what` names the key in the message: "'cache' of node 'x'").
  bool read_flag(const Entry& entry, const std::string& what) const {
    const YamlNode& c = *entry.value;
    if (!c.is_scalar() || !c.plain ||
        (c.text != "true" && c.text != "True" && c.text != "TRUE" && c.text != "false" &&
         c.text != "False" && c.text != "FALSE")) {
      fail(value_mark(entry),
           fmt::format("{} must be true or false, got {}", what, describe_node(c)));
    }
    return scalar_value(c).as_bool();
  }

  // ---- how a node's task runs ---------------------------------------------------------------

  // The top-level capacities: resource name -> units.
  void read_capacities(const Entry& entry) {
    const YamlNode& v = *entry.value;
    if (v.is_null()) return;
    if (!v.is_mapping()) {
      attempt([&] {
        fail(value_mark(entry),
             "'resources' must be a mapping from resource name to its capacity (a number of "
             "units), got " +
                 describe_node(v));
      });
      return;
    }
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const Entry resource{&v.keys[i], &v.items[i]};
      attempt([&] {
        check_resource_name(*resource.key);
        capacities_.insert_or_assign(
            resource.key->text,
            read_count(resource, "the capacity of resource " + q(resource.key->text)));
      });
    }
  }

  void check_resource_name(const YamlKey& key) const {
    if (is_valid_name(key.text)) return;
    fail(key.mark, "invalid resource name " + q(key.text) +
                       " (letters, digits, '_' and '-', starting with a letter or '_')");
  }

  // A whole number, 0 or more (`what` names it in messages).
  std::size_t read_count(const Entry& entry, const std::string& what) const {
    const Value v = to_value(*entry.value, true);
    if (v.kind() != ValueKind::kInt) {
      fail(value_mark(entry), fmt::format("{} must be a whole number, got {}", what,
                                          v.is_null() ? "nothing" : describe_value(v)));
    }
    if (v.as_int() < 0) {
      fail(value_mark(entry), fmt::format("{} cannot be negative, got {}", what, v.as_int()));
    }
    return static_cast<std::size_t>(v.as_int());
  }

  // A duration with its unit ("30s"; see parse_duration).
  std::chrono::milliseconds read_duration(const Entry& entry, const std::string& what) const {
    const Value v = to_value(*entry.value, true);
    const bool scalar = v.kind() == ValueKind::kString || v.kind() == ValueKind::kInt ||
                        v.kind() == ValueKind::kDouble;
    try {
      if (scalar) return parse_duration(scalar_text(v));
    } catch (const std::invalid_argument& e) {
      fail(value_mark(entry), fmt::format("{}: {}", what, e.what()));
    }
    fail(value_mark(entry), fmt::format("{} must be a duration such as 100ms, 30s, 2min or 1h, "
                                        "got {}",
                                        what, v.is_null() ? "nothing" : describe_value(v)));
  }

  // The node's io, resources, retries, retry_delay and timeout, each mistake recorded.
  void read_task_options(RawNode& node, const NodeKeys& keys) {
    const std::string of_node = " of node " + q(node.id);
    if (keys.io) attempt([&] { node.io = read_flag(*keys.io, "'io'" + of_node); });
    if (keys.retries) {
      attempt([&] { node.options.retries = read_count(*keys.retries, "'retries'" + of_node); });
    }
    if (keys.retry_delay) {
      attempt([&] {
        node.options.retry_delay = read_duration(*keys.retry_delay, "'retry_delay'" + of_node);
      });
    }
    if (keys.timeout) {
      attempt([&] {
        node.options.timeout = read_duration(*keys.timeout, "'timeout'" + of_node);
        if (node.options.timeout.count() == 0) {
          fail(value_mark(*keys.timeout),
               "'timeout'" + of_node + " must be more than 0 (leave it out for no limit)");
        }
      });
    }
    if (keys.resources) read_node_resources(node, *keys.resources);
  }

  // What the node holds while it runs: each resource declared (at the top level or through
  // LoadOptions::resources), and no more units than its capacity (the task could never start).
  void read_node_resources(RawNode& node, const Entry& entry) {
    const YamlNode& v = *entry.value;
    if (v.is_null()) return;
    if (!v.is_mapping()) {
      attempt([&] {
        fail(value_mark(entry),
             fmt::format("'resources' of node {} must be a mapping from resource name to the "
                         "units it holds, got {}",
                         q(node.id), describe_node(v)));
      });
      return;
    }
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const Entry resource{&v.keys[i], &v.items[i]};
      attempt([&] {
        const std::string& name = resource.key->text;
        check_resource_name(*resource.key);
        const std::size_t units = read_count(
            resource, fmt::format("units of resource {} for node {}", q(name), q(node.id)));
        check_capacity(node, resource, units);
        node.options.resources.insert_or_assign(name, units);
      });
    }
  }

  void check_capacity(const RawNode& node, const Entry& resource, std::size_t units) const {
    const std::string& name = resource.key->text;
    const auto it = capacities_.find(name);
    if (it == capacities_.end()) {
      std::vector<std::string> declared;
      for (const auto& [n, capacity] : capacities_) declared.push_back(n);
      fail(resource.key->mark,
           fmt::format("node {} needs resource {}, which is not declared{}", q(node.id), q(name),
                       suggest_or_list(name, declared, "the resources are",
                                       "give its capacity in the top-level 'resources'")));
    }
    if (units > it->second) {
      fail(value_mark(resource),
           fmt::format("node {} needs {} units of resource {}, more than its capacity of {}: it "
                       "could never run",
                       q(node.id), units, q(name), it->second));
    }
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

  // The node's spec, its arguments checked one by one (each mistake recorded).
  NodeSpec build_spec(const RawNode& raw) {
    NodeSpec spec;
    spec.id = raw.id;
    spec.op = raw.op->name();
    spec.mark = raw.mark;
    spec.doc = raw.doc;
    spec.cache = raw.cache;
    spec.options = raw.options;
    spec.options.io = raw.io.value_or(raw.op->io());
    if (raw.map) spec.map = raw.map->id;
    if (raw.reduce != nullptr) spec.reduce = raw.reduce->name();
    for (const IdRef& ref : raw.inputs) spec.inputs.push_back(ref.id);

    const std::vector<ArgSpec>& arg_specs = raw.op->args();
    std::vector<std::string> given;  // written, whether right or wrong
    if (raw.args != nullptr && raw.args->is_mapping()) {
      for (std::size_t i = 0; i < raw.args->keys.size(); ++i) {
        given.push_back(raw.args->keys[i].text);
        attempt([&] { add_arg(spec, arg_specs, raw.args->keys[i], raw.args->items[i]); });
      }
    } else if (raw.args != nullptr && !raw.args->is_null()) {
      return spec;  // 'args' is no mapping (reported): which are missing cannot be told
    }
    for (const ArgSpec& a : arg_specs) {
      if (std::find(given.begin(), given.end(), a.name) != given.end()) continue;
      attempt([&] {
        if (!a.default_value) {
          fail(raw.mark,
               fmt::format("node {} (op {}) needs argument {}", q(spec.id), q(spec.op), q(a.name)));
        }
        spec.args.emplace(a.name, finish_arg(a, *a.default_value, raw.mark, spec));
      });
    }
    attempt([&] { check_node(raw, spec); });
    return spec;
  }

  // The op's own check of the node (OpInfo::node_check), reported at the argument at fault.
  void check_node(const RawNode& raw, const NodeSpec& spec) const {
    if (raw.op->node_check() == nullptr) return;
    const NodeShape shape{.inputs = (raw.map ? 1 : 0) + raw.inputs.size(),
                          .mapped = raw.map.has_value()};
    const std::optional<NodeProblem> problem = raw.op->node_check()(context_, spec.args, shape);
    if (!problem) return;
    SourceMark mark = raw.mark;
    if (raw.args != nullptr && raw.args->is_mapping()) {
      for (std::size_t i = 0; i < raw.args->keys.size(); ++i) {
        if (raw.args->keys[i].text != problem->arg) continue;
        mark = raw.args->items[i].mark;
        if (problem->offset) mark = mark_inside(raw.args->items[i], spec.args, *problem);
      }
    }
    std::string message =
        fmt::format("node {} (op {}): {}", q(spec.id), q(spec.op), problem->message);
    if (problem->refused) throw PipelineError(file_, mark, std::move(message), *problem->refused);
    fail(mark, message);
  }

  // Where the byte problem.offset of a string argument is in the file: exact when the file holds
  // the argument's string as it is on one line (YamlNode::text_column; params not substituted
  // into it), else the value's own position (a block scalar, an escape, a ${param}).
  static SourceMark mark_inside(const YamlNode& value, const Value::Map& args,
                                const NodeProblem& problem) {
    const auto it = args.find(problem.arg);
    const bool as_written = it != args.end() && it->second.kind() == ValueKind::kString &&
                            value.is_scalar() && it->second.as_string() == value.text;
    if (!as_written || value.text_column <= 0 || *problem.offset > value.text.size()) {
      return value.mark;
    }
    return SourceMark{value.mark.line, value.text_column + static_cast<int>(*problem.offset)};
  }

  void add_arg(NodeSpec& spec, const std::vector<ArgSpec>& arg_specs, const YamlKey& key,
               const YamlNode& value) const {
    auto it = std::find_if(arg_specs.begin(), arg_specs.end(),
                           [&](const ArgSpec& a) { return a.name == key.text; });
    if (it == arg_specs.end()) {
      std::vector<std::string> arg_names;
      arg_names.reserve(arg_specs.size());
      for (const ArgSpec& a : arg_specs) arg_names.push_back(a.name);
      fail(key.mark, fmt::format("op {} has no argument {}{}", q(spec.op), q(key.text),
                                 suggest_or_list(key.text, arg_names, "its arguments are",
                                                 "it takes no arguments")));
    }
    const SourceMark mark = value.is_null() && value.text.empty() ? key.mark : value.mark;
    spec.args.emplace(key.text, finish_arg(*it, to_value(value, true), mark, spec));
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

  // ---- order --------------------------------------------------------------------------------

  std::vector<std::size_t> dependencies(std::size_t i) const {
    // Only references to nodes of the file: the others are reported already.
    std::vector<std::size_t> deps;
    if (raw_[i].map && raw_[i].map->known) deps.push_back(index_.at(raw_[i].map->id));
    for (const IdRef& ref : raw_[i].inputs) {
      if (ref.known) deps.push_back(index_.at(ref.id));
    }
    return deps;
  }

  // The nodes' positions in the file, dependencies first, file order where there is a choice
  // (Kahn's algorithm with the ready nodes in a min-heap of file positions). A cycle is recorded
  // with its path, and then there is no order.
  std::optional<std::vector<std::size_t>> topological_order() {
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
    std::vector<std::size_t> ordered;
    ordered.reserve(n);
    while (!ready.empty()) {
      const std::size_t i = ready.top();
      ready.pop();
      ordered.push_back(i);
      for (const std::size_t d : dependents[i]) {
        if (--waiting[d] == 0) ready.push(d);
      }
    }
    if (ordered.size() == n) return ordered;
    attempt([&] { report_cycle(waiting); });
    return std::nullopt;
  }

  std::vector<NodeSpec> specs_in(const std::vector<std::size_t>& order) {
    std::vector<NodeSpec> specs;
    specs.reserve(order.size());
    for (const std::size_t i : order) specs.push_back(std::move(specs_[i]));
    return specs;
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

  // ---- types --------------------------------------------------------------------------------

  // What flows into each node against what its op takes, so that a node fed the wrong kind of
  // value fails here and not after its upstream has run: a node gives its op's result type (a
  // map node a list of it, unless it has `reduce`), a map node takes each element of the list it
  // maps over. Only certain mismatches are refused (see type_names.hpp). A node with an unknown
  // op or reduce op gives "any", so that nothing downstream of a mistake is reported again.
  void check_types(const std::vector<std::size_t>& order) {
    std::vector<std::string> gives(raw_.size(), "any");
    for (const std::size_t i : order) {
      const RawNode& node = raw_[i];
      if (node.op == nullptr) continue;
      if (node.wired) check_node_types(node, gives);
      gives[i] = gives_type(node);
    }
  }

  static std::string gives_type(const RawNode& node) {
    if (node.reduces) return node.reduce != nullptr ? node.op->result_type() : "any";
    return node.map ? list_type(node.op->result_type()) : node.op->result_type();
  }

  void check_node_types(const RawNode& node, const std::vector<std::string>& gives) {
    std::size_t input = 0;  // the op's input the next value goes to; the element comes first
    if (node.map) {
      const std::string& list = gives[index_.at(node.map->id)];
      attempt([&] {
        const std::optional<std::string> element = element_type(list);
        if (!element) {
          fail(node.map->mark, fmt::format("node {} maps over {}, which is {}, not a list",
                                           q(node.id), q(node.map->id), a_type(list)));
        }
        check_input(node, input, "each element of " + q(node.map->id), *element, node.map->mark);
      });
      ++input;
    }
    for (const IdRef& ref : node.inputs) {
      attempt([&] { check_input(node, input, q(ref.id), gives[index_.at(ref.id)], ref.mark); });
      ++input;
    }
  }

  // `given` is what arrives at the op's input number `input` (from `from`, written at `mark`).
  void check_input(const RawNode& node, std::size_t input, const std::string& from,
                   std::string_view given, SourceMark mark) const {
    // An op taking any number of inputs takes each as an element of its one list.
    // One taking keyed inputs (of type "any") takes each as a value of its one map.
    const std::string takes = node.op->takes_any_inputs()
                                  ? element_type(node.op->inputs().front()).value_or("any")
                              : node.op->has_keyed_inputs() ? node.op->inputs().front()
                                                            : node.op->inputs()[input];
    if (may_accept(takes, given)) return;
    fail(mark, fmt::format("node {} input {} ({}) is {}, but op {} takes {}", q(node.id), input + 1,
                           from, a_type(given), q(node.op->name()), a_type(takes)));
  }

  // ---- plugins ------------------------------------------------------------------------------

  // Loads the plugins listed (paths relative to the pipeline's directory) into ops_, before any
  // node names their ops; each is code run with the user's rights, so only when allowed.
  std::vector<fs::path> read_plugins(const Entry& entry) {
    if (!options_.allow_plugins) {
      constexpr Capability kNeeded = Capability::kLoadPlugins;
      record(PipelineError(
          file_, entry.key->mark,
          fmt::format("'plugins' loads code into dagflow: {}", refusal_text(kNeeded)), kNeeded));
      return {};
    }
    const YamlNode& v = *entry.value;
    if (!attempt([&] {
          if (!v.is_sequence()) {
            fail(value_mark(entry),
                 "expected a list of plugin files for 'plugins', got " + describe_node(v));
          }
        })) {
      return {};
    }
    std::vector<fs::path> loaded;
    for (const YamlNode& item : v.items) {
      attempt([&] { loaded.push_back(load_plugin(item)); });
    }
    return loaded;
  }

  // One entry of 'plugins', loaded into ops_: its absolute path.
  fs::path load_plugin(const YamlNode& item) {
    const Value given = to_value(item, /*substitute=*/true);
    if (given.kind() != ValueKind::kString || given.as_string().empty()) {
      fail(item.mark,
           "expected the path of a plugin file in 'plugins', got " + describe_node(item));
    }
    fs::path path = (context_.base_dir / given.as_string()).lexically_normal();
    try {
      ops_.load_plugin(path);
    } catch (const PluginError& e) {
      fail(item.mark, e.what());
    }
    return path;
  }

  // ---- outputs ------------------------------------------------------------------------------

  std::vector<std::string> read_outputs(const Entry& entry) {
    const YamlNode& v = *entry.value;
    const bool is_list = attempt([&] {
      if (!v.is_sequence()) {
        fail(value_mark(entry),
             "expected a list of node ids for 'outputs', got " + describe_node(v));
      }
      if (v.items.empty()) fail(v.mark, "'outputs' is empty: name at least one node");
    });
    std::vector<std::string> outputs;
    if (!is_list) return outputs;
    for (const YamlNode& item : v.items) {
      attempt([&] { outputs.push_back(read_output(item, outputs)); });
    }
    return outputs;
  }

  // One entry of 'outputs' (`earlier` the ones before it).
  std::string read_output(const YamlNode& item, const std::vector<std::string>& earlier) const {
    if (!item.is_scalar() || item.is_null()) {
      fail(item.mark, "expected a node id in 'outputs', got " + describe_node(item));
    }
    if (!index_.contains(item.text)) {
      fail(item.mark,
           "unknown node " + q(item.text) + " in 'outputs'" + did_you_mean(item.text, ids_));
    }
    if (std::find(earlier.begin(), earlier.end(), item.text) != earlier.end()) {
      fail(item.mark, "node " + q(item.text) + " is listed twice in 'outputs'");
    }
    return item.text;
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
  OpRegistry ops_;  // with the ops of the file's plugins (a copy shares the functions)
  const LoadOptions& options_;
  OpContext context_;
  Value::Map params_;
  std::vector<std::string> param_names_;                // in file order, for suggestions
  std::unordered_map<std::string, std::size_t> index_;  // node id -> position in the file
  std::vector<std::string> ids_;
  std::vector<RawNode> raw_;
  std::vector<NodeSpec> specs_;
  mutable std::size_t expanded_bytes_ = 0;  // the text's size plus what substitution added
  std::vector<std::string> unknown_keys_;   // at the top level, for was_suggested
  std::set<std::string, std::less<>> broken_params_;  // whose values are wrong (reported)
  std::map<std::string, std::size_t> capacities_;     // of the resources, after the options
  std::vector<PipelineProblem> problems_;             // the first kMaxPipelineProblems found
  std::size_t not_shown_ = 0;                         // found after those
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
