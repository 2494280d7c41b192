# `mpirun -np 2 dagflow run ...` as a user runs it (cmake -P; see tests/cli/CMakeLists.txt):
# rank 0 prints what a plain run prints (the same stdout, byte for byte, and a summary line per
# rank), writers' files hold the plain run's bytes, the trace has a process per rank, and every
# rank exits with the same code — 1 for a failed node, 2 for a bad pipeline, 130 when one rank
# is interrupted — within the timeout, none waiting for another forever.
#
# Variables: DAGFLOW (the command), MPIEXEC (mpirun), PIPELINES (examples/pipelines), DATA
# (tests/cli/data), WORK (a scratch directory, emptied first). The environment carries what Open
# MPI needs in a container (the test's ENVIRONMENT property).
cmake_minimum_required(VERSION 3.25)

foreach(var DAGFLOW MPIEXEC PIPELINES DATA WORK)
  if(NOT ${var})
    message(FATAL_ERROR "cli_mpirun_test: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/alone ${WORK}/ranks)
foreach(dir alone ranks)
  file(COPY ${PIPELINES}/ DESTINATION ${WORK}/${dir})
  file(COPY ${DATA}/square_overflow.yaml DESTINATION ${WORK}/${dir})
endforeach()

# fail(<what>): reports a failed check; the script fails at the end, after every check ran.
set_property(GLOBAL PROPERTY cli_mpirun_failures 0)
function(fail what)
  message("FAILED: ${what}")
  get_property(n GLOBAL PROPERTY cli_mpirun_failures)
  math(EXPR n "${n} + 1")
  set_property(GLOBAL PROPERTY cli_mpirun_failures ${n})
endfunction()

# run(<prefix> <dir> <command...>): runs it in WORK/<dir>; sets <prefix>_out, _err and _rc.
function(run prefix dir)
  execute_process(COMMAND ${ARGN}
                  WORKING_DIRECTORY ${WORK}/${dir}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${prefix}_out "${out}" PARENT_SCOPE)
  set(${prefix}_err "${err}" PARENT_SCOPE)
  set(${prefix}_rc "${rc}" PARENT_SCOPE)
endfunction()

# The command alone, and under mpirun on 2 ranks (`timeout` ends a job that hangs, ranks too).
set(mpirun timeout -k 10 120 ${MPIEXEC} --oversubscribe -np 2)
macro(alone prefix)
  run(${prefix} alone ${DAGFLOW} ${ARGN})
endmacro()
macro(ranks prefix)
  run(${prefix} ranks ${mpirun} ${DAGFLOW} ${ARGN})
endmacro()
# Each rank's exit code on a line of its own: "rank 1 exit 2". (The shell's commands are on
# lines of their own: a ';' would split the script into two arguments, a CMake list.)
macro(ranks_exits prefix)
  string(JOIN " " command ${ARGN})
  run(${prefix} ranks ${mpirun} sh -c
      "${DAGFLOW} ${command}\necho \"rank \$OMPI_COMM_WORLD_RANK exit \$?\"")
endmacro()

function(expect_same_stdout name)
  alone(a ${ARGN})
  ranks(r ${ARGN})
  if(NOT a_rc EQUAL 0 OR NOT r_rc EQUAL 0)
    fail("${name}: exit codes ${a_rc} alone, ${r_rc} under mpirun\n${a_err}\n${r_err}")
  elseif(NOT a_out STREQUAL r_out)
    fail("${name}: stdout differs\n--- alone\n${a_out}\n--- mpirun\n${r_out}")
  endif()
  set(r_err "${r_err}" PARENT_SCOPE)
endfunction()

# The examples: the same outputs as alone; the summary has a line per rank.
expect_same_stdout("wordcount" run wordcount.yaml --no-cache)
if(NOT r_err MATCHES "\nrank 0: [0-9]+ tasks? executed" OR NOT r_err MATCHES "\nrank 1: ")
  fail("wordcount: no summary line per rank in\n${r_err}")
endif()
expect_same_stdout("wordcount --json" run wordcount.yaml --no-cache --json)
expect_same_stdout("csv_rollup" run csv_rollup.yaml --no-cache)
expect_same_stdout("sum_squares" run sum_squares.yaml --no-cache --set n=20000)
expect_same_stdout("quiet" run wordcount.yaml --no-cache -q)
if(NOT r_err STREQUAL "")
  fail("-q: stderr is not empty under mpirun:\n${r_err}")
endif()

# Writers: the same files, byte for byte; a second run runs the probe alone and keeps them.
alone(a run csv_report.yaml -q)
ranks(r run csv_report.yaml -q --stats-json stats.json --trace trace.json)
if(NOT r_rc EQUAL 0)
  fail("csv_report under mpirun: exit code ${r_rc}\n${r_err}")
endif()
foreach(file out/by_region.json out/all_rows.csv)
  file(READ ${WORK}/alone/${file} want)
  file(READ ${WORK}/ranks/${file} got)
  if(NOT want STREQUAL got)
    fail("csv_report: ${file} differs from the plain run's")
  endif()
endforeach()
ranks(r run csv_report.yaml)
if(NOT r_err MATCHES "csv_report: 6 nodes, 1 executed, 2 cached")
  fail("csv_report again: not served from the cache:\n${r_err}")
endif()
file(READ ${WORK}/ranks/trace.json trace)
if(NOT trace MATCHES "\"name\":\"rank 0\"" OR NOT trace MATCHES "\"name\":\"rank 1\"")
  fail("the trace has no process per rank:\n${trace}")
endif()
file(READ ${WORK}/ranks/stats.json stats)
string(JSON ranks_listed LENGTH "${stats}" ranks)
if(NOT ranks_listed EQUAL 2)
  fail("--stats-json lists ${ranks_listed} ranks:\n${stats}")
endif()

# The other commands are rank 0's: printed once.
alone(a validate wordcount.yaml)
ranks(r validate wordcount.yaml)
if(NOT a_out STREQUAL r_out)
  fail("validate: stdout differs\n--- alone\n${a_out}\n--- mpirun\n${r_out}")
endif()

# A node that fails: exit code 1 on every rank; the error names the rank it failed on.
ranks_exits(r run square_overflow.yaml --no-cache)
if(r_rc EQUAL 124 OR r_rc EQUAL 137)
  fail("a failing pipeline did not end within the timeout")
endif()
if(NOT r_out MATCHES "rank 0 exit 1" OR NOT r_out MATCHES "rank 1 exit 1")
  fail("a failing pipeline: the ranks' exit codes are not all 1:\n${r_out}\n${r_err}")
endif()
if(NOT r_err MATCHES "node 'squares' \\(op square\\) failed on rank [01] at item 2")
  fail("a failing pipeline: the error is not reported:\n${r_err}")
endif()

# A pipeline that does not load: exit code 2 on every rank, the error printed once.
file(WRITE ${WORK}/ranks/bad.yaml "name: bad\nnodes:\n  a: {op: nope}\n")
ranks_exits(r run bad.yaml)
if(NOT r_out MATCHES "rank 0 exit 2" OR NOT r_out MATCHES "rank 1 exit 2")
  fail("a bad pipeline: the ranks' exit codes are not all 2:\n${r_out}\n${r_err}")
endif()
string(REGEX MATCHALL "unknown op 'nope'" said "${r_err}")
list(LENGTH said times)
if(NOT times EQUAL 1)
  fail("a bad pipeline: the error is printed ${times} times:\n${r_err}")
endif()

# SIGTERM to rank 1 alone (as Ctrl-C would be) cancels the run on both: a shell command that
# would sleep a minute is stopped, rank 0 says what finished, and both exit with 130.
file(WRITE ${WORK}/ranks/slow.yaml
     "name: slow\nnodes:\n  nap:\n    op: shell\n    args: {argv: [sleep, \"60\"]}\n")
run(r ranks ${mpirun} sh -c "${DAGFLOW} run slow.yaml --allow-shell --no-cache &
pid=$!
if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]
then
  sleep 3
  kill -TERM $pid
fi
wait $pid
echo \"rank $OMPI_COMM_WORLD_RANK exit $?\"")
if(NOT r_out MATCHES "rank 0 exit 130" OR NOT r_out MATCHES "rank 1 exit 130")
  fail("an interrupted run: the ranks' exit codes are not all 130:\n${r_out}\n${r_err}")
endif()
if(NOT r_err MATCHES "dagflow: interrupted: 0 of 1 needed nodes finished")
  fail("an interrupted run: rank 0 does not say so:\n${r_err}")
endif()

get_property(failures GLOBAL PROPERTY cli_mpirun_failures)
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} check(s) failed")
endif()
message(STATUS "dagflow under mpirun: every check passed")
