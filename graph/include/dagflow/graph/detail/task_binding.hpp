// How Graph::delayed stores a callable and its arguments, and how a run calls it. Not API.
//
// Each argument is bound once, at build time, to one of three forms: a literal (kept by value in
// the task's payload), one dependency, or a list of dependencies (from std::vector<Delayed<U>>).
// At run time a dependency is passed as `const U&` (shared, no copy) or, to a by-value parameter,
// as a `U` that is moved out of the producer's slot when this reader is its last holder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <dagflow/graph/detail/graph_state.hpp>
#include <dagflow/graph/detail/type_traits.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/serialization.hpp>
#include <dagflow/graph/value_size.hpp>

namespace dagflow {
template <class T>
class Delayed;
template <class F>
class Op;
}  // namespace dagflow

namespace dagflow::detail {

// ---- what the callable's parameters are, when that can be known --------------------------------

struct UnknownParam {};  // generic lambdas and overloaded functors: pass dependencies by const&

template <class Sig>
struct FunctionParams {
  using type = void;
};
template <class R, class... A>
struct FunctionParams<R(A...)> {
  using type = std::tuple<A...>;
};
template <class R, class... A>
struct FunctionParams<R(A...) noexcept> {
  using type = std::tuple<A...>;
};

template <class M>
struct MemberParams {
  using type = void;
};
template <class R, class C, class... A>
struct MemberParams<R (C::*)(A...) const> {
  using type = std::tuple<A...>;
};
template <class R, class C, class... A>
struct MemberParams<R (C::*)(A...) const noexcept> {
  using type = std::tuple<A...>;
};

template <class F>
struct CallableParams {
  using type = void;
};
template <class F>
requires std::is_function_v<std::remove_pointer_t<F>>
struct CallableParams<F> : FunctionParams<std::remove_pointer_t<F>> {
};
template <class F>
requires requires { &F::operator(); }
struct CallableParams<F> : MemberParams<decltype(&F::operator())> {};

template <class Params, std::size_t I>
struct ParamAt {
  using type = UnknownParam;  // the signature is not known
};
template <class... A, std::size_t I>
struct ParamAt<std::tuple<A...>, I> {
  using type =
      typename std::conditional_t<(I < sizeof...(A)), std::tuple_element<I, std::tuple<A...>>,
                                  std::type_identity<UnknownParam>>::type;
};

template <class F, std::size_t I>
using param_t = typename ParamAt<typename CallableParams<F>::type, I>::type;

template <class P>
inline constexpr bool takes_by_value = !std::is_same_v<P, UnknownParam> && !std::is_reference_v<P>;

// ---- the three bound forms of an argument ------------------------------------------------------

template <class L>
struct LiteralArg {
  L value;
};
template <class U>
struct DependencyArg {
  std::uint32_t edge;  // index into the node's edges
};
template <class U>
struct DependencyListArg {
  std::uint32_t edge_begin;
  std::uint32_t count;
};

template <class A>
struct BindForm {
  using type = LiteralArg<A>;
};
template <class U>
struct BindForm<Delayed<U>> {
  using type = DependencyArg<U>;
};
template <class U>
struct BindForm<std::vector<Delayed<U>>> {
  using type = DependencyListArg<U>;
};
// A string literal (or any C string) is copied into a std::string: a pointer kept in the task
// could dangle before the task runs, and the key hashes the characters, not the address.
template <std::size_t N>
struct BindForm<char[N]> {
  using type = LiteralArg<std::string>;
};
template <>
struct BindForm<const char*> {
  using type = LiteralArg<std::string>;
};
template <>
struct BindForm<char*> {
  using type = LiteralArg<std::string>;
};
// A handle type derived from Delayed<U> (map's, which also carries how its items are made) binds
// as the Delayed<U> it is, alone or in a list.
template <class A>
concept DerivedHandle = requires {
  typename A::value_type;
}
&&std::is_base_of_v<Delayed<typename A::value_type>, A>;
template <class A>
struct AsHandle {
  using type = A;
};
template <DerivedHandle A>
struct AsHandle<A> {
  using type = Delayed<typename A::value_type>;
};
template <DerivedHandle A>
struct AsHandle<std::vector<A>> {
  using type = std::vector<Delayed<typename A::value_type>>;
};
template <class A>
using handle_t = typename AsHandle<std::remove_cvref_t<A>>::type;

template <class A>
using bound_t = typename BindForm<handle_t<A>>::type;

// A parameter that wants a C string gets the stored std::string's characters.
template <class L, class P>
inline constexpr bool passes_c_str =
    std::is_same_v<L, std::string>&& std::is_same_v<std::decay_t<P>, const char*>;

// What the callable receives for a bound argument, given its parameter type P.
template <class B, class P>
struct PassedAs;
template <class L, class P>
struct PassedAs<LiteralArg<L>, P> {
  using type = std::conditional_t<passes_c_str<L, P>, const char*, const L&>;
};
template <class U, class P>
struct PassedAs<DependencyArg<U>, P> {
  using type = std::conditional_t<takes_by_value<P>, U, const U&>;
};
template <class U, class P>
struct PassedAs<DependencyListArg<U>, P> {
  using type = std::vector<U>;
};
// A Delayed<void> has no value: a call that names one is refused (TaskCheck::no_void_argument).
struct NoValue {};
template <class P>
struct PassedAs<DependencyArg<void>, P> {
  using type = NoValue;
};
template <class P>
struct PassedAs<DependencyListArg<void>, P> {
  using type = NoValue;
};

template <class P, class L>
typename PassedAs<LiteralArg<L>, P>::type fetch(const LiteralArg<L>& arg,
                                                const TaskInputs& /*inputs*/) {
  if constexpr (passes_c_str<L, P>) {
    return arg.value.c_str();
  } else {
    return arg.value;
  }
}

template <class P, class U>
decltype(auto) fetch(const DependencyArg<U>& arg, const TaskInputs& inputs) {
  ResultSlot& slot = inputs.dependency(arg.edge);
  if constexpr (takes_by_value<P>) {
    return slot.template take<U>();
  } else {
    return slot.template get<U>();
  }
}

template <class P, class U>
std::vector<U> fetch(const DependencyListArg<U>& arg, const TaskInputs& inputs) {
  std::vector<U> values;
  values.reserve(arg.count);
  for (std::uint32_t k = 0; k < arg.count; ++k) {
    values.push_back(inputs.dependency(arg.edge_begin + k).template take<U>());
  }
  return values;
}

// ---- the payload and its type-erased entry points ----------------------------------------------

template <class F, class... B>
struct Payload {
  F fn;
  std::tuple<B...> args;
};

template <class F, class Bounds, class Seq>
struct TaskResult;
template <class F, class... B, std::size_t... I>
struct TaskResult<F, std::tuple<B...>, std::index_sequence<I...>> {
  static constexpr bool invocable =
      std::is_invocable_v<const F&, typename PassedAs<B, param_t<F, I>>::type...>;
  using raw = typename std::conditional_t<
      invocable, std::invoke_result<const F&, typename PassedAs<B, param_t<F, I>>::type...>,
      std::type_identity<void>>::type;
};

template <class F, class... B>
using task_result_t = typename TaskResult<F, std::tuple<B...>, std::index_sequence_for<B...>>::raw;

template <class F, class... B, std::size_t... I>
void invoke_indexed(const Payload<F, B...>& p, const TaskInputs& inputs, ResultSlot& out,
                    std::index_sequence<I...> /*unused*/) {
  using T = std::remove_cvref_t<task_result_t<F, B...>>;
  if constexpr (std::is_void_v<T>) {
    std::invoke(p.fn, fetch<param_t<F, I>>(std::get<I>(p.args), inputs)...);
  } else {
    out.emplace<T>([&]() -> decltype(auto) {
      return std::invoke(p.fn, fetch<param_t<F, I>>(std::get<I>(p.args), inputs)...);
    });
  }
}

template <class F, class... B>
void invoke_payload(const void* payload, const TaskInputs& inputs, ResultSlot& out) {
  invoke_indexed(*static_cast<const Payload<F, B...>*>(payload), inputs, out,
                 std::index_sequence_for<B...>{});
}

// Does the argument bound as `arg` (for parameter type P) take the dependency on `edge` by value?
template <class P, class L>
bool edge_by_value(const LiteralArg<L>& /*arg*/, std::uint32_t /*edge*/) {
  return false;
}
template <class P, class U>
bool edge_by_value(const DependencyArg<U>& arg, std::uint32_t edge) {
  return arg.edge == edge && takes_by_value<P>;
}
template <class P, class U>
bool edge_by_value(const DependencyListArg<U>& arg, std::uint32_t edge) {
  return edge >= arg.edge_begin && edge - arg.edge_begin < arg.count;  // a list takes each one
}

template <class F, class... B, std::size_t... I>
bool takes_edge_by_value([[maybe_unused]] const Payload<F, B...>& p,
                         [[maybe_unused]] std::uint32_t edge,
                         std::index_sequence<I...> /*unused*/) {
  return (edge_by_value<param_t<F, I>>(std::get<I>(p.args), edge) || ...);
}

template <class F, class... B>
bool takes_by_value_at(const void* payload, std::uint32_t edge) {
  return takes_edge_by_value(*static_cast<const Payload<F, B...>*>(payload), edge,
                             std::index_sequence_for<B...>{});
}

template <class P>
void destroy_payload(void* payload) noexcept {
  static_cast<P*>(payload)->~P();
}

// Whether a result of type T can be kept by the memory cache (void: there is nothing to keep).
template <class T>
inline constexpr bool retainable = !std::is_void_v<T> && copyable_v<T> && Sizeable<T>;

template <class T>
std::size_t retained_bytes(const void* value) {
  if constexpr (retainable<T>) {
    return ValueSize<T>::bytes(*static_cast<const T*>(value));
  } else {
    return kNotRetainable;
  }
}

template <class T>
KeptValue keep_result(ResultSlot& out) {
  if constexpr (retainable<T>) {
    return out.keep<T>();
  } else {
    return {};
  }
}

template <class F, class... B>
using stored_result_t = std::remove_cvref_t<task_result_t<F, B...>>;

template <class T>
bool save_result(const ResultSlot& out, std::string& bytes) {
  if constexpr (!std::is_void_v<T> && Serializable<T>) {
    bytes = to_bytes(out.get<T>());
    return true;
  } else {
    return false;
  }
}

// What a run across ranks can send: a value save_result and load_result handle, or nothing.
template <class T>
consteval bool is_transferable() {
  if constexpr (std::is_void_v<T>) {
    return true;
  } else {
    return Serializable<T> && copyable_v<T>;
  }
}
template <class T>
inline constexpr bool transferable = is_transferable<T>();

template <class T>
void load_result_into(std::string_view bytes, ResultSlot& out) {
  if constexpr (!std::is_void_v<T> && Serializable<T> && copyable_v<T>) {
    out.emplace<T>([bytes] { return from_bytes<T>(bytes); });
  } else {
    throw Error("this task's result type cannot be loaded from bytes");
  }
}

// Results that cross ranks as raw bytes (ArrayTransfer): vectors of numbers. Not vector<bool>,
// whose elements are bits.
template <class T>
struct IsNumberVector : std::false_type {};
template <class E>
struct IsNumberVector<std::vector<E>>
    : std::bool_constant<std::is_arithmetic_v<E> && !std::is_same_v<E, bool>> {};

template <class T>
std::span<const std::byte> array_bytes(const void* value) {
  return std::as_bytes(std::span(*static_cast<const T*>(value)));
}

template <class T>
NewArray make_array(std::size_t size) {
  using E = typename T::value_type;
  if (size % sizeof(E) != 0) return {};
  auto value = std::make_shared<T>(size / sizeof(E));
  const std::span<std::byte> bytes = std::as_writable_bytes(std::span(*value));
  return NewArray{std::move(value), bytes};
}

template <class T>
void move_array_into(void* value, ResultSlot& out) {
  out.emplace<T>([value] { return std::move(*static_cast<T*>(value)); });
}

template <class T>
inline constexpr ArrayTransfer kArrayTransfer{&array_bytes<T>, &make_array<T>, &move_array_into<T>};

template <class T>
consteval const ArrayTransfer* array_transfer() {
  if constexpr (IsNumberVector<T>::value) {
    return &kArrayTransfer<T>;
  } else {
    return nullptr;
  }
}

template <class T>
KeptValue load_result(std::string_view bytes) {
  if constexpr (!std::is_void_v<T> && Serializable<T> && copyable_v<T>) {
    if constexpr (KeptValue::fits_inline<T>) {
      return KeptValue::copy_of(from_bytes<T>(bytes));
    } else {
      return KeptValue(std::make_shared<T>(from_bytes<T>(bytes)));
    }
  } else {
    return {};
  }
}

template <class T>
std::uint64_t result_fingerprint() {
  if constexpr (std::is_void_v<T>) {
    return 0;  // never asked: a void task is never cached
  } else {
    return type_fingerprint<T>();
  }
}

template <class T>
inline constexpr bool result_copyable = std::is_void_v<T> || copyable_v<T>;

// One bound argument into a content key. A dependency adds only a marker: its key is mixed in
// separately, in edge order.
template <class L>
bool hash_bound(const LiteralArg<L>& arg, Hasher& h) {
  if constexpr (Hashable<L>) {
    h.add(std::uint8_t{1}).add(arg.value);
    return true;
  } else {
    return false;
  }
}
template <class U>
bool hash_bound(const DependencyArg<U>& /*arg*/, Hasher& h) {
  h.add(std::uint8_t{2});
  return true;
}
template <class U>
bool hash_bound(const DependencyListArg<U>& arg, Hasher& h) {
  h.add(std::uint8_t{3}).add(std::uint64_t{arg.count});
  return true;
}

// A callable that holds no state: a function pointer, or an empty class (a captureless lambda).
// Its op name and version identify it completely.
template <class F>
inline constexpr bool is_stateless_callable = std::is_empty_v<F> ||
                                              (std::is_pointer_v<F> &&
                                               std::is_function_v<std::remove_pointer_t<F>>);

// A callable's state into a content key: through its `bool hash_state(Hasher&) const` member
// (false: it cannot be hashed), else through a Hash specialisation for its type. State that
// cannot be hashed leaves the task without a key (memory cache only): the raw bytes of a closure
// are never hashed, as a captured pointer or `this` would give stale hits in one process and
// different keys in every other.
template <class F>
bool hash_callable_state(const F& fn, Hasher& h) {
  if constexpr (requires {
                  { fn.hash_state(h) } -> std::convertible_to<bool>;
                }) {
    return fn.hash_state(h);
  } else if constexpr (is_stateless_callable<F>) {
    return true;
  } else if constexpr (Hashable<F>) {
    h.add(fn);
    return true;
  } else {
    return false;
  }
}

// Whether hash_callable_state and hash_bound can succeed, known from the types alone.
template <class F>
inline constexpr bool state_keyable = requires(const F& fn, Hasher& h) {
  { fn.hash_state(h) } -> std::convertible_to<bool>;
}
|| is_stateless_callable<F> || Hashable<F>;
template <class B>
inline constexpr bool bound_keyable = true;  // dependencies: their own keys are mixed in
template <class L>
inline constexpr bool bound_keyable<LiteralArg<L>> = Hashable<L>;

template <class F, class... B>
bool hash_literals(const void* payload, Hasher& h) {
  const auto& p = *static_cast<const Payload<F, B...>*>(payload);
  if (!hash_callable_state(p.fn, h)) return false;
  return std::apply([&h](const auto&... bound) { return (hash_bound(bound, h) && ...); }, p.args);
}

template <class F, class... B>
inline constexpr TaskVTable kTaskVTable{&invoke_payload<F, B...>,
                                        std::is_trivially_destructible_v<Payload<F, B...>>
                                            ? nullptr
                                            : &destroy_payload<Payload<F, B...>>,
                                        &retained_bytes<stored_result_t<F, B...>>,
                                        &keep_result<stored_result_t<F, B...>>,
                                        &hash_literals<F, B...>,
                                        &save_result<stored_result_t<F, B...>>,
                                        &load_result<stored_result_t<F, B...>>,
                                        &result_fingerprint<stored_result_t<F, B...>>,
                                        state_keyable<F> && (bound_keyable<B> && ...),
                                        result_copyable<stored_result_t<F, B...>>,
                                        &takes_by_value_at<F, B...>,
                                        std::is_void_v<stored_result_t<F, B...>>,
                                        InlineKeepable<stored_result_t<F, B...>>,
                                        transferable<stored_result_t<F, B...>>,
                                        &load_result_into<stored_result_t<F, B...>>,
                                        array_transfer<stored_result_t<F, B...>>()};

// ---- compile-time checks with readable messages ------------------------------------------------

template <class F>
struct UnwrapOp {
  using type = F;
};
template <class F>
struct UnwrapOp<Op<F>> {
  using type = F;
};
template <class F>
using callable_t = typename UnwrapOp<std::decay_t<F>>::type;

template <class A>
inline constexpr bool literal_ok =
    !std::is_same_v<bound_t<A>, LiteralArg<std::remove_cvref_t<A>>> || copyable_v<A>;

template <class F>
inline constexpr bool is_op = !std::is_same_v<callable_t<F>, std::decay_t<F>>;

template <class F, class... Args>
struct TaskCheck {
  using Fn = callable_t<F>;
  static constexpr bool callable_stored =
      is_op<F> ? std::is_copy_constructible_v<Fn> : std::is_constructible_v<Fn, F>;
  static constexpr bool literals_copyable = (literal_ok<Args> && ...);
  static constexpr bool invocable =
      TaskResult<Fn, std::tuple<bound_t<Args>...>, std::index_sequence_for<Args...>>::invocable;
  using R = task_result_t<Fn, bound_t<Args>...>;
  static constexpr bool no_void_argument =
      (!std::is_same_v<typename PassedAs<bound_t<Args>, UnknownParam>::type, NoValue> && ...);
  static constexpr bool result_movable =
      !invocable || std::is_void_v<R> || std::is_move_constructible_v<std::remove_cvref_t<R>>;
  static constexpr bool ok =
      callable_stored && literals_copyable && no_void_argument && invocable && result_movable;
};

}  // namespace dagflow::detail
