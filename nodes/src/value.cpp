#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <dagflow/engine/file.hpp>
#include <dagflow/nodes/value.hpp>
#include <dagflow/util/json_text.hpp>

namespace dagflow {

namespace {

// A ValueError whose reason is the Value's kind, so that a container around it can say which
// element had which kind ("got list with a string at [3]").
class WrongKindError : public ValueError {
 public:
  WrongKindError(const std::string& message, ValueKind got) : ValueError(message), got_(got) {}
  [[nodiscard]] ValueKind got() const noexcept { return got_; }

 private:
  ValueKind got_;
};

// A ValueError about an element of a container: where the element is ("[3][\"k\"]"), and either
// its wrong kind or the element's own message.
class ElementError : public ValueError {
 public:
  ElementError(const std::string& message, std::string location, std::optional<ValueKind> got_kind,
               std::string reason)
      : ValueError(message),
        location_(std::move(location)),
        got_kind_(got_kind),
        reason_(std::move(reason)) {}
  [[nodiscard]] const std::string& location() const noexcept { return location_; }
  [[nodiscard]] std::optional<ValueKind> got_kind() const noexcept { return got_kind_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string location_;
  std::optional<ValueKind> got_kind_;
  std::string reason_;
};

std::string_view article(ValueKind kind) { return kind == ValueKind::kInt ? "an" : "a"; }

[[noreturn]] void throw_wrong_kind(ValueKind expected, ValueKind got) {
  throw WrongKindError(fmt::format("expected {}, got {}", kind_name(expected), kind_name(got)),
                       got);
}

// The tag that starts a Value's hash, so that different kinds with equal bytes differ.
void add_kind(Hasher& h, ValueKind kind) {
  const auto tag = static_cast<std::uint8_t>(kind);
  h.update(&tag, 1);
}

// Heap bytes a Value owns beyond its own sizeof.
std::size_t heap_bytes(const Value& v) {
  // A rough allocation cost of one std::map node: the value plus the tree links and the
  // allocator's bookkeeping.
  constexpr std::size_t kMapNodeOverhead = 32;
  switch (v.kind()) {
    case ValueKind::kString:
      return v.as_string().capacity();
    case ValueKind::kPath:
      return v.as_path().resolved.native().capacity() + v.as_path().shown.capacity();
    case ValueKind::kList: {
      const Value::List& list = v.as_list();
      std::size_t total = list.capacity() * sizeof(Value);
      for (const Value& x : list) total += heap_bytes(x);
      return total;
    }
    case ValueKind::kMap: {
      std::size_t total = 0;
      for (const auto& [key, x] : v.as_map()) {
        total += sizeof(Value::Map::value_type) + kMapNodeOverhead + key.capacity() + heap_bytes(x);
      }
      return total;
    }
    default:
      return 0;
  }
}

}  // namespace

std::string_view kind_name(ValueKind kind) noexcept {
  switch (kind) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kString:
      return "string";
    case ValueKind::kPath:
      return "path";
    case ValueKind::kList:
      return "list";
    case ValueKind::kMap:
      return "map";
  }
  return "unknown";
}

Value Value::path(std::filesystem::path resolved, std::string shown) {
  if (shown.empty()) shown = resolved.string();
  return Value(PathValue{std::move(resolved), std::move(shown)});
}

bool Value::as_bool() const {
  if (const bool* b = std::get_if<bool>(&data_)) return *b;
  throw_wrong_kind(ValueKind::kBool, kind());
}

std::int64_t Value::as_int() const {
  if (const std::int64_t* i = std::get_if<std::int64_t>(&data_)) return *i;
  throw_wrong_kind(ValueKind::kInt, kind());
}

double Value::as_double() const {
  if (const double* d = std::get_if<double>(&data_)) return *d;
  if (const std::int64_t* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  throw_wrong_kind(ValueKind::kDouble, kind());
}

const std::string& Value::as_string() const {
  if (const std::string* s = std::get_if<std::string>(&data_)) return *s;
  throw_wrong_kind(ValueKind::kString, kind());
}

const PathValue& Value::as_path() const {
  if (const PathValue* p = std::get_if<PathValue>(&data_)) return *p;
  throw_wrong_kind(ValueKind::kPath, kind());
}

const Value::List& Value::as_list() const {
  if (const List* list = std::get_if<List>(&data_)) return *list;
  throw_wrong_kind(ValueKind::kList, kind());
}

Value::List& Value::as_list() {
  if (List* list = std::get_if<List>(&data_)) return *list;
  throw_wrong_kind(ValueKind::kList, kind());
}

const Value::Map& Value::as_map() const {
  if (const Map* map = std::get_if<Map>(&data_)) return *map;
  throw_wrong_kind(ValueKind::kMap, kind());
}

Value::Map& Value::as_map() {
  if (Map* map = std::get_if<Map>(&data_)) return *map;
  throw_wrong_kind(ValueKind::kMap, kind());
}

void Hash<Value>::add(Hasher& h, const Value& v) {
  add_kind(h, v.kind());
  switch (v.kind()) {
    case ValueKind::kNull:
      break;
    case ValueKind::kBool:
      h.add(v.as_bool());
      break;
    case ValueKind::kInt:
      h.add(v.as_int());
      break;
    case ValueKind::kDouble:
      h.add(v.as_double());
      break;
    case ValueKind::kString:
      h.add(v.as_string());
      break;
    // Only the content: the same file reached by another name is the same input, and an
    // edited file is a new one.
    case ValueKind::kPath:
      h.add(File{v.as_path().resolved});
      break;
    case ValueKind::kList: {
      const Value::List& list = v.as_list();
      detail::add_length(h, list.size());
      for (const Value& x : list) add(h, x);
      break;
    }
    case ValueKind::kMap: {
      const Value::Map& map = v.as_map();
      detail::add_length(h, map.size());
      for (const auto& [key, x] : map) {
        h.add(key);
        add(h, x);
      }
      break;
    }
  }
}

std::size_t ValueSize<Value>::bytes(const Value& v) { return sizeof(Value) + heap_bytes(v); }

const Value::List& ListAdapter<Value>::items(const Value& list) {
  if (list.kind() != ValueKind::kList) {
    throw ValueError(fmt::format("a map needs a list, got {}", kind_name(list.kind())));
  }
  return list.as_list();
}

namespace detail {

void throw_wrong_kind(std::string_view expected, const Value& got) {
  throw WrongKindError(fmt::format("expected {}, got {}", expected, kind_name(got.kind())),
                       got.kind());
}

void throw_out_of_range(const Value& got, std::string_view type) {
  if (got.kind() == ValueKind::kInt) {
    throw ValueError(fmt::format("value {} out of range for {}", got.as_int(), type));
  }
  throw ValueError(fmt::format("value {} out of range for {}", got.as_double(), type));
}

void throw_wrong_pair_size(std::string_view expected, std::size_t size) {
  throw ValueError(
      fmt::format("expected {}, got a list of {} item{}", expected, size, size == 1 ? "" : "s"));
}

void rethrow_element_error(std::string_view expected, ValueKind container, std::string location) {
  std::optional<ValueKind> got_kind;
  std::string reason;
  try {
    throw;
  } catch (const ElementError& e) {
    location += e.location();
    got_kind = e.got_kind();
    reason = e.reason();
  } catch (const WrongKindError& e) {
    got_kind = e.got();
    reason = e.what();
  } catch (const ValueError& e) {
    reason = e.what();
  }
  const std::string message =
      got_kind ? fmt::format("expected {}, got {} with {} {} at {}", expected, kind_name(container),
                             article(*got_kind), kind_name(*got_kind), location)
               : fmt::format("expected {}: at {}: {}", expected, location, reason);
  throw ElementError(message, std::move(location), got_kind, std::move(reason));
}

std::string list_location(std::size_t index) { return fmt::format("[{}]", index); }

std::string map_location(std::string_view key) {
  std::string out = "[";
  util::append_json_string(out, key);
  out += ']';
  return out;
}

}  // namespace detail

}  // namespace dagflow
