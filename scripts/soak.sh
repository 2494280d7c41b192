#!/usr/bin/env bash
# The long forms of the soak runs (tests/soak/soak.cpp; CTest runs short ones in the gate):
#   10,000 computes of a 1,000-task graph on one Executor, memory cache off: resident-set growth
#     under 5% between compute 1,000 and 10,000 (in the dev build, then under ASan+LSan);
#   the same with a 64 MiB memory cache: the resident set stays under its budget plus 64 MiB;
#   30,000 Executors created, used once and destroyed: growth under 5% after the first 3,000;
#   random DAGs (throws, retries, I/O tasks, a resource, keep-going, cancellation) for 10
#     minutes under ThreadSanitizer.
# Usage: scripts/soak.sh [--tsan-seconds S]   (builds dev, asan and tsan first if needed)
# Prints each run's counts; exits 1 when one of them fails.
set -euo pipefail
cd "$(dirname "$0")/.."

tsan_seconds=600
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tsan-seconds) tsan_seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

build_soak() {  # build_soak <preset>
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "${DAGFLOW_JOBS:-$(nproc)}" --target dagflow_soak >/dev/null
}

failed=0
run() {  # run <title> <command...>
  printf '\n== %s\n' "$1"
  shift
  local start=$SECONDS
  "$@" || failed=1
  printf '   (%d s)\n' $((SECONDS - start))
}

for preset in dev asan tsan; do build_soak "$preset"; done
soak=build/dev/tests/soak/dagflow_soak
run "computes, memory cache off (dev)" "$soak" computes --computes 10000 --tasks 1000
run "computes, memory cache 64 MiB (dev)" "$soak" computes --computes 10000 --tasks 1000 \
  --cache-mb 64
run "executors (dev)" "$soak" executors --executors 30000
ASAN_OPTIONS="detect_leaks=1 quarantine_size_mb=0" run "computes, memory cache off (ASan + LSan)" \
  build/asan/tests/soak/dagflow_soak computes --computes 10000 --tasks 1000
TSAN_OPTIONS="suppressions=$PWD/cmake/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
  run "random DAGs (TSan)" build/tsan/tests/soak/dagflow_soak random-dags \
  --seconds "$tsan_seconds"
[[ $failed -eq 0 ]] && printf '\nall soak runs passed\n' || printf '\nA SOAK RUN FAILED\n'
exit "$failed"
