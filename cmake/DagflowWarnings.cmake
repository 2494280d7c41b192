# dagflow_target_defaults(<target>): warning flags for first-party targets only. A function rather
# than an INTERFACE target, so the flags never leak into the export set and reach consumers.
function(dagflow_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual)
  if(DAGFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # GCC 12's -Wmaybe-uninitialized gives false positives in optimised builds, inside the standard
  # library: <regex>, a std::map moved into a std::variant, the std::optional<std::string>
  # returned through examples/wordcount.cpp. Sanitizer instrumentation hides the initialisation
  # from the analysis even more. Only the Debug build keeps the warning (as an error).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    if(DAGFLOW_SANITIZE)
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    else()
      target_compile_options(${target} PRIVATE $<$<NOT:$<CONFIG:Debug>>:-Wno-maybe-uninitialized>)
    endif()
  endif()
endfunction()
