# The mpirun harness of the MPI tests, included by tests/CMakeLists.txt where dagflow::mpi is
# built (tests/mpi and tests/package use it).
#
# dagflow_add_mpi_test(NAME <name> RANKS <n> COMMAND <target or program> [args...]
#                      [LABELS <labels...>] [TIMEOUT <seconds>] [ENVIRONMENT <VAR=value...>])
# registers a ctest test that runs `timeout <seconds> mpirun -np <n> <command>` with the
# environment below, labelled `mpi` (plus LABELS). The `timeout` ends a hung job even when
# ctest's own timeout (30 s later) would only kill mpirun and leave its ranks behind. The test
# counts as <n> processors, so `ctest -j` does not start other tests beside a job that already
# fills the machine.
set(dagflow_mpi_test_environment
  # Open MPI refuses to start as root unless told twice (containers and CI run as root).
  OMPI_ALLOW_RUN_AS_ROOT=1
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # Containers forbid the cross-process memory access (CMA) that Open MPI's shared-memory
  # transport tries first; copying through the shared segment works everywhere.
  OMPI_MCA_btl_vader_single_copy_mechanism=none
  # More ranks than cores (3 on a 2-core machine) is allowed...
  OMPI_MCA_rmaps_base_oversubscribe=1
  # ...and ranks are not pinned to one core each: a rank's progress thread and the thread that
  # waits for it would share that core, and two jobs run by `ctest -j` would pin to the same.
  OMPI_MCA_hwloc_base_binding_policy=none)
# Open MPI is not built with the sanitizers: LeakSanitizer reports what it never frees and
# ThreadSanitizer cannot see its locks. The suppression files name only Open MPI's libraries
# (and the libraries it loads), never dagflow code.
if(DAGFLOW_SANITIZE MATCHES "address")
  list(APPEND dagflow_mpi_test_environment
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/cmake/lsan.supp fast_unwind_on_malloc=0 print_suppressions=0")
endif()
if(DAGFLOW_SANITIZE MATCHES "thread")
  list(APPEND dagflow_mpi_test_environment
    "TSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/cmake/tsan.supp halt_on_error=1 second_deadlock_stack=1")
endif()

function(dagflow_add_mpi_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;RANKS;TIMEOUT" "COMMAND;LABELS;ENVIRONMENT")
  if(NOT arg_NAME OR NOT arg_RANKS OR NOT arg_COMMAND)
    message(FATAL_ERROR "dagflow_add_mpi_test: NAME, RANKS and COMMAND are required")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  list(POP_FRONT arg_COMMAND program)
  if(TARGET ${program})
    set(program $<TARGET_FILE:${program}>)
  endif()
  add_test(NAME ${arg_NAME}
           COMMAND timeout -k 10 ${arg_TIMEOUT}
                   ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${arg_RANKS} ${MPIEXEC_PREFLAGS}
                   ${program} ${MPIEXEC_POSTFLAGS} ${arg_COMMAND})
  math(EXPR ctest_timeout "${arg_TIMEOUT} + 30")
  set(environment ${dagflow_mpi_test_environment} ${arg_ENVIRONMENT})
  set_tests_properties(${arg_NAME} PROPERTIES
    ENVIRONMENT "${environment}"
    LABELS "mpi;${arg_LABELS}"
    PROCESSORS ${arg_RANKS}
    TIMEOUT ${ctest_timeout})
endfunction()
