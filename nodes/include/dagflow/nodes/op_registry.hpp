// OpRegistry: the ops a YAML pipeline can name, each an ordinary typed C++ function.
//
//   dagflow::OpRegistry ops = dagflow::OpRegistry::builtins();
//   ops.add("scale", [](double x, double by) { return x * by; }, "x times `by`",
//           {dagflow::arg("by", 2.0)});
//
// A function's parameters are, in order: an optional `const dagflow::OpContext&`, then its
// inputs (what a node's `inputs:` — and, for a map, the element before them — provide), then
// one parameter per named argument in the order they are listed (what a node's `args:`
// provide, or their defaults). Each parameter and the result convert through ValueConvert
// (Value, bool, integers, double, std::string, std::filesystem::path, std::vector<T>,
// std::map<std::string, T>); the input, argument and result types shown by `dagflow ops` and
// checked before a run come from the parameter and return types.
// Thread-safety: add() is not thread-safe; the const members are, and copies share the functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <dagflow/engine/streaming.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow {

/// What a run may do beyond computing. Each is refused unless the run allows it (OpContext,
/// LoadOptions); how a user allows it is the front end's business (the `dagflow` command has a
/// flag for each).
enum class Capability : std::uint8_t {
  kWriteOutside,  ///< writing files outside the pipeline's directory (allow_outside)
  kRunCommands,   ///< running external commands, unsandboxed (allow_shell)
  kLoadPlugins,   ///< loading op plugins a pipeline file names (allow_plugins)
};

/// What refusing `capability` says: "writing outside the pipeline's directory is not allowed",
/// "running commands is not allowed", "loading plugins is not allowed".
[[nodiscard]] std::string_view refusal_text(Capability capability) noexcept;

/// A capability the run does not allow was needed. what() is "CONTEXT: " followed by
/// refusal_text(refused()), and never says how to allow it: a front end that can (the `dagflow`
/// command) adds that, knowing which capability from refused().
class CapabilityError : public Error {
 public:
  CapabilityError(Capability refused, std::string_view context);
  [[nodiscard]] Capability refused() const noexcept { return refused_; }

 private:
  Capability refused_;
};

/// What an op may know about the run it is part of.
struct OpContext {
  /// The directory of the pipeline file (absolute): relative paths resolve against it.
  std::filesystem::path base_dir{};
  /// Ops may write outside base_dir (Capability::kWriteOutside).
  bool allow_outside = false;
  /// Ops that run commands may run (Capability::kRunCommands).
  bool allow_shell = false;

  /// `path` resolved against base_dir (absolute paths stay as they are).
  [[nodiscard]] std::filesystem::path input_path(const std::filesystem::path& path) const;
  /// `path` resolved against base_dir for writing: throws dagflow::Error when it is empty or
  /// contains a NUL, and CapabilityError (kWriteOutside) when it leads outside base_dir (`..`, an
  /// absolute path elsewhere, a symlink that points out), unless allow_outside. Missing parent
  /// directories are fine (checked lexically from the deepest existing one).
  [[nodiscard]] std::filesystem::path output_path(const std::filesystem::path& path) const;
  /// Writes `bytes` as the file `path` (checked by output_path; missing parent directories are
  /// created) atomically: readers and crashes see the old file or the new one, never a part.
  /// Returns it as a path Value shown as `shown` (`path` as given when empty). Throws what
  /// output_path throws, and dagflow::Error "cannot write 'SHOWN': REASON".
  Value write_file(const std::filesystem::path& path, std::string_view bytes,
                   std::string_view shown = {}) const;
};

/// A named argument of an op, with its default (if any). `type` and `accepts` are filled in by
/// OpRegistry::add from the function's parameter type.
struct ArgSpec {
  std::string name;
  std::optional<Value> default_value{};
  /// A file the op writes: checked with OpContext::output_path before anything runs.
  bool is_output_path = false;
  std::string type{};
  bool (*accepts)(const Value&) = nullptr;
};

/// A required argument.
[[nodiscard]] ArgSpec arg(std::string name);
/// An argument with a default.
[[nodiscard]] ArgSpec arg(std::string name, Value default_value);
/// A required argument naming a file the op writes (refused outside the pipeline's directory).
[[nodiscard]] ArgSpec output_path_arg(std::string name);

