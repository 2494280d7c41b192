# cmake -P check.cmake: compile SOURCE, expect failure whose output contains EXPECTED, with a
# single error line (the static_assert), not a wall of template errors.
execute_process(COMMAND ${COMPILER} ${FLAGS} ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(text "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but must not")
endif()
string(FIND "${text}" "${EXPECTED}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "expected '${EXPECTED}' in the compiler output:\n${text}")
endif()
string(REGEX MATCHALL "error:" errors "${text}")
list(LENGTH errors count)
if(count GREATER 1)
  message(FATAL_ERROR "${count} errors instead of one readable static_assert:\n${text}")
endif()
message(STATUS "ok: ${EXPECTED}")
