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
  # A static dagflow would be linked into the plugin a second time, beside the command's copy
  # (two registries, two sets of statics): refused. dagflow_SHARED is the installed package's,
  # DAGFLOW_SHARED the source tree's.
  if((DEFINED dagflow_SHARED AND NOT dagflow_SHARED) OR
     (DEFINED DAGFLOW_SHARED AND NOT DAGFLOW_SHARED))
    message(FATAL_ERROR "dagflow_add_plugin(${name}): op plugins need dagflow built as shared "
                        "libraries (DAGFLOW_SHARED=ON, the default); this dagflow is static")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE dagflow::nodes)
  target_compile_features(${name} PRIVATE cxx_std_20)
endfunction()
