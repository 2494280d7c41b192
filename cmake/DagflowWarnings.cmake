# dagflow_target_defaults(<target>): warning flags for first-party targets only. A function rather
# than an INTERFACE target, so the flags never leak into the export set and reach consumers.
function(dagflow_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual)
  if(DAGFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