/// What a node gives its op besides arguments, for OpInfo::node_check.
struct NodeShape {
  std::size_t inputs = 0;  ///< how many inputs, the mapped element included
  bool mapped = false;     ///< a map node: its first input is the element
};

/// A mistake an op's own check found in a node: the argument at fault (empty: the node as a
/// whole), what is wrong with it, the capability it needs when that is what is wrong, and for a
/// string argument, the byte of its value where the mistake is (a pipeline loader points there
/// when the file holds the string as it is, else at the value).
struct NodeProblem {
  std::string arg;
  std::string message;
  std::optional<Capability> refused{};
  std::optional<std::size_t> offset{};
};

/// Element `index` of a list failed (OpInfo::array_map): what() says why, without the index.
class ItemError : public Error {
 public:
  ItemError(std::size_t index, const std::string& what) : Error(what), index_(index) {}
  [[nodiscard]] std::size_t index() const noexcept { return index_; }

 private:
  std::size_t index_;
};

/// One registered op: its description and a type-erased way to call it.
class OpInfo {
 public:
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& doc() const noexcept { return doc_; }
  /// Type names of the inputs, in order ("int", "list of string", "any"...).
  [[nodiscard]] const std::vector<std::string>& inputs() const noexcept { return inputs_; }
  /// Type name of the result, from the function's return type like inputs() ("map of int";
  /// "any" for a function returning dagflow::Value). A pipeline loader checks it against what
  /// the ops downstream take.
  [[nodiscard]] const std::string& result_type() const noexcept { return result_type_; }
  [[nodiscard]] const std::vector<ArgSpec>& args() const noexcept { return args_; }
  /// Part of every cache key of the op: bump it when the function's results change.
  [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
  /// The plugin file that registered the op (OpRegistry::load_plugin), as it was loaded; empty
  /// for a built-in op or one the program added itself.
  [[nodiscard]] const std::filesystem::path& plugin() const noexcept { return plugin_; }
  /// A probe reads the outside world cheaply (like `glob`): it runs on every run, before the
  /// rest, and what it returns decides which downstream results are still cached.
  [[nodiscard]] bool is_probe() const noexcept { return probe_; }
  /// Runs external commands: refused unless the run allows it (Capability::kRunCommands).
  [[nodiscard]] bool runs_commands() const noexcept { return runs_commands_; }
  /// Has effects beyond its result that a cache cannot stand for (like running a command): it
  /// runs every time (never cached). An op that only writes files is a writer instead.
  [[nodiscard]] bool has_side_effects() const noexcept { return side_effects_; }
  /// has_side_effects() for a node with `args`: false when the node gives writer_arg().
  [[nodiscard]] bool has_side_effects(const Value::Map& args) const {
    return side_effects_ && !gives_writer_arg(args);
  }
  /// A writer: it writes files and returns their paths (a path, or a list of them). It is cached
  /// like any op, and a pipeline tracks its files: a re-run that finds its result cached leaves
  /// them untouched when they hold what was written, and restores them when they were deleted
  /// or edited (from the cache when it keeps their bytes, else by running the op again).
  [[nodiscard]] bool writes_files() const noexcept { return writes_files_; }
  /// writes_files() for a node with `args`: with a writer_arg(), only when the node gives it.
  [[nodiscard]] bool writes_files(const Value::Map& args) const {
    return writes_files_ && (writer_arg_.empty() || gives_writer_arg(args));
  }
  /// The argument that makes a node of this op a writer (empty: every node is one when
  /// writes_files()). `shell` is a writer only where a node declares its `outputs`: a command
  /// whose files are named can be cached by them, one whose effects are unknown cannot.
  [[nodiscard]] const std::string& writer_arg() const noexcept { return writer_arg_; }
  /// Takes any number of inputs (none too): its function has one input parameter, a list,
  /// that receives them in order. inputs() then names that list's type.
  [[nodiscard]] bool takes_any_inputs() const noexcept { return any_inputs_; }
  /// Takes one or more inputs, keyed by where they come from (`write_json`): its function has
  /// one input parameter, of type "any", that receives one input as it is and several as one map
  /// input name -> value. A pipeline names them by node id, and builds that map itself before
  /// call() (which takes one input): a function cannot know its inputs' names.
  [[nodiscard]] bool has_keyed_inputs() const noexcept { return keyed_inputs_; }
  /// The op's own check of a node's arguments and inputs before a run (null: none), for what
  /// types cannot say (`shell`: a placeholder with nothing to stand for, an output outside the
  /// pipeline's directory). A pipeline loader reports its problem at the argument, as a
  /// validation error.
  using NodeCheck = std::optional<NodeProblem> (*)(const OpContext& context, const Value::Map& args,
                                                   NodeShape shape);
  [[nodiscard]] NodeCheck node_check() const noexcept { return node_check_; }
  /// A writer whose files' bytes are kept in the cache to restore them (default); false for
  /// outputs cheaper to write again than to keep twice (images).
  [[nodiscard]] bool keeps_file_bytes() const noexcept { return keeps_file_bytes_; }
  /// Mostly waits (for files, a command, the network) rather than computes: a pipeline runs its
  /// nodes as I/O tasks (TaskOptions::io, on the Executor's I/O threads, holding no core) unless
  /// a node says `io: false`. The built-in ops that read or write files or run commands are.
  [[nodiscard]] bool io() const noexcept { return io_; }
  /// As the `reduce:` of a map node, combines partial results exactly in any order (merge_counts:
  /// integer counts): the pipeline lets dagflow::map_reduce merge a streamed file's blocks into
  /// one running total (ChunkOptions::any_order). Not for floating-point sums.
  [[nodiscard]] bool any_order() const noexcept { return any_order_; }

  /// How a node of this op reads its file in pieces instead (read_lines, read_chunks): a pipeline
  /// whose node's readers are all maps (`map:`) adds this source in place of calling the op, so
  /// the file streams through them in bounded memory (see dagflow::read_lines). Given the node's
  /// arguments as the op takes them. Null for other ops.
  using StreamSource = Delayed<TextSource> (*)(Graph& g, const OpContext& context,
                                               const Value::Map& args);
  [[nodiscard]] StreamSource stream_source() const noexcept { return stream_source_; }

  /// The op over a whole typed array at once (see Value::int_array), for a one-input op whose
  /// element-wise calls it matches: the results as a typed array, element i what the op gives
  /// for element i of `array`. Throws ItemError naming the first element that failed. A map node
  /// whose list comes as a typed array calls this instead of the op per element. Null for most
  /// ops.
  using ArrayMap = Value (*)(const Value& array, const Value::Map& args);
  [[nodiscard]] ArrayMap array_map() const noexcept { return array_map_; }
  OpInfo& set_array_map(ArrayMap map) noexcept {
    array_map_ = map;
    return *this;
  }

  OpInfo& set_stream_source(StreamSource source) noexcept {
    stream_source_ = source;
    return *this;
  }
  OpInfo& set_version(std::uint32_t version) noexcept {
    version_ = version;
    return *this;
  }
  OpInfo& set_probe(bool probe = true) noexcept {
    probe_ = probe;
    return *this;
  }
  OpInfo& set_runs_commands(bool runs = true) noexcept {
    runs_commands_ = runs;
    return *this;
  }
  OpInfo& set_side_effects(bool effects = true) noexcept {
    side_effects_ = effects;
    return *this;
  }
  OpInfo& set_io(bool io = true) noexcept {
    io_ = io;
    return *this;
  }
  OpInfo& set_any_order(bool any = true) noexcept {
    any_order_ = any;
    return *this;
  }
  /// Makes nodes that give the argument `arg` (not null) writers that keep no bytes of their
  /// files, and only those (see writer_arg).
  OpInfo& set_writer_arg(std::string arg) {
    writer_arg_ = std::move(arg);
    return set_writes_files(/*keep_bytes=*/false);
  }
  /// Makes the op take any number of inputs (see takes_any_inputs); std::invalid_argument unless
  /// its function takes exactly one input, a list.
  OpInfo& set_takes_any_inputs();
  /// Makes the op take keyed inputs (see has_keyed_inputs); std::invalid_argument unless its
  /// function takes exactly one input, of type "any" (a dagflow::Value).
  OpInfo& set_keyed_inputs();
  OpInfo& set_node_check(NodeCheck check) noexcept {
    node_check_ = check;
    return *this;
  }
  /// Makes the op a writer (see writes_files), keeping its files' bytes in the cache or not.
  OpInfo& set_writes_files(bool keep_bytes = true) noexcept {
    writes_files_ = true;
    keeps_file_bytes_ = keep_bytes;
    return *this;
  }

  /// Calls the function: `inputs` in order (as one list for takes_any_inputs()), then each argument
  /// of args() looked up by name in `args` (its default when absent). Throws ValueError for an
  /// input or argument of the wrong type, std::invalid_argument for a wrong input count or a
  /// missing required argument, and whatever the function throws.
  Value call(const OpContext& context, std::span<const Value* const> inputs,
             const Value::Map& args) const;

 private:
  friend class OpRegistry;
  using Invoke = Value (*)(const void* fn, const OpContext& context,
                           std::span<const Value* const> inputs,
                           std::span<const Value* const> args);

  Value call_with(const OpContext& context, std::span<const Value* const> inputs,
                  const Value::Map& args) const;
  [[nodiscard]] bool gives_writer_arg(const Value::Map& args) const {
    if (writer_arg_.empty()) return false;
    const auto it = args.find(writer_arg_);
    return it != args.end() && !it->second.is_null();
  }

  std::string name_;
  std::string doc_;
  std::vector<std::string> inputs_;
  std::string result_type_;
  std::vector<ArgSpec> args_;
  std::uint32_t version_ = 0;
  bool probe_ = false;
  bool runs_commands_ = false;
  bool side_effects_ = false;
  bool writes_files_ = false;
  bool keeps_file_bytes_ = false;
  bool io_ = false;
  bool any_order_ = false;
  bool any_inputs_ = false;
  bool keyed_inputs_ = false;
  std::string writer_arg_{};
  NodeCheck node_check_ = nullptr;
  StreamSource stream_source_ = nullptr;
  ArrayMap array_map_ = nullptr;
  std::filesystem::path plugin_{};
  std::shared_ptr<const void> fn_;
  Invoke invoke_ = nullptr;
};

/// Ops by name. Copying a registry is cheap (the functions are shared).
class OpRegistry {
 public:
  /// An empty registry.
  OpRegistry() = default;
  /// A registry holding every built-in op (see `dagflow ops`).
  [[nodiscard]] static OpRegistry builtins();

