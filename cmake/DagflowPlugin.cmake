# dagflow_add_plugin(<name> <sources...>): the op plugin lib<name>.so, made of sources that define
# their ops with DAGFLOW_PLUGIN (<dagflow/plugin.hpp>), for `dagflow ... --plugin lib<name>.so`.
# A MODULE library: it is loaded with dlopen, never linked. It links dagflow::nodes, which the
# `dagflow` command that loads it has already loaded: one copy of dagflow in the process (with a
# shared dagflow, the default). Symbols keep default visibility, as dagflow's own do, so that the
# templates the plugin instantiates share their statics with the command's.
# Installed beside dagflowConfig.cmake; find_package(dagflow) makes it available.
function(dagflow_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "dagflow_add_plugin(${name}): give the plugin's source files")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE dagflow::nodes)
  target_compile_features(${name} PRIVATE cxx_std_20)
endfunction()
