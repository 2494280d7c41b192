// OpRegistry::load_plugin: dlopen, check the entry point DAGFLOW_PLUGIN defines, register the
// plugin's ops into a registry of their own, then add them all (or none) to this one.
#include <dagflow/plugin.hpp>
// (the header whose entry point this file reads first)

#include <algorithm>
#include <cstring>
#include <dlfcn.h>
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace dagflow {

namespace {

namespace fs = std::filesystem;

using EntryFunction = const PluginEntry* (*)();

// dlerror() is process-wide state: one loader at a time reads its own message.
std::mutex g_dl_mutex;

std::string last_dl_error() {
  const char* text = ::dlerror();
  return text == nullptr ? std::string("unknown error") : std::string(text);
}

// The plugin's entry, from a library loaded for good: its ops' code lives in it.
const PluginEntry& open_plugin(const fs::path& path, const std::string& shown) {
  const std::lock_guard lock(g_dl_mutex);
  // RTLD_LOCAL: two plugins may define the same helper names without clashing.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw PluginError(fmt::format("cannot load plugin '{}': {}", shown, last_dl_error()));
  }
  auto entry = reinterpret_cast<EntryFunction>(::dlsym(handle, "dagflow_plugin_entry_v1"));
  if (entry == nullptr) {
    ::dlclose(handle);
    throw PluginError(fmt::format(
        "'{}' is not a dagflow plugin: it has no entry point (a plugin defines one with "
        "DAGFLOW_PLUGIN, see <dagflow/plugin.hpp>)",
        shown));
  }
  const PluginEntry* found = entry();
  std::string refused;
  if (found == nullptr || found->dagflow_version == nullptr) {
    refused = fmt::format("'{}' is not a dagflow plugin: its entry point is empty", shown);
  } else if (std::strcmp(found->dagflow_version, DAGFLOW_VERSION_STRING) != 0 ||
             found->interface != kPluginInterface || found->register_ops == nullptr) {
    refused = fmt::format(
        "plugin '{}' was built against dagflow {} (plugin interface {}), and this is dagflow {} "
        "(interface {}): build the plugin again against this version",
        shown, found->dagflow_version, found->interface, DAGFLOW_VERSION_STRING, kPluginInterface);
  }
  if (!refused.empty()) {
    ::dlclose(handle);  // nothing of it ran but its entry point: it can go
    throw PluginError(refused);
  }
  return *found;
}

// The ops the plugin registers, in a registry of their own.
OpRegistry registered_ops(const PluginEntry& entry, const std::string& shown) {
  OpRegistry ops;
  try {
    entry.register_ops(ops);
  } catch (const std::exception& e) {
    throw PluginError(fmt::format("plugin '{}' failed to register its ops: {}", shown, e.what()));
  } catch (...) {
    throw PluginError(fmt::format("plugin '{}' failed to register its ops", shown));
  }
  if (ops.ops().empty()) {
    throw PluginError(fmt::format("plugin '{}' registers no ops", shown));
  }
  return ops;
}

}  // namespace

void OpRegistry::load_plugin(const fs::path& path) {
  const std::string shown = path.string();
  std::error_code ec;
  const fs::path file = fs::canonical(path, ec);
  if (ec) throw PluginError(fmt::format("cannot load plugin '{}': {}", shown, ec.message()));
  if (std::find(plugins_.begin(), plugins_.end(), file) != plugins_.end()) return;
  if (!fs::is_regular_file(file, ec)) {
    throw PluginError(fmt::format("cannot load plugin '{}': not a regular file", shown));
  }
  OpRegistry added = registered_ops(open_plugin(file, shown), shown);
  for (auto& [name, op] : added.ops_) {
    op.plugin_ = path;
    const OpInfo* existing = find(name);
    if (existing == nullptr) continue;
    throw PluginError(fmt::format(
        "plugin '{}' registers op '{}', which {} already registers: rename one of them", shown,
        name,
        existing->plugin().empty() ? std::string("dagflow (or the program)")
                                   : fmt::format("plugin '{}'", existing->plugin().string())));
  }
  ops_.merge(added.ops_);
  plugins_.push_back(file);
}

}  // namespace dagflow
