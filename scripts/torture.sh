#!/usr/bin/env bash
# The disk cache's crash and race checks at full scale (README.md, "Torture"):
#   1. runs that write hundreds of cache entries are killed (SIGKILL) at a random moment; the
#      next run must give the right answer, every entry left must verify, no temp file may stay;
#   2. 8 processes x 8 threads store, compute and read the same keys at the same moment: no
#      error, identical bytes for every reader, one file per key, no temp file;
#   3. one rank of `mpirun -np 2 dagflow run` is killed: mpirun must end within 30 s, leave no
#      rank behind, and a run without the kill must give the right answer.
# Usage: scripts/torture.sh [--short] [options]
#   (no option)        the long form: 1000 kill trials, a race of 20 rounds, 20 rank kills
#   --short            about 2 minutes on 2 cores: 50 kill trials, 3 race rounds, 4 rank kills
#   --build-dir DIR    the build holding the programs (default build/dev)
#   --trials N         kill trials (part 1)
#   --race-rounds N    race rounds (part 2)
#   --mpi-trials N     rank kills (part 3)
#   --seed N           seed of the random kill moments (default: from the clock; printed)
#   --work DIR         scratch directory (default: a new one in $TMPDIR, removed when all passed)
#   --no-mpi           skip part 3
# Prints each part's counts and a summary; exits 1 when a check failed, 2 for a usage error.
set -Eeuo pipefail
trap 'echo "torture.sh: unexpected failure at line $LINENO" >&2' ERR
caller_dir=$PWD  # where relative --build-dir and --work paths start
cd "$(dirname "$0")/.."

build_dir=build/dev
trials=1000
race_rounds=20
race_blocks=60
mpi_trials=20
blocks=400
seed=$(($(date +%s%N) % 1000000))
work=
with_mpi=1

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

parse_args() {
  local short=0 set_trials='' set_rounds='' set_mpi=''
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --short) short=1 ;;
      --build-dir) build_dir=$(cd "$caller_dir" && realpath -m "${2:?}"); shift ;;
      --trials) set_trials=${2:?}; shift ;;
      --race-rounds) set_rounds=${2:?}; shift ;;
      --mpi-trials) set_mpi=${2:?}; shift ;;
      --seed) seed=${2:?}; shift ;;
      --work) work=$(cd "$caller_dir" && realpath -m "${2:?}"); shift ;;
      --no-mpi) with_mpi=0 ;;
      -h|--help) usage; exit 0 ;;
      *) echo "torture.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
  done
  if ((short)); then trials=50 race_rounds=3 race_blocks=40 mpi_trials=4; fi
  trials=${set_trials:-$trials} race_rounds=${set_rounds:-$race_rounds}
  mpi_trials=${set_mpi:-$mpi_trials}
}

failures=0
fail() {
  echo "FAILED: $*" >&2
  failures=$((failures + 1))
}

# field NAME LINE: the value of NAME=value in a line of counts.
field() {
  local kv
  for kv in $2; do
    if [[ $kv == "$1="* ]]; then
      echo "${kv#*=}"
      return
    fi
  done
  echo "?"
}

