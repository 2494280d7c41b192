#include "support/ops.hpp"

#include <catch2/catch.hpp>

namespace dagflow::test {

const OpRegistry& builtin_ops() {
  static const OpRegistry ops = OpRegistry::builtins();
  return ops;
}

Value call_op(std::string_view name, std::vector<Value> inputs, const Value::Map& args,
              const OpContext& context) {
  const OpInfo* op = builtin_ops().find(name);
  INFO("built-in op '" << name << "'");
  REQUIRE(op != nullptr);
  std::vector<const Value*> pointers;
  pointers.reserve(inputs.size());
  for (const Value& v : inputs) pointers.push_back(&v);
  return op->call(context, pointers, args);
}

}  // namespace dagflow::test
