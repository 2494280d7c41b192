#!/usr/bin/env bash
# Fuzzes the YAML pipeline loader (RELIABILITY.md Y8): builds fuzz/pipeline_fuzzer with clang++,
# libFuzzer, ASan and UBSan in build/fuzz, then runs it on a copy of fuzz/corpus.
#   scripts/fuzz.sh [SECONDS]      run for SECONDS (default 600)
# The corpus grows in build/fuzz/work/corpus (kept between runs); crashing inputs land in
# build/fuzz/work/artifacts. Reproduce one with: build/fuzz/fuzz/pipeline_fuzzer FILE
# Environment: DAGFLOW_JOBS (build parallelism, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}

# clang and its libFuzzer runtime are needed here only: install them when missing.
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
build=build/fuzz
work=$build/work

cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
  -DDAGFLOW_SANITIZE=address,undefined \
  -DDAGFLOW_BUILD_FUZZ=ON \
  -DDAGFLOW_BUILD_TESTS=OFF -DDAGFLOW_BUILD_EXAMPLES=OFF -DDAGFLOW_INSTALL=OFF
ninja -C "$build" -j "${DAGFLOW_JOBS:-2}" pipeline_fuzzer

mkdir -p "$work/corpus" "$work/artifacts"
cp -n fuzz/corpus/* "$work/corpus/"

# -rss_limit_mb and -timeout: the loader must stay under 2 GiB and 5 s on any input.
exec "$build/fuzz/pipeline_fuzzer" "$work/corpus" \
  -dict=fuzz/pipeline.dict \
  -max_total_time="$seconds" \
  -rss_limit_mb=2048 -timeout=5 \
  -artifact_prefix="$work/artifacts/" \
  -print_final_stats=1
