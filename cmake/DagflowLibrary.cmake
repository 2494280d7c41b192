# dagflow_add_library(<module> <sources...>): the library `dagflow_<module>` with its alias
# `dagflow::<module>`, the module's public headers in <module>/include, C++20 and the warning
# flags. Shared or static as DAGFLOW_SHARED says.
#
# Symbol visibility, deliberately: everything a library declares in namespace dagflow keeps
# default visibility. Its public headers are full of templates (Graph::delayed, map, reduce,
# OpRegistry::add) that are instantiated in the user's binary and call into the library, and
# plugins loaded by the `dagflow` command must share one copy of every template static (type
# fingerprints, vtables of task payloads) with it; hidden-by-default would split them. What is
# private stays private: dagflow::util is compiled hidden, and `--exclude-libs,ALL` keeps the
# symbols of every static archive linked into a library (util included) out of its export table.
# `-z defs` makes a missing link dependency an error when the library is linked, not when a user
# loads it.
function(dagflow_add_library module)
  set(target dagflow_${module})
  if(DAGFLOW_SHARED)
    add_library(${target} SHARED ${ARGN})
    set_target_properties(${target} PROPERTIES
      VERSION ${PROJECT_VERSION}
      SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}  # pre-1.0: minors may break
      # A RUNPATH serves only its own object's direct needs: each library finds its siblings.
      INSTALL_RPATH "$ORIGIN")
    target_link_options(${target} PRIVATE LINKER:--exclude-libs,ALL LINKER:-z,defs)
  else()
    add_library(${target} STATIC ${ARGN})
  endif()
  add_library(dagflow::${module} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${module})
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  dagflow_target_defaults(${target})
endfunction()

# dagflow_install_rpath(<target> <install dir>): an installed program finds dagflow's shared
# libraries relative to itself, wherever the prefix is.
function(dagflow_install_rpath target install_dir)
  if(DAGFLOW_SHARED)
    file(RELATIVE_PATH to_lib ${CMAKE_INSTALL_PREFIX}/${install_dir}
         ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/${to_lib}")
  endif()
endfunction()
