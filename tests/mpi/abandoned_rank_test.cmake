# Script mode: runs abandoned_rank.cpp's job on 2 ranks, where the last rank fails (MODE=kill:
# SIGKILL; throw: an exception out of its Session's scope; error: its MPI calls fail) while
# rank 0 waits for it. Passes when mpirun exits non-zero (with EXIT_CODE, if given) within
# 30 s, no rank of the program is left running, and the job's output matches every regular
# expression of the list EXPECT (if any).
#   cmake -D MPIEXEC=<mpirun> -D PROGRAM=<abandoned_rank> -D MODE=kill|throw|error
#         [-D EXIT_CODE=<n>] [-D EXPECT=<regex;...>] -P <this file>
string(TIMESTAMP start "%s")
execute_process(
  COMMAND timeout -k 5 60 ${MPIEXEC} -np 2 ${PROGRAM} ${MODE}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
string(TIMESTAMP end "%s")
math(EXPR seconds "${end} - ${start}")
message(STATUS "mpirun exited with ${result} after ${seconds} s\n${out}${err}")

# The ranks' command lines start with the program's path (the cmake running this script names
# it later in its own).
execute_process(COMMAND pgrep -f "^${PROGRAM}( |$)" RESULT_VARIABLE none_left OUTPUT_VARIABLE left)
if(none_left EQUAL 0)
  string(REPLACE "\n" " " left "${left}")
  execute_process(COMMAND kill -9 ${left})  # this test's own leftovers, so the next run is clean
  message(FATAL_ERROR "processes of ${PROGRAM} were left running: ${left}")
endif()
if(result EQUAL 0)
  message(FATAL_ERROR "mpirun exited 0: a rank that died did not fail the job")
endif()
# (mpirun passes on a killed rank's 128 + 9, which is also what `timeout -k` returns: the
# time tells them apart.)
if(result EQUAL 124 OR seconds GREATER 30)
  message(FATAL_ERROR "the job was not ended within 30 s (exit code ${result})")
endif()
if(NOT EXIT_CODE STREQUAL "" AND NOT result EQUAL EXIT_CODE)
  message(FATAL_ERROR "mpirun exited with ${result}, not ${EXIT_CODE}")
endif()
foreach(expected IN LISTS EXPECT)
  if(NOT "${out}${err}" MATCHES "${expected}")
    message(FATAL_ERROR "the output lacks: ${expected}")
  endif()
endforeach()
