// OpIdentity: which callable a dagflow::op stands for, so that one name and version cannot be
// given to two different functions in one process. Not API.
#pragma once

#include <cstdint>
#include <type_traits>

namespace dagflow::detail {

/// What makes two callables "the same op": the same callable type, and for function pointers
/// the same function.
struct OpIdentity {
  const void* type;         // one address per callable type
  std::uintptr_t function;  // the function's address, or 0 for other callables
  friend bool operator==(const OpIdentity&, const OpIdentity&) = default;
};

template <class F>
inline constexpr char kTypeTag = 0;

/// The identity of `fn`, a decayed callable.
template <class F>
OpIdentity identity_of(const F& fn) {
  if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
    return {&kTypeTag<F>, reinterpret_cast<std::uintptr_t>(fn)};
  } else {
    return {&kTypeTag<F>, 0};
  }
}

}  // namespace dagflow::detail
