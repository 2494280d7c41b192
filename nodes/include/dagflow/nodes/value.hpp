// Value: the dynamic value that flows between the ops of a YAML pipeline.
//
//   dagflow::Value v = dagflow::Value::Map{{"k", 3}, {"words", dagflow::Value::List{"a", "b"}}};
//   v.as_map().at("k").as_int();        // 3
//   dagflow::to_json(v);                // {"k":3,"words":["a","b"]}
//
// A Value is null, a bool, a 64-bit integer, a double, a string, a path, a list or a map with
// string keys (sorted, so JSON output and hashes do not depend on insertion order). A list of
// numbers may be held as a typed array (see "Typed arrays" below). It is
// hashable (a path hashes as the content of its file, so editing a file changes every key that
// depends on it), serialisable (the disk cache stores Values) and has a ValueSize (the memory
// cache budget). Typed C++ values convert to and from it with to_value / from_value.
// Thread-safety: a plain value type; reading one Value from several threads at once is safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <cereal/cereal.hpp>

#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/value_size.hpp>

namespace dagflow {

/// The kinds of Value. A typed array is a kList too: there is no kind of its own.
enum class ValueKind : std::uint8_t { kNull, kBool, kInt, kDouble, kString, kPath, kList, kMap };

/// "null", "bool", "int", "double", "string", "path", "list" or "map".
[[nodiscard]] std::string_view kind_name(ValueKind kind) noexcept;

/// A Value of the wrong kind for what was asked ("expected int, got string"), a number out of
/// range, or JSON that does not parse.
class ValueError : public Error {
 public:
  using Error::Error;
};

/// A file system path as a Value: `resolved` is where the file is (absolute; what is read and
/// hashed), `shown` is how it prints (as written, e.g. relative to the pipeline's directory).
struct PathValue {
  std::filesystem::path resolved;
  std::string shown;
  friend bool operator==(const PathValue& a, const PathValue& b) {
    return a.resolved == b.resolved;
  }
};

namespace detail {
struct NumberArray;
}  // namespace detail

class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value, std::less<>>;

  /// null.
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}  // NOLINT: implicit, like the other alternatives
  Value(bool b) noexcept : data_(b) {}
  /// Any integer type; throws ValueError when it does not fit in an int64_t.
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) Value(I i) : data_(checked_int(i)) {}
  Value(double d) noexcept : data_(d) {}
  Value(std::string s) noexcept : data_(std::move(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(PathValue p) noexcept : data_(std::move(p)) {}
  Value(List list) noexcept : data_(std::move(list)) {}
  Value(Map map) noexcept : data_(std::move(map)) {}

  /// A path Value; `shown` defaults to `resolved` as a string.
  [[nodiscard]] static Value path(std::filesystem::path resolved, std::string shown = {});

  // ---- Typed arrays ----
  // A list of ints or of doubles can be held as one contiguous std::vector instead of a Value
  // per element: 8 bytes an element instead of about 80. What makes one: these two functions,
  // converting a std::vector of integers (not bool) or of floating point to a Value (the result
  // of `range`, `square` and every C++ op returning such a vector), and a map whose results are
  // all ints or all doubles. A JSON or YAML list stays boxed (a Value per element).
  //
  // A typed array is a list for everything but its storage: kind() is kList, and it equals,
  // prints (to_json) and hashes exactly as the boxed list of the same numbers does, so which
  // form a result takes never changes a cache key or an output. Copies share the array.
  //
  // as_list() on a typed array makes the boxed list: the const one once per array (kept beside
  // it, thread-safe, until the last copy goes), the other by turning this Value into a boxed
  // list. Code that reads numbers should ask ints() / doubles() first.

  /// A typed array holding `ints` (moved, not copied).
  [[nodiscard]] static Value int_array(std::vector<std::int64_t> ints);
  /// A typed array holding `doubles` (moved, not copied).
  [[nodiscard]] static Value double_array(std::vector<double> doubles);
  /// The numbers of an int array; null for any other Value (a boxed list of ints included).
  [[nodiscard]] const std::vector<std::int64_t>* ints() const noexcept;
  /// The numbers of a double array; null for any other Value (a boxed list included).
  [[nodiscard]] const std::vector<double>* doubles() const noexcept;
  /// A list held as a typed array.
  [[nodiscard]] bool is_array() const noexcept {
    return std::holds_alternative<std::shared_ptr<const detail::NumberArray>>(data_);
  }
  /// The number of elements of a list in either form; throws ValueError for another kind.
  [[nodiscard]] std::size_t list_size() const;

  [[nodiscard]] ValueKind kind() const noexcept {
    return is_array() ? ValueKind::kList : static_cast<ValueKind>(data_.index());
  }
  [[nodiscard]] bool is_null() const noexcept { return kind() == ValueKind::kNull; }
  /// An int or a double.
  [[nodiscard]] bool is_number() const noexcept {
    return kind() == ValueKind::kInt || kind() == ValueKind::kDouble;
  }

  // Accessors: each throws ValueError ("expected <kind>, got <kind>") for another kind.
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] std::int64_t as_int() const;
  /// A double, or an int converted to double.
  [[nodiscard]] double as_double() const;
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const PathValue& as_path() const;
  /// A typed array is boxed first (see "Typed arrays").
  [[nodiscard]] const List& as_list() const;
  /// A typed array becomes a boxed list first (see "Typed arrays").
  [[nodiscard]] List& as_list();
  [[nodiscard]] const Map& as_map() const;
  [[nodiscard]] Map& as_map();

  /// Same kind and same contents (an int never equals a double; paths compare by `resolved`; a
  /// typed array equals the boxed list of the same numbers).
  friend bool operator==(const Value& a, const Value& b);

  // cereal: the disk cache's format (a path keeps both its forms).
  template <class Archive>
  void save(Archive& ar) const;
  template <class Archive>
  void load(Archive& ar);

 private:
  template <class I>
  static std::int64_t checked_int(I i);
  // The serialised tags of typed arrays, after ValueKind's.
  static constexpr std::uint8_t kIntArrayTag = 8;
  static constexpr std::uint8_t kDoubleArrayTag = 9;

  void save_array(auto& ar) const;
  void load_array(auto& ar, bool ints);

  // The alternatives in ValueKind's order, then the typed array (a list too).
  std::variant<std::monostate, bool, std::int64_t, double, std::string, PathValue, List, Map,
               std::shared_ptr<const detail::NumberArray>>
      data_;
};

