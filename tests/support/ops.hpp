// Calling the built-in ops (OpRegistry::builtins()) the way a pipeline node calls them, for the
// op tests. Thread-safe: the registry is built once and only read.
#pragma once

#include <string_view>
#include <vector>

#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/value.hpp>

namespace dagflow::test {

/// The built-in ops, built on first use and kept for the life of the test program.
[[nodiscard]] const OpRegistry& builtin_ops();

/// Calls the built-in op `name` with `inputs` (positional) and `args` (named) in `context`, as
/// a pipeline node does, and returns its result. Fails the test (REQUIRE) when there is no such
/// op; what the op throws passes through. `inputs` is taken by value on purpose: a braced
/// `{Value::List{...}}` is then one input holding a list (a const reference would bind to the
/// list itself, making each element an input).
Value call_op(std::string_view name, std::vector<Value> inputs = {}, const Value::Map& args = {},
              const OpContext& context = {});

}  // namespace dagflow::test
