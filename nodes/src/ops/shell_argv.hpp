// The placeholders of the shell op's argv and outputs: `{item}`, `{input}` and `{inputs}` stand
// for the files (or values) a node gives its command. They are expanded into argv entries, never
// through a shell, so a value holding `; rm -rf ~` arrives as one literal argument. Pure
// functions, safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <dagflow/nodes/value.hpp>

namespace dagflow::detail {

/// Which placeholders a list of templates uses.
struct ShellPlaceholders {
  bool item = false;    ///< `{item}`: the first input (a map node's element)
  bool input = false;   ///< `{input}`: the one file the inputs give
  bool inputs = false;  ///< `{inputs}`: every file the inputs give, one entry each

  [[nodiscard]] bool any() const noexcept { return item || input || inputs; }
};

/// The placeholders `templates` use (a `{` that starts none of them is plain text).
[[nodiscard]] ShellPlaceholders shell_placeholders(std::span<const std::string> templates);

/// `templates` with their placeholders replaced by what `inputs` (in order; for a map node the
/// element first) give: `{item}` and `{input}` anywhere in an entry, `{inputs}` only as a whole
/// entry, which becomes one entry per file (none for none). A path gives its name as the pipeline
/// wrote it (relative to its directory, where commands run), a string itself, a number or a bool
/// its JSON text, a list each of its elements (flattened). Throws dagflow::Error naming the
/// placeholder for an input that is null or a map, for `{item}`/`{input}` that do not stand for
/// exactly one value, for a placeholder with no inputs, and for `{inputs}` inside a longer
/// entry, or anywhere when `whole_lists` is false (outputs name one file per entry).
[[nodiscard]] std::vector<std::string> expand_shell_placeholders(
    std::span<const std::string> templates, std::span<const Value* const> inputs,
    bool whole_lists = true);

}  // namespace dagflow::detail