# count NAME LINE: field NAME as a number (0 when missing: the check's exit code reports that).
count() {
  local v
  v=$(field "$1" "$2")
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# A random number in [0, $1), from bash's seeded generator (30 bits).
random_below() { echo $((((RANDOM << 15) | RANDOM) % $1)); }

sleep_us() { sleep "$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))"; }

now_us() { echo $(($(date +%s%N) / 1000)); }

# Writers' temp files in a directory: the disk cache's (.tmp-<key>-<pid>-<n>) and those of other
# atomic writes (.dagflow-tmp-<pid>-<n>: the run records of `dagflow run`).
count_temps() {
  if [[ ! -d $1 ]]; then
    echo 0
    return
  fi
  find "$1" -type f \( -name '.tmp-*' -o -name '.dagflow-tmp-*' \) | wc -l
}

# ---- 1. kill -9 at a random moment of a run that writes entries ---------------------------------

killed=0 finished=0 temps_after_kill=0 verified=0 damaged=0 temps_left=0 wrong=0

# A run of the kill-trial graph (the program itself, not a subshell: that is what is killed),
# followed by --cache DIR [--refresh].
write_run=()

# One trial: even trials rewrite the previous trial's whole cache (--refresh: every entry
# replaced), odd ones start from nothing.
kill_trial() {
  local n=$1 run_us=$2 cache=$work/kill/cache refresh=() offset pid status=0 temps out rc=0
  if ((n % 2 == 0)) && [[ -d $cache ]]; then refresh=(--refresh); else rm -rf "$cache"; fi
  offset=$(random_below $((run_us * 5 / 4 + 1)))
  "${write_run[@]}" --cache "$cache" "${refresh[@]}" >"$work/kill/write.out" \
    2>"$work/kill/write.err" &
  pid=$!
  sleep_us "$offset"
  kill -KILL "$pid" 2>/dev/null || true
  { wait "$pid" || status=$?; } 2>/dev/null  # (bash would report the kill on stderr)
  case $status in
    0) finished=$((finished + 1)) ;;
    137) killed=$((killed + 1)) ;;
    *) fail "trial $n: the run failed by itself (exit $status): $(cat "$work/kill/write.err")" ;;
  esac
  temps=$(count_temps "$cache")
  temps_after_kill=$((temps_after_kill + temps))
  out=$("$torture" check --cache "$cache" --blocks "$blocks" --threads 2 2>"$work/kill/check.err") ||
    rc=$?
  verified=$((verified + $(count verified "$out") + $(count verified_after "$out")))
  damaged=$((damaged + $(count damaged "$out") + $(count damaged_after "$out")))
  [[ $(field answer "$out") == ok ]] || wrong=$((wrong + 1))
  temps=$(count_temps "$cache")
  temps_left=$((temps_left + temps))
  if ((rc != 0 || temps != 0)); then
    fail "trial $n (seed $seed, kill after ${offset} us${refresh:+, refresh}): check exit $rc," \
      "$temps temp files left: $out $(cat "$work/kill/check.err")"
  fi
}

part_kills() {
  echo "== 1. kill -9 during runs that write $blocks+ entries: $trials trials (seed $seed)"
  mkdir -p "$work/kill"
  local start run_us n
  start=$(now_us)
  write_run=("$torture" write --blocks "$blocks" --threads 2)
  "${write_run[@]}" --cache "$work/kill/calibrate" >/dev/null
  run_us=$(($(now_us) - start))
  echo "   a whole run takes $((run_us / 1000)) ms; kills land in the first $((run_us * 5 / 4000)) ms"
  for ((n = 1; n <= trials; n++)); do
    kill_trial "$n" "$run_us"
    if ((n % 100 == 0)); then echo "   $n trials: $killed killed mid-run, $finished finished first"; fi
  done
  echo "   kill trials: $trials ($killed killed mid-run, $finished finished first);" \
    "temp files right after the kills: $temps_after_kill"
  echo "   entries verified: $verified; damaged: $damaged; wrong answers: $wrong;" \
    "temp files left: $temps_left"
}

# ---- 2. 8 processes x 8 threads on the same keys ------------------------------------------------