  /// Registers `fn` as the op `name` (letters, digits, '_' and '.'; not yet registered — else
  /// std::invalid_argument, as for argument names that repeat or do not match the function's
  /// parameter count). Returns the op, to set its version or flags.
  template <class F>
  OpInfo& add(std::string name, F fn, std::string doc, std::vector<ArgSpec> args = {});

  /// Loads the op plugin `path` (a shared library made with DAGFLOW_PLUGIN, see
  /// <dagflow/plugin.hpp>; relative to the working directory) and adds the ops it registers, each
  /// with OpInfo::plugin() `path`. All or none: a plugin that registers a name this registry has
  /// adds nothing. A file this registry already loaded (the same file, by any path) adds nothing
  /// again. Throws PluginError when the file cannot be loaded, is not a dagflow plugin, was built
  /// against another dagflow version, or registers an op badly or twice.
  ///
  /// A loaded plugin stays loaded until the process ends: its ops' code lives in it, and copies
  /// of this registry may outlive this one.
  void load_plugin(const std::filesystem::path& path);
  /// The plugin files loaded into this registry, in load order, as canonical paths.
  [[nodiscard]] const std::vector<std::filesystem::path>& plugins() const noexcept {
    return plugins_;
  }

  /// The op, or null.
  [[nodiscard]] const OpInfo* find(std::string_view name) const;
  /// All ops, sorted by name.
  [[nodiscard]] const std::map<std::string, OpInfo, std::less<>>& ops() const noexcept {
    return ops_;
  }
  /// Up to three registered names close to `name` (for "did you mean").
  [[nodiscard]] std::vector<std::string> suggest(std::string_view name) const;

