#include "shell_argv.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include <dagflow/graph/errors.hpp>

namespace dagflow::detail {

namespace {

enum class Placeholder : std::uint8_t { kItem, kInput, kInputs };

constexpr std::array<std::pair<std::string_view, Placeholder>, 3> kPlaceholders{{
    {"{item}", Placeholder::kItem},
    {"{input}", Placeholder::kInput},
    {"{inputs}", Placeholder::kInputs},
}};

// The placeholder starting at `at` in `text`, with its length, if one does.
std::optional<std::pair<Placeholder, std::size_t>> placeholder_at(std::string_view text,
                                                                  std::size_t at) {
  for (const auto& [name, which] : kPlaceholders) {
    if (text.substr(at, name.size()) == name) return std::pair{which, name.size()};
  }
  return std::nullopt;
}

// The argv entries a value gives, appended to `out`: lists flattened.
void append_entries(const Value& v, std::string_view placeholder, std::vector<std::string>& out) {
  switch (v.kind()) {
    case ValueKind::kPath: {
      const PathValue& p = v.as_path();
      out.push_back(p.shown.empty() ? p.resolved.string() : p.shown);
      return;
    }
    case ValueKind::kString:
      out.push_back(v.as_string());
      return;
    case ValueKind::kList:
      for (const Value& x : v.as_list()) append_entries(x, placeholder, out);
      return;
    case ValueKind::kBool:
    case ValueKind::kInt:
    case ValueKind::kDouble:
      out.push_back(to_json(v));
      return;
    case ValueKind::kNull:
    case ValueKind::kMap:
      break;
  }
  throw Error(
      fmt::format("{} stands for a {}: only paths, strings, numbers and lists of them "
                  "can be argv entries",
                  placeholder, kind_name(v.kind())));
}

std::vector<std::string> entries_of(std::span<const Value* const> values,
                                    std::string_view placeholder) {
  if (values.empty())
    throw Error(fmt::format("{} is used but the node has no inputs", placeholder));
  std::vector<std::string> out;
  for (const Value* v : values) append_entries(*v, placeholder, out);
  return out;
}

// The one entry `{item}` or `{input}` stands for.
std::string single_entry(std::span<const Value* const> values, std::string_view placeholder) {
  std::vector<std::string> entries = entries_of(values, placeholder);
  if (entries.size() != 1) {
    throw Error(
        fmt::format("{} stands for {} values, not one (use {{inputs}} as a whole argv "
                    "entry for several)",
                    placeholder, entries.size()));
  }
  return std::move(entries.front());
}

}  // namespace

ShellPlaceholders shell_placeholders(std::span<const std::string> templates) {
  ShellPlaceholders used;
  for (const std::string& t : templates) {
    for (std::size_t at = t.find('{'); at != std::string::npos; at = t.find('{', at + 1)) {
      const auto found = placeholder_at(t, at);
      if (!found) continue;
      used.item = used.item || found->first == Placeholder::kItem;
      used.input = used.input || found->first == Placeholder::kInput;
      used.inputs = used.inputs || found->first == Placeholder::kInputs;
    }
  }
  return used;
}

std::vector<std::string> expand_shell_placeholders(std::span<const std::string> templates,
                                                   std::span<const Value* const> inputs,
                                                   bool whole_lists) {
  std::vector<std::string> out;
  out.reserve(templates.size());
  for (const std::string& t : templates) {
    if (t == "{inputs}" && whole_lists) {
      std::vector<std::string> all = entries_of(inputs, "{inputs}");
      out.insert(out.end(), std::make_move_iterator(all.begin()),
                 std::make_move_iterator(all.end()));
      continue;
    }
    std::string entry;
    std::size_t done = 0;
    for (std::size_t at = t.find('{'); at != std::string::npos; at = t.find('{', at + 1)) {
      const auto found = placeholder_at(t, at);
      if (!found) continue;
      if (found->first == Placeholder::kInputs) {
        throw Error(whole_lists ? "{inputs} must be a whole argv entry (it gives one per file)"
                                : "{inputs} cannot name an output (each output is one file)");
      }
      entry.append(t, done, at - done);
      entry += found->first == Placeholder::kItem
                   ? single_entry(inputs.first(inputs.empty() ? 0 : 1), "{item}")
                   : single_entry(inputs, "{input}");
      done = at + found->second;
      at = done - 1;
    }
    entry.append(t, done);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace dagflow::detail