race_summary=
part_race() {
  local procs=8 threads=8 dir=$work/race id pids=() rc errors=0 warnings=0 digests out check
  echo "== 2. $procs processes x $threads threads racing on the same keys: $race_rounds rounds"
  rm -rf "$dir"
  mkdir -p "$dir/barrier" "$dir/cache"
  chmod 700 "$dir/cache"
  for ((id = 0; id < procs; id++)); do
    timeout -k 5 600 "$torture" race --cache "$dir/cache" --barrier "$dir/barrier" \
      --procs "$procs" --id "$id" --threads "$threads" --blocks "$race_blocks" \
      --rounds "$race_rounds" >"$dir/out.$id" 2>"$dir/err.$id" &
    pids+=($!)
  done
  for id in "${!pids[@]}"; do
    rc=0
    wait "${pids[$id]}" || rc=$?
    out=$(cat "$dir/out.$id")
    ((rc == 0)) || fail "race process $id exited $rc: $out $(head -5 "$dir/err.$id")"
    errors=$((errors + $(count errors "$out")))
    warnings=$((warnings + $(grep -c 'warning' "$dir/err.$id" || true)))
  done
  digests=$(for ((id = 0; id < procs; id++)); do field digest "$(cat "$dir/out.$id")"; done |
    sort -u)
  rc=0
  check=$("$torture" race-check --cache "$dir/cache" --blocks "$race_blocks" \
    --rounds "$race_rounds" 2>"$dir/check.err") || rc=$?
  ((rc == 0)) || fail "race-check: $check $(head -5 "$dir/check.err")"
  ((errors == 0 && warnings == 0)) || fail "race: $errors errors, $warnings warnings (see $dir)"
  [[ $digests == "$(field digest "$check")" ]] ||
    fail "race: readers saw different bytes (digests: $digests; final files: $(field digest "$check"))"
  local temps
  temps=$(count_temps "$dir/cache")
  ((temps == 0)) || fail "race: $temps temp files left"
  out=$(cat "$dir/out.0")
  race_summary="race: $procs processes x $threads threads, $race_rounds rounds x"
  race_summary+=" $(($(count keys "$check") / race_rounds)) keys: $errors errors, $warnings warnings;"
  race_summary+=" process 0 did $(field loads "$out") loads, $(field stores "$out") stores,"
  race_summary+=" $(field computes "$out") computes; identical bytes for every reader:"
  race_summary+=" $([[ $(wc -l <<<"$digests") == 1 ]] && echo yes || echo NO);"
  race_summary+=" entry files: $(field entries "$check") for $(field keys "$check") keys;"
  race_summary+=" temp files left: $temps"
  echo "   $race_summary"
}

# ---- 3. SIGKILL of one rank under mpirun -np 2 ----------------------------------------------------

mpi_summary="mpi: skipped"
mpi_n=1000000
mpi_total=333332833333500000
mpi_killed=0 mpi_finished=0 mpi_slowest_ms=0 mpi_orphans=0 mpi_reruns_ok=0

# The ranks of this script's job: their command lines start with the command and the pipeline.
ranks_of_job() { pgrep -f "^$dagflow run $pipeline( |$)" || true; }

mpirun_job() {  # mpirun_job <cache>: the job, ended by `timeout` should it hang
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_hwloc_base_binding_policy=none \
    timeout -k 5 60 "$mpiexec" --oversubscribe -np 2 \
    "$dagflow" run "$pipeline" --cache-dir "$1" -j 1 --set "n=$mpi_n" --no-progress
}

# Waits up to 20 s for both ranks to start; prints their pids.
wait_for_ranks() {
  local pid=$1 ranks deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null; do
    ranks=$(ranks_of_job)
    if [[ $(wc -w <<<"$ranks") -ge 2 ]]; then
      echo "$ranks"
      return
    fi
    sleep 0.01
  done
}

# Orphans: ranks still there 2 s after mpirun ended (each is reported, then killed).
count_orphans() {
  local left deadline=$((SECONDS + 2))
  left=$(ranks_of_job)
  while [[ -n $left ]] && ((SECONDS < deadline)); do
    sleep 0.1
    left=$(ranks_of_job)
  done
  if [[ -n $left ]]; then
    # shellcheck disable=SC2086  # one pid a word
    kill -KILL $left 2>/dev/null || true
  fi
  wc -w <<<"$left"
}