namespace detail {

/// The storage of a typed array: its numbers, and the boxed list made from them when asked
/// (Value::as_list).
struct NumberArray {
  std::variant<std::vector<std::int64_t>, std::vector<double>> numbers;
  mutable std::once_flag boxed_once{};
  mutable Value::List boxed{};

  [[nodiscard]] std::size_t size() const noexcept {
    const auto* ints = std::get_if<std::vector<std::int64_t>>(&numbers);
    return ints != nullptr ? ints->size() : std::get_if<std::vector<double>>(&numbers)->size();
  }
  /// The boxed list (made on the first call).
  [[nodiscard]] const Value::List& box() const;
};

}  // namespace detail

// ---- JSON -----------------------------------------------------------------------------------

/// How to_json lays out its output.
enum class JsonStyle : std::uint8_t { kCompact, kPretty };

/// The Value as JSON (UTF-8; non-ASCII bytes are written as they are, control characters
/// escaped). A path prints as its `shown` string; a double always prints so that it reads back
/// as a double (1.0, not 1); NaN and infinities, which JSON cannot express, print as null.
[[nodiscard]] std::string to_json(const Value& value, JsonStyle style = JsonStyle::kCompact);

/// Parses one JSON text (RFC 8259; integers that fit become int, other numbers double).
/// Throws ValueError "json:LINE:COL: what is wrong". Nesting is limited to 256 levels.
[[nodiscard]] Value from_json(std::string_view text);

// ---- Conversions to and from C++ types --------------------------------------------------------

/// How a C++ type converts to and from Value: specialised for Value, bool, the integer types,
/// double, std::string, std::filesystem::path, std::vector<T> and std::map<std::string, T>
/// (T itself convertible). Specialise it to pass your own types between ops.
///   static <T or const T&> from(const Value&);  // throws ValueError with the reason
///   static Value to(T);                          // (to a Value)
///   static bool accepts(const Value&);           // would `from` succeed (checked before a run)
///   static std::string type_name();              // "int", "list of string"... for messages
template <class T>
struct ValueConvert;

/// True for the types ValueConvert knows.
template <class T>
concept ValueConvertible = requires(const Value& v) {
  ValueConvert<std::remove_cvref_t<T>>::from(v);
  { ValueConvert<std::remove_cvref_t<T>>::type_name() } -> std::convertible_to<std::string>;
};

/// `v` as a T (a reference into `v` for Value and std::string). Throws ValueError.
template <class T>
[[nodiscard]] decltype(auto) from_value(const Value& v) {
  return ValueConvert<std::remove_cvref_t<T>>::from(v);
}

/// `x` as a Value.
template <class T>
[[nodiscard]] Value to_value(T&& x) {
  return ValueConvert<std::remove_cvref_t<T>>::to(std::forward<T>(x));
}

// ---- Hashing and sizing ---------------------------------------------------------------------

template <>
struct Hash<Value> {
  /// The kind, then the contents; a path adds its file's bytes (as dagflow::File does), not
  /// its name.
  static void add(Hasher& h, const Value& v);
};

template <>
struct ValueSize<Value> {
  /// Bytes held, counting nested lists, maps and strings.
  static std::size_t bytes(const Value& v);
};

// ---- Mapping -----------------------------------------------------------------------------------

template <class C>
struct ListAdapter;  // dagflow/engine/chunking.hpp

/// dagflow::map and dagflow::reduce over a list Value (or a Delayed<Value>): its items are read in
/// place, and map's results (Values) make a list Value.
template <>
struct ListAdapter<Value> {
  using item = Value;
  /// The list's items (a typed array's boxed, see Value::as_list); throws ValueError ("a map
  /// needs a list, got int") for another kind.
  static const Value::List& items(const Value& list);
  /// A typed array when every result is an int or every one a double, else the boxed list.
  static Value from_results(Value::List&& results);
};

