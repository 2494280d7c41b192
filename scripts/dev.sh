#!/usr/bin/env bash
# dagflow's two commands (see README.md). Each installs the Debian packages that are missing,
# configures and builds with CMake presets, then:
#   scripts/dev.sh run     runs the main job (the bundled wordcount pipeline, through the
#                          `dagflow` command) from an optimised build
#   scripts/dev.sh test    runs the whole gate: format and layering checks, the test suite
#                          (Debug, -Werror), clang-tidy, an -O2 -Werror build of the static
#                          libraries, then the suite under ASan+UBSan and under TSan; prints the
#                          wall time of each phase at the end
# Options for `test`:
#   --quick                the plain suite only (no clang-tidy, -O2 or sanitizer builds)
#   --only=dev|tidy|strict|asan|tsan   one phase only
# Also: scripts/dev.sh tidy  (clang-tidy alone, on the dev build's compile commands).
# Environment: DAGFLOW_JOBS (build parallelism, default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config libtbb-dev libfmt-dev libxxhash-dev libcereal-dev
          libyaml-cpp-dev libcli11-dev catch2 graphviz openmpi-bin libopenmpi-dev
          clang-format-14 clang-tidy-14)

log() { printf '\n== %s\n' "$*"; }

# phase <name> <command...>: runs one phase of the gate and records its wall time.
phase_names=()
phase_seconds=()
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  phase_names+=("$name")
  phase_seconds+=($((SECONDS - start)))
}

print_phase_times() {
  local i total=0
  log "wall time per phase"
  for i in "${!phase_names[@]}"; do
    printf '  %-22s %5d s\n' "${phase_names[$i]}" "${phase_seconds[$i]}"
    total=$((total + phase_seconds[i]))
  done
  printf '  %-22s %5d s (%d min)\n' total "$total" $((total / 60))
}

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

build() {  # build <preset>
  log "configure + build: $1"
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "${DAGFLOW_JOBS:-$(nproc)}"
}

check_format() {
  log "format check (clang-format-14)"
  git ls-files '*.hpp' '*.cpp' | xargs clang-format-14 --dry-run -Werror
}

# Which dagflow modules each folder may include: util <- graph <- engine <- nodes <- pipeline <-
# {cli, examples}; mpi/ sits beside engine's consumers and sees only engine and graph. util/ is
# private: no installed header includes it, so examples (which use only the installed API) cannot.
declare -A may_include=(
  [util]="util"
  [graph]="util graph"
  [engine]="util graph engine"
  [nodes]="util graph engine nodes"
  [pipeline]="util graph engine nodes pipeline"
  [mpi]="util graph engine mpi"
  [cli]="util graph engine nodes pipeline"
  [examples]="graph engine nodes pipeline"
)

check_layering() {
  log "layering check: ${!may_include[*]} include only the modules below them"
  local bad=0 folder used
  for folder in "${!may_include[@]}"; do
    [[ -d $folder ]] || continue
    for used in $(grep -rhoE '#include <dagflow/[a-z_]+/' "$folder" | sed 's|.*<dagflow/||; s|/$||' | sort -u); do
      if [[ " ${may_include[$folder]} " != *" $used "* ]]; then
        echo "$folder/ includes <dagflow/$used/...>:"; grep -rn "#include <dagflow/$used/" "$folder"
        bad=1
      fi
    done
  done
  # Third-party libraries stay behind their one module, and out of every installed header.
  if grep -rnE 'tbb|yaml' graph/; then bad=1; fi
  if grep -rn 'include <oneapi\|include <tbb' --include=*.hpp */include; then bad=1; fi
  if grep -rn 'include <yaml-cpp' util graph engine nodes cli examples bench; then bad=1; fi
  # (bench/ and tests/ may include <mpi.h>: raw MPI is their baseline and their check.)
  if grep -rn 'include <mpi' util graph engine nodes pipeline cli examples fuzz; then bad=1; fi
  # ...nor util/ in another module's installed headers (util's own headers include each other).
  if grep -rn 'include <dagflow/util/' $(ls -d */include | grep -v '^util/'); then bad=1; fi
  # The CLI and the examples use installed headers only (the CLI also the private util/).
  if grep -rnE 'include "|/src/' cli/src examples/*.cpp | grep -v 'include "[a-z_]*\.hpp"'; then bad=1; fi
  [[ $bad -eq 0 ]] || { echo "layering violated (see above)"; exit 1; }
}

# clang-tidy (.clang-tidy: the checks the house style names) over the first-party sources.
run_tidy() {
  log "clang-tidy-14 on util graph engine nodes pipeline cli mpi"
  [[ -f build/dev/compile_commands.json ]] || cmake --preset dev >/dev/null
  git ls-files 'util/*.cpp' 'graph/*.cpp' 'engine/*.cpp' 'nodes/*.cpp' 'pipeline/*.cpp' 'cli/*.cpp' \
    'mpi/*.cpp' |
    xargs -P "${DAGFLOW_JOBS:-$(nproc)}" -n 4 clang-tidy-14 -p build/dev --quiet 2>/dev/null
}

tests() {  # tests <preset>
  log "tests: $1"
  ctest --preset "$1"
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    install_missing
    build release
    log "main job: examples/pipelines/wordcount.yaml (word counts over a folder of text files)"
    ./build/release/cli/dagflow run examples/pipelines/wordcount.yaml
    ;;
  tidy)
    install_missing
    run_tidy
    ;;
  test)
    variants=(dev tidy strict asan tsan)
    for arg in "$@"; do
      case "$arg" in
        --quick) variants=(dev) ;;
        --only=*) variants=("${arg#--only=}") ;;
        *) echo "unknown option: $arg (see the top of $0)" >&2; exit 2 ;;
      esac
    done
    phase packages install_missing
    phase format check_format
    phase layering check_layering
    for v in "${variants[@]}"; do
      case "$v" in
        tidy) phase tidy run_tidy ;;
        strict) phase "build strict" build strict ;;  # -O2 -Werror, static: built, not run
        dev|asan|tsan) phase "build $v" build "$v"; phase "tests $v" tests "$v" ;;
        *) echo "unknown build: $v (see the top of $0)" >&2; exit 2 ;;
      esac
    done
    print_phase_times
    log "all passed: ${variants[*]}"
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    [[ -z "$cmd" || "$cmd" == -h || "$cmd" == --help ]] && exit 0
    exit 2
    ;;
esac