mpi_trial() {
  local n=$1 run_us=$2 cache=$work/mpi/cache pid ranks victim offset rc=0 start ms orphans out temps
  rm -rf "$cache"
  mpirun_job "$cache" >"$work/mpi/out" 2>"$work/mpi/err" &
  pid=$!
  ranks=$(wait_for_ranks "$pid")
  offset=$(random_below $((run_us * 5 / 4 + 1)))
  sleep_us "$offset"
  victim=
  if [[ -n $ranks ]]; then
    # shellcheck disable=SC2206  # one pid a word
    local list=($ranks)
    victim=${list[$(random_below ${#list[@]})]}
    kill -KILL "$victim" 2>/dev/null || victim=
  fi
  start=$(now_us)
  wait "$pid" || rc=$?
  ms=$((($(now_us) - start) / 1000))
  if ((ms > mpi_slowest_ms)); then mpi_slowest_ms=$ms; fi
  orphans=$(count_orphans)
  mpi_orphans=$((mpi_orphans + orphans))
  if ((rc == 0)) && grep -q "total: $mpi_total" "$work/mpi/out"; then
    mpi_finished=$((mpi_finished + 1))
  elif [[ -n $victim ]] && ((rc != 0 && rc != 124)); then
    mpi_killed=$((mpi_killed + 1))
  else
    fail "mpi trial $n (seed $seed, kill after $offset us): mpirun exited $rc: $(tail -5 "$work/mpi/err")"
  fi
  ((ms <= 30000)) || fail "mpi trial $n: mpirun took $ms ms to end after the kill"
  ((orphans == 0)) || fail "mpi trial $n: $orphans ranks were left running"
  rc=0
  out=$(mpirun_job "$cache" 2>"$work/mpi/err") || rc=$?
  if ((rc == 0)) && grep -q "total: $mpi_total" <<<"$out"; then
    mpi_reruns_ok=$((mpi_reruns_ok + 1))
  else
    fail "mpi trial $n: the run after the kill exited $rc: $out $(tail -5 "$work/mpi/err")"
  fi
  temps=$(count_temps "$cache")
  ((temps == 0)) || fail "mpi trial $n: $temps temp files left"
}

part_mpi() {
  echo "== 3. SIGKILL of one rank of mpirun -np 2 dagflow run: $mpi_trials trials"
  if ((with_mpi == 0)); then
    mpi_summary="mpi: skipped (--no-mpi)"
    echo "   skipped: --no-mpi (ctest gives it when the build has no MPI)"
    return
  fi
  if [[ ! -x $mpiexec ]] || ! grep -q DAGFLOW_WITH_MPI "$build_dir/compile_commands.json" 2>/dev/null; then
    mpi_summary="mpi: skipped (no mpiexec, or the dagflow command was built without MPI)"
    echo "   skipped: no mpiexec, or the dagflow command was built without MPI"
    return
  fi
  mkdir -p "$work/mpi"
  pipeline=$work/mpi/torture_sum_squares.yaml
  cp examples/pipelines/sum_squares.yaml "$pipeline"
  local pid run_us n rc=0
  mpirun_job "$work/mpi/calibrate" >/dev/null 2>&1 &
  pid=$!
  wait_for_ranks "$pid" >/dev/null
  run_us=$(now_us)
  wait "$pid" || rc=$?
  run_us=$(($(now_us) - run_us))
  ((rc == 0)) || fail "mpi: the job fails without a kill (exit $rc)"
  echo "   the ranks of a job run for $((run_us / 1000)) ms; one is killed in the first" \
    "$((run_us * 5 / 4000)) ms after both started"
  for ((n = 1; n <= mpi_trials; n++)); do mpi_trial "$n" "$run_us"; done
  mpi_summary="mpi kill trials: $mpi_trials ($mpi_killed rank killed, $mpi_finished finished first);"
  mpi_summary+=" slowest end of mpirun after the kill: $mpi_slowest_ms ms; orphan ranks: $mpi_orphans;"
  mpi_summary+=" correct reruns: $mpi_reruns_ok/$mpi_trials"
  echo "   $mpi_summary"
}

main() {
  parse_args "$@"
  build_dir=$(realpath -m "$build_dir")
  torture=$build_dir/tests/torture/dagflow_cache_torture
  dagflow=$build_dir/cli/dagflow
  mpiexec=$(sed -n 's/^MPIEXEC_EXECUTABLE:FILEPATH=//p' "$build_dir/CMakeCache.txt" 2>/dev/null ||
    true)
  for program in "$torture" "$dagflow"; do
    [[ -x $program ]] || { echo "torture.sh: $program is not built (see --help)" >&2; exit 2; }
  done
  if [[ -z $work ]]; then work=$(mktemp -d "${TMPDIR:-/tmp}/dagflow-torture.XXXXXX"); fi
  rm -rf "$work"
  mkdir -p "$work"
  work=$(realpath "$work")
  RANDOM=$seed
  local start=$SECONDS
  part_kills
  part_race
  part_mpi
  echo "== summary (seed $seed, $((SECONDS - start)) s)"
  echo "kill trials: $trials ($killed killed mid-run, $finished finished first);" \
    "entries verified: $verified; damaged: $damaged; wrong answers: $wrong; temp files left: $temps_left"
  echo "$race_summary"
  echo "$mpi_summary"
  if ((failures > 0)); then
    echo "FAILED: $failures checks (scratch files kept in $work)"
    exit 1
  fi
  rm -rf "$work"
  echo "all passed"
}

main "$@"
