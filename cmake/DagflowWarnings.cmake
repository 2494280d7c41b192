# dagflow_target_defaults(<target>): warning flags for first-party targets only. A function rather
# than an INTERFACE target, so the flags never leak into the export set and reach consumers.
function(dagflow_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual)
  if(DAGFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # GCC 12's flow-sensitive warnings give false positives in optimised builds, inside the
  # standard library: -Wmaybe-uninitialized (<regex>, a std::map moved into a std::variant) and
  # -Warray-bounds (std::map's tree header inside a Value of examples/wordcount.cpp, "array
  # subscript 5 is outside array bounds of 'dagflow::Value [2]'") and -Wstringop-overflow
  # (std::string's operator+ under TSan at -O1, "writing 200004 bytes into a region of size 16").
  # Sanitizer instrumentation hides even more from the analysis. Only the Debug build keeps them
  # (as errors).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(gcc12_false_positives -Wno-maybe-uninitialized -Wno-array-bounds -Wno-stringop-overflow)
    if(DAGFLOW_SANITIZE)
      target_compile_options(${target} PRIVATE ${gcc12_false_positives})
    else()
      target_compile_options(${target} PRIVATE
        "$<$<NOT:$<CONFIG:Debug>>:${gcc12_false_positives}>")
    endif()
  endif()
endfunction()
