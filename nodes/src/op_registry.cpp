#include <dagflow/nodes/op_registry.hpp>
// (the header this file implements first)

#include <algorithm>
#include <cctype>

#include <dagflow/util/suggest.hpp>

namespace dagflow {

ArgSpec arg(std::string name) { return ArgSpec{.name = std::move(name)}; }

ArgSpec arg(std::string name, Value default_value) {
  return ArgSpec{.name = std::move(name), .default_value = std::move(default_value)};
}

ArgSpec output_path_arg(std::string name) {
  return ArgSpec{.name = std::move(name), .is_output_path = true};
}

Value OpInfo::call(const OpContext& context, std::span<const Value* const> inputs,
                   const Value::Map& args) const {
  if (any_inputs_) {
    Value::List list;
    list.reserve(inputs.size());
    for (const Value* v : inputs) list.push_back(*v);
    const Value all(std::move(list));
    const Value* one[] = {&all};
    return call_with(context, one, args);
  }
  return call_with(context, inputs, args);
}

OpInfo& OpInfo::set_takes_any_inputs() {
  if (inputs_.size() != 1 || !inputs_.front().starts_with("list")) {
    throw std::invalid_argument("OpInfo::set_takes_any_inputs: op '" + name_ +
                                "' must take exactly one input, a list");
  }
  any_inputs_ = true;
  return *this;
}

OpInfo& OpInfo::set_keyed_inputs() {
  if (inputs_.size() != 1 || inputs_.front() != ValueConvert<Value>::type_name()) {
    throw std::invalid_argument("OpInfo::set_keyed_inputs: op '" + name_ +
                                "' must take exactly one input, of type '" +
                                ValueConvert<Value>::type_name() + "'");
  }
  keyed_inputs_ = true;
  return *this;
}

Value OpInfo::call_with(const OpContext& context, std::span<const Value* const> inputs,
                        const Value::Map& args) const {
  if (inputs.size() != inputs_.size()) {
    throw std::invalid_argument("op '" + name_ + "' takes " + std::to_string(inputs_.size()) +
                                " inputs, got " + std::to_string(inputs.size()));
  }
  std::vector<const Value*> arg_values;
  arg_values.reserve(args_.size());
  for (const ArgSpec& spec : args_) {
    if (auto it = args.find(spec.name); it != args.end()) {
      arg_values.push_back(&it->second);
    } else if (spec.default_value) {
      arg_values.push_back(&*spec.default_value);
    } else {
      throw std::invalid_argument("op '" + name_ + "' needs argument '" + spec.name + "'");
    }
  }
  return invoke_(fn_.get(), context, inputs, arg_values);
}

namespace {

bool is_valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
  });
}

}  // namespace

std::vector<std::string> nearest_names(std::string_view word,
                                       std::span<const std::string> candidates, std::size_t max) {
  return util::nearest_names(word, candidates, max);
}

OpInfo& OpRegistry::insert(OpInfo info) {
  if (!is_valid_name(info.name_)) {
    throw std::invalid_argument("OpRegistry::add: '" + info.name_ +
                                "' is not a valid op name (letters, digits, '_' and '.')");
  }
  if (ops_.contains(info.name_)) {
    throw std::invalid_argument("OpRegistry::add: op '" + info.name_ + "' is already registered");
  }
  for (std::size_t i = 0; i < info.args_.size(); ++i) {
    const ArgSpec& a = info.args_[i];
    if (!is_valid_name(a.name)) {
      throw std::invalid_argument("OpRegistry::add: op '" + info.name_ +
                                  "' has an invalid argument name '" + a.name + "'");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (info.args_[j].name == a.name) {
        throw std::invalid_argument("OpRegistry::add: op '" + info.name_ + "' names argument '" +
                                    a.name + "' twice");
      }
    }
    if (a.default_value && !a.accepts(*a.default_value)) {
      throw std::invalid_argument("OpRegistry::add: the default of argument '" + a.name +
                                  "' of op '" + info.name_ + "' is not a " + a.type);
    }
  }
  std::string name = info.name_;
  return ops_.emplace(std::move(name), std::move(info)).first->second;
}

const OpInfo* OpRegistry::find(std::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::suggest(std::string_view name) const {
  std::vector<std::string> names;
  names.reserve(ops_.size());
  for (const auto& entry : ops_) names.push_back(entry.first);
  return nearest_names(name, names);
}

}  // namespace dagflow