// ---- implementation -------------------------------------------------------------------------

template <class I>
std::int64_t Value::checked_int(I i) {
  if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
    if (i > static_cast<I>(std::numeric_limits<std::int64_t>::max())) {
      throw ValueError("integer " + std::to_string(i) + " does not fit in a 64-bit signed int");
    }
  }
  return static_cast<std::int64_t>(i);
}

// A typed array is stored as the tag 8 (ints) or 9 (doubles), its length and its raw
// little-endian bytes (the disk cache is written and read on one kind of machine).
template <class Archive>
void Value::save(Archive& ar) const {
  if (is_array()) {
    save_array(ar);
    return;
  }
  const auto k = static_cast<std::uint8_t>(kind());
  ar(k);
  switch (kind()) {
    case ValueKind::kNull:
      break;
    case ValueKind::kBool:
      ar(std::get<bool>(data_));
      break;
    case ValueKind::kInt:
      ar(std::get<std::int64_t>(data_));
      break;
    case ValueKind::kDouble:
      ar(std::get<double>(data_));
      break;
    case ValueKind::kString:
      ar(std::get<std::string>(data_));
      break;
    case ValueKind::kPath: {
      const PathValue& p = std::get<PathValue>(data_);
      ar(p.resolved.string(), p.shown);
      break;
    }
    case ValueKind::kList: {
      const List& list = std::get<List>(data_);
      ar(static_cast<std::uint64_t>(list.size()));
      for (const Value& x : list) x.save(ar);
      break;
    }
    case ValueKind::kMap: {
      const Map& map = std::get<Map>(data_);
      ar(static_cast<std::uint64_t>(map.size()));
      for (const auto& [key, x] : map) {
        ar(key);
        x.save(ar);
      }
      break;
    }
  }
}

template <class Archive>
void Value::load(Archive& ar) {
  std::uint8_t k = 0;
  ar(k);
  switch (static_cast<ValueKind>(k)) {
    case ValueKind::kNull:
      data_ = std::monostate{};
      break;
    case ValueKind::kBool: {
      bool b = false;
      ar(b);
      data_ = b;
      break;
    }
    case ValueKind::kInt: {
      std::int64_t i = 0;
      ar(i);
      data_ = i;
      break;
    }
    case ValueKind::kDouble: {
      double d = 0;
      ar(d);
      data_ = d;
      break;
    }
    case ValueKind::kString: {
      std::string s;
      ar(s);
      data_ = std::move(s);
      break;
    }
    case ValueKind::kPath: {
      std::string resolved;
      std::string shown;
      ar(resolved, shown);
      data_ = PathValue{resolved, std::move(shown)};
      break;
    }
    case ValueKind::kList: {
      std::uint64_t n = 0;
      ar(n);
      List list;
      // A damaged entry must not make us reserve its claimed size: grow as items arrive.
      for (std::uint64_t i = 0; i < n; ++i) list.emplace_back().load(ar);
      data_ = std::move(list);
      break;
    }
    case ValueKind::kMap: {
      std::uint64_t n = 0;
      ar(n);
      Map map;
      for (std::uint64_t i = 0; i < n; ++i) {
        std::string key;
        ar(key);
        map[std::move(key)].load(ar);
      }
      data_ = std::move(map);
      break;
    }
    default:
      if (k == kIntArrayTag || k == kDoubleArrayTag) {
        load_array(ar, k == kIntArrayTag);
        break;
      }
      throw ValueError("stored value has an unknown kind " + std::to_string(k));
  }
}

void Value::save_array(auto& ar) const {
  const auto& array = std::get<std::shared_ptr<const detail::NumberArray>>(data_);
  std::visit(
      [&](const auto& numbers) {
        using T = typename std::decay_t<decltype(numbers)>::value_type;
        const std::uint8_t tag = std::is_same_v<T, double> ? kDoubleArrayTag : kIntArrayTag;
        ar(tag, static_cast<std::uint64_t>(numbers.size()));
        ar(cereal::binary_data(numbers.data(), numbers.size() * sizeof(T)));
      },
      array->numbers);
}

void Value::load_array(auto& ar, bool ints) {
  std::uint64_t n = 0;
  ar(n);
  const auto read = [&](auto numbers) {
    using T = typename decltype(numbers)::value_type;
    // A damaged entry must not make us reserve its claimed size: read a block at a time.
    constexpr std::uint64_t kBlock = 1 << 16;
    for (std::uint64_t done = 0; done < n;) {
      const std::uint64_t k = std::min(kBlock, n - done);
      numbers.resize(static_cast<std::size_t>(done + k));
      ar(cereal::binary_data(numbers.data() + done, static_cast<std::size_t>(k) * sizeof(T)));
      done += k;
    }
    return numbers;
  };
  *this = ints ? int_array(read(std::vector<std::int64_t>{}))
               : double_array(read(std::vector<double>{}));
}

}  // namespace dagflow

#include <dagflow/nodes/detail/value_convert.hpp>
