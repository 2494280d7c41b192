# dagflow_target_defaults(<target>): warning flags for first-party targets only. A function rather
# than an INTERFACE target, so the flags never leak into the export set and reach consumers.
function(dagflow_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual)
  if(DAGFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # GCC 12's -Wmaybe-uninitialized gives false positives in optimised sanitizer builds, inside
  # the standard library (<regex>, std::map moved into a std::variant): the instrumentation
  # hides the initialisation from the analysis. The plain -Werror build keeps the warning.
  if(DAGFLOW_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()
