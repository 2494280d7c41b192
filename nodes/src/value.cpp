#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
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

// A typed array's hash: the bytes the boxed list of its numbers feeds (the length, then each
// element's kind tag and value, doubles normalised as Hash<double> does), gathered into blocks
// so that the hasher is called once per block rather than twice per element.
void add_array(Hasher& h, const Value& v) {
  detail::add_length(h, v.list_size());
  const auto feed = [&h](const auto& numbers, ValueKind kind) {
    constexpr std::size_t kElement = 1 + sizeof(std::int64_t);
    constexpr std::size_t kPerBlock = 512;
    std::array<unsigned char, kPerBlock * kElement> block{};
    std::size_t used = 0;
    for (auto x : numbers) {
      if constexpr (std::is_same_v<decltype(x), double>) {
        if (x == 0) x = 0;                                         // -0.0 as 0.0
        if (x != x) x = std::numeric_limits<double>::quiet_NaN();  // every NaN as one
      }
      block[used] = static_cast<unsigned char>(kind);
      std::memcpy(block.data() + used + 1, &x, sizeof x);
      used += kElement;
      if (used == block.size()) {
        h.update(block.data(), used);
        used = 0;
      }
    }
    h.update(block.data(), used);
  };
  if (const auto* ints = v.ints()) feed(*ints, ValueKind::kInt);
  if (const auto* doubles = v.doubles()) feed(*doubles, ValueKind::kDouble);
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
      if (v.is_array()) return sizeof(detail::NumberArray) + v.list_size() * sizeof(double);
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

using ArrayPtr = std::shared_ptr<const detail::NumberArray>;

namespace {

// A new typed array holding `numbers` (a vector of either kind, moved in).
template <class Numbers>
ArrayPtr make_array(Numbers&& numbers) {
  auto array = std::make_shared<detail::NumberArray>();
  array->numbers = std::forward<Numbers>(numbers);
  return array;
}

}  // namespace

Value Value::int_array(std::vector<std::int64_t> ints) {
  Value v;
  v.data_ = make_array(std::move(ints));
  return v;
}

Value Value::double_array(std::vector<double> doubles) {
  Value v;
  v.data_ = make_array(std::move(doubles));
  return v;
}

const std::vector<std::int64_t>* Value::ints() const noexcept {
  const ArrayPtr* array = std::get_if<ArrayPtr>(&data_);
  return array != nullptr ? std::get_if<std::vector<std::int64_t>>(&(*array)->numbers) : nullptr;
}

const std::vector<double>* Value::doubles() const noexcept {
  const ArrayPtr* array = std::get_if<ArrayPtr>(&data_);
  return array != nullptr ? std::get_if<std::vector<double>>(&(*array)->numbers) : nullptr;
}

std::size_t Value::list_size() const {
  if (const ArrayPtr* array = std::get_if<ArrayPtr>(&data_)) return (*array)->size();
  return as_list().size();
}

const Value::List& Value::as_list() const {
  if (const List* list = std::get_if<List>(&data_)) return *list;
  if (const ArrayPtr* array = std::get_if<ArrayPtr>(&data_)) return (*array)->box();
  throw_wrong_kind(ValueKind::kList, kind());
}

Value::List& Value::as_list() {
  if (const ArrayPtr* array = std::get_if<ArrayPtr>(&data_)) {
    List boxed = (*array)->box();  // a copy: other Values may share the array
    data_ = std::move(boxed);
  }
  if (List* list = std::get_if<List>(&data_)) return *list;
  throw_wrong_kind(ValueKind::kList, kind());
}

const Value::List& detail::NumberArray::box() const {
  std::call_once(boxed_once, [this] {
    std::visit(
        [this](const auto& xs) {
          boxed.reserve(xs.size());
          for (const auto x : xs) boxed.emplace_back(x);
        },
        numbers);
  });
  return boxed;
}

namespace {

// Element i of a list in either form, compared with a boxed element: same kind, same value.
bool same_element(const Value& list, std::size_t i, const Value& boxed) {
  if (const auto* ints = list.ints()) {
    return boxed.kind() == ValueKind::kInt && boxed.as_int() == (*ints)[i];
  }
  if (const auto* doubles = list.doubles()) {
    return boxed.kind() == ValueKind::kDouble && boxed.as_double() == (*doubles)[i];
  }
  return list.as_list()[i] == boxed;
}

bool equal_lists(const Value& a, const Value& b) {
  if (a.list_size() != b.list_size()) return false;
  if (a.ints() != nullptr && b.ints() != nullptr) return *a.ints() == *b.ints();
  if (a.doubles() != nullptr && b.doubles() != nullptr) return *a.doubles() == *b.doubles();
  if (a.is_array() && b.is_array()) return a.list_size() == 0;  // ints never equal doubles
  const Value& array = a.is_array() ? a : b;
  const Value::List& boxed = (a.is_array() ? b : a).as_list();
  for (std::size_t i = 0; i < boxed.size(); ++i) {
    if (!same_element(array, i, boxed[i])) return false;
  }
  return true;
}

}  // namespace

bool operator==(const Value& a, const Value& b) {
  if (a.is_array() || b.is_array()) {
    return a.kind() == b.kind() && equal_lists(a, b);
  }
  return a.data_ == b.data_;
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
      if (v.is_array()) {
        add_array(h, v);
        break;
      }
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

Value ListAdapter<Value>::from_results(Value::List&& results) {
  const auto all = [&](ValueKind kind) {
    return !results.empty() && std::all_of(results.begin(), results.end(),
                                           [kind](const Value& x) { return x.kind() == kind; });
  };
  if (all(ValueKind::kInt)) {
    std::vector<std::int64_t> ints;
    ints.reserve(results.size());
    for (const Value& x : results) ints.push_back(x.as_int());
    return Value::int_array(std::move(ints));
  }
  if (all(ValueKind::kDouble)) {
    std::vector<double> doubles;
    doubles.reserve(results.size());
    for (const Value& x : results) doubles.push_back(x.as_double());
    return Value::double_array(std::move(doubles));
  }
  return Value(std::move(results));
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
