// Values to bytes and back (cereal binary archives), for the persistent cache. Your own types
// persist when they have a cereal serialize() (or save()/load()) and a default constructor, and
// are then also Hashable, as their bytes, unless they have a Hash of their own.
// Thread-safety: nothing here keeps state; call it from any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <istream>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <dagflow/graph/detail/type_traits.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/hashing.hpp>

namespace dagflow {

namespace detail {
template <class T>
struct CerealBinary;
template <class T>
using IsSerializable = ForAllElements<CerealBinary, T>;
}  // namespace detail

/// True when values of T can be saved to bytes and loaded back: arithmetic types, std::string,
/// the standard containers, pairs, tuples and optionals of such, and class types with cereal
/// serialisation and a default constructor.
template <class T>
concept Serializable = detail::IsSerializable<std::remove_cvref_t<T>>::value;

/// The bytes of `value` (cereal binary archive). O(size of the value).
template <Serializable T>
[[nodiscard]] std::string to_bytes(const T& value);

/// The value saved in `bytes` by to_bytes<T>. Throws dagflow::Error when the bytes are short,
/// malformed, or longer than the value they hold. O(bytes).
template <Serializable T>
[[nodiscard]] T from_bytes(std::string_view bytes);

/// A fingerprint of T, stored beside serialised values so that bytes are never loaded as the
/// wrong type: equal for the same type within one build of a program (it hashes the compiler's
/// name for the type), different for different types.
template <class T>
[[nodiscard]] std::uint64_t type_fingerprint();

// ---- implementation -----------------------------------------------------------------------------

namespace detail {

// Whether cereal can save and load one (non-container) type into a binary archive; containers
// are looked through by ForAllElements (cereal's own traits say "yes" for std::vector<X> even
// when X cannot be saved, and the archive then fails with a hard static_assert).
template <class T>
struct CerealBinary
    : std::bool_constant<
          cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value &&
          cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value &&
          std::is_default_constructible_v<T>> {};

// Reads from bytes in place (no copy into a stringstream).
class ByteViewBuffer : public std::streambuf {
 public:
  explicit ByteViewBuffer(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // only read: the get area is never written
    setg(begin, begin, begin + bytes.size());
  }
  [[nodiscard]] std::size_t unread() const noexcept {
    return static_cast<std::size_t>(egptr() - gptr());
  }
};

// Appends to a std::string, growing it geometrically, a whole write at a time: a stringstream
// grows its buffer one overflow at a time and copies it again when it hands it over, which made
// saving a 256 MB vector take seconds. Keeps a little spare room for whoever appends a trailer.
class StringSink : public std::streambuf {
 public:
  explicit StringSink(std::string& out) : out_(out) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto count = static_cast<std::size_t>(n);
    if (out_.capacity() < out_.size() + count) {
      out_.reserve(std::max(out_.capacity() * 2, out_.size() + count + kSpare));
    }
    out_.append(s, count);
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }

 private:
  static constexpr std::size_t kSpare = 64;
  std::string& out_;
};

// Types that already have a Hash of their own (the std ones hashing.hpp covers).
template <class T>
struct HasBuiltinHash : std::false_type {};
template <class T, class A>
struct HasBuiltinHash<std::vector<T, A>> : std::true_type {};
template <class T, std::size_t N>
struct HasBuiltinHash<std::array<T, N>> : std::true_type {};
template <class K, class V, class C, class A>
struct HasBuiltinHash<std::map<K, V, C, A>> : std::true_type {};
template <class A, class B>
struct HasBuiltinHash<std::pair<A, B>> : std::true_type {};
template <class... Ts>
struct HasBuiltinHash<std::tuple<Ts...>> : std::true_type {};
template <class T>
struct HasBuiltinHash<std::optional<T>> : std::true_type {};
template <class C, class Tr, class A>
struct HasBuiltinHash<std::basic_string<C, Tr, A>> : std::true_type {};

}  // namespace detail

template <Serializable T>
std::string to_bytes(const T& value) {
  std::string bytes;
  detail::StringSink sink(bytes);
  std::ostream out(&sink);
  {
    cereal::BinaryOutputArchive archive(out);
    archive(value);
  }
  return bytes;
}

template <Serializable T>
T from_bytes(std::string_view bytes) {
  detail::ByteViewBuffer buffer(bytes);
  std::istream in(&buffer);
  T value{};
  try {
    cereal::BinaryInputArchive archive(in);
    archive(value);
  } catch (const cereal::Exception& e) {
    throw Error(std::string("malformed serialised value: ") + e.what());
  }
  if (buffer.unread() != 0) throw Error("malformed serialised value: trailing bytes");
  return value;
}

// Any other class type with cereal serialisation hashes as its serialised bytes, so user types
// with serialize() work as literal arguments of keyed tasks with no extra code. (A Hash
// specialisation of your own takes precedence.)
template <class T>
struct Hash<T, std::enable_if_t<std::is_class_v<T> && !detail::HasBuiltinHash<T>::value &&
                                detail::IsSerializable<T>::value>> {
  static void add(Hasher& h, const T& value) {
    const std::string bytes = to_bytes(value);
    h.add(std::string_view(bytes));
  }
};

template <class T>
std::uint64_t type_fingerprint() {
  static const std::uint64_t fingerprint = [] {
    const std::string_view name = typeid(T).name();
    return hash64_bytes(name.data(), name.size());
  }();
  return fingerprint;
}

}  // namespace dagflow