 private:
  OpInfo& insert(OpInfo info);
  std::map<std::string, OpInfo, std::less<>> ops_;
  std::vector<std::filesystem::path> plugins_;
};

/// A plugin could not be loaded (OpRegistry::load_plugin); what() names its file and why.
class PluginError : public Error {
 public:
  using Error::Error;
};

/// Up to `max` of `candidates` closest to `word` (by edit distance, at most about a third of
/// its length), for "did you mean" messages: only the closest ones, alphabetically.
[[nodiscard]] std::vector<std::string> nearest_names(std::string_view word,
                                                     std::span<const std::string> candidates,
                                                     std::size_t max = 3);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

template <class F>
struct Signature : Signature<decltype(&F::operator())> {};
template <class R, class... P>
struct Signature<R (*)(P...)> {
  using result = R;
  using params = std::tuple<P...>;
};
template <class R, class... P>
struct Signature<R (*)(P...) noexcept> : Signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct Signature<R (C::*)(P...) const> : Signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct Signature<R (C::*)(P...) const noexcept> : Signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct Signature<R (C::*)(P...)> : Signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct Signature<R (C::*)(P...) noexcept> : Signature<R (*)(P...)> {};

template <class Params>
struct TakesContext : std::false_type {};
template <class First, class... Rest>
struct TakesContext<std::tuple<First, Rest...>>
    : std::is_same<std::remove_cvref_t<First>, OpContext> {};

template <class F, class Params, std::size_t Offset, std::size_t... I>
Value invoke_op(const F& fn, const OpContext& context, std::span<const Value* const> values,
                std::index_sequence<I...>) {
  // One full expression each: a function that returns a reference to its argument (converted
  // into a temporary here) is read before that temporary goes.
  if constexpr (Offset == 1) {
    return to_value(
        std::invoke(fn, context, from_value<std::tuple_element_t<I + 1, Params>>(*values[I])...));
  } else {
    return to_value(std::invoke(fn, from_value<std::tuple_element_t<I, Params>>(*values[I])...));
  }
}

template <class T>
bool accepts_value(const Value& v) {
  return ValueConvert<std::remove_cvref_t<T>>::accepts(v);
}

}  // namespace detail

template <class F>
OpInfo& OpRegistry::add(std::string name, F fn, std::string doc, std::vector<ArgSpec> args) {
  using Sig = detail::Signature<std::decay_t<F>>;
  using Params = typename Sig::params;
  static constexpr std::size_t kOffset = detail::TakesContext<Params>::value ? 1 : 0;
  static constexpr std::size_t kCount = std::tuple_size_v<Params> - kOffset;
  static_assert(!std::is_void_v<typename Sig::result>,
                "OpRegistry::add: an op must return a value");
  static_assert(ValueConvertible<typename Sig::result>,
                "OpRegistry::add: the result type has no ValueConvert specialisation");
  if (args.size() > kCount) {
    throw std::invalid_argument("OpRegistry::add: op '" + name + "' names " +
                                std::to_string(args.size()) + " arguments but its function takes " +
                                std::to_string(kCount) +
                                " parameters (after an optional OpContext)");
  }
  OpInfo info;
  info.name_ = std::move(name);
  info.doc_ = std::move(doc);
  info.result_type_ = ValueConvert<std::remove_cvref_t<typename Sig::result>>::type_name();
  const std::size_t input_count = kCount - args.size();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    static_assert((ValueConvertible<std::tuple_element_t<I + kOffset, Params>> && ...),
                  "OpRegistry::add: a parameter type has no ValueConvert specialisation");
    const std::string names[] = {
        "", ValueConvert<
                std::remove_cvref_t<std::tuple_element_t<I + kOffset, Params>>>::type_name()...};
    bool (*accepts[])(const Value&) = {
        nullptr, &detail::accepts_value<std::tuple_element_t<I + kOffset, Params>>...};
    for (std::size_t i = 0; i < kCount; ++i) {
      if (i < input_count) {
        info.inputs_.push_back(names[i + 1]);
      } else {
        args[i - input_count].type = names[i + 1];
        args[i - input_count].accepts = accepts[i + 1];
      }
    }
  }
  (std::make_index_sequence<kCount>{});
  info.args_ = std::move(args);
  info.fn_ = std::make_shared<const std::decay_t<F>>(std::move(fn));
  info.invoke_ = [](const void* f, const OpContext& context, std::span<const Value* const> inputs,
                    std::span<const Value* const> arg_values) -> Value {
    const Value* values[kCount + 1] = {};  // +1: never a zero-length array
    for (std::size_t i = 0; i < inputs.size(); ++i) values[i] = inputs[i];
    for (std::size_t i = 0; i < arg_values.size(); ++i) values[inputs.size() + i] = arg_values[i];
    return detail::invoke_op<std::decay_t<F>, Params, kOffset>(
        *static_cast<const std::decay_t<F>*>(f), context, std::span<const Value* const>(values),
        std::make_index_sequence<kCount>{});
  };
  return insert(std::move(info));
}

}  // namespace dagflow
