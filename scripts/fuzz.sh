#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with Clang into build-fuzz/ (only the libraries they link) and runs each
# for a bounded time on a copy of its seed corpus, so that runs never write into the repository. Any crash,
# sanitizer report, leak, timeout or out-of-memory fails the script; one summary line per target. Two targets
# run at a time (OSPREY_FUZZ_JOBS).
#   scripts/fuzz.sh                    every target, OSPREY_FUZZ_SECONDS (default 30) seconds each
#   scripts/fuzz.sh TARGET [SECONDS]   one target (json_body, filter_body, config_yaml, message_template, ...)
# A failing input is kept as build-fuzz/findings/TARGET/{crash,leak,timeout,oom}-<sha1>; replay it with
# build-fuzz/fuzz/TARGET FILE. Longer runs and growing the corpus: fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${OSPREY_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${OSPREY_FUZZ_SECONDS:-30}

# Every fuzz/*.cpp that defines the entry point is a target (fuzz/CMakeLists.txt names each fuzz_<target>).
mapfile -t targets < <(grep -l LLVMFuzzerTestOneInput fuzz/*.cpp | xargs -n1 basename | sed 's/\.cpp$//')
if [ $# -ge 1 ]; then
  if ! printf '%s\n' "${targets[@]}" | grep -qx "$1"; then
    echo "fuzz: unknown target '$1' (targets: ${targets[*]})" >&2
    exit 2
  fi
  targets=("$1")
  seconds=${2:-$seconds}
fi

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DOSPREY_BUILD_FUZZ=ON -DOSPREY_BUILD_TESTS=OFF -DOSPREY_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target "${targets[@]/#/fuzz_}"
build=$(cd "$BUILD_DIR" && pwd)

# Scratch space for the corpus copies and the targets' own files, on tmpfs when there is one (config_yaml
# rewrites a file per input, which ext4 flushes on every close).
scratch_base=${TMPDIR:-/tmp}
[ -w /dev/shm ] && scratch_base=/dev/shm
work=$(mktemp -d "$scratch_base/osprey-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One target's run; its summary (or its report) goes to $work/<target>/report, its status to .../rc.
run_target() {
  local t=$1 dir="$work/$1" findings="$build/findings/$1" rc=0
  mkdir -p "$dir/corpus" "$findings"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  touch "$dir/started"
  # From the scratch dir: libFuzzer may drop files (fuzz-*.log, crash inputs) in its working directory.
  (cd "$dir" && TMPDIR="$dir" "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/" -print_final_stats=1 corpus) >"$dir/log" 2>&1 || rc=$?
  local seeds done_line
  seeds=$(sed -n 's/.*INITED .*corp: \([0-9]*\)\/.*/\1/p' "$dir/log" | tail -1) || true
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1) || true
  if [ "$rc" -eq 0 ] && [ -n "$done_line" ]; then
    printf 'fuzz: %-18s ok      %3ss %9s runs %7s exec/s  cov %5s  corpus %s -> %s\n' "$t" "$seconds" \
      "$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$done_line")" "$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")" \
      "$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")" "${seeds:-?}" \
      "$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$done_line")" >"$dir/report"
  else
    [ "$rc" -ne 0 ] || rc=1
    {
      printf 'fuzz: %-18s FAILED  (exit %s); the report:\n' "$t" "$rc"
      # The sanitizer's or the invariant's report, without libFuzzer's progress lines.
      grep -vE '^(#[0-9]+|INFO:|MS: |base unit:|\s*NEW_FUNC|\s*$)' "$dir/log" | tail -n 60 | sed 's/^/    /'
      find "$findings" -type f -newer "$dir/started" -printf "    input: %p (replay: $BUILD_DIR/fuzz/$t %p)\n"
    } >"$dir/report"
  fi
  echo "$rc" >"$dir/rc"
}

# OSPREY_FUZZ_JOBS targets at a time (default 2, one per core): each still runs its full time, so running them
# side by side only shortens the wall-clock time of the whole stage.
parallel=${OSPREY_FUZZ_JOBS:-2}
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait

failed=()
for t in "${targets[@]}"; do
  cat "$work/$t/report" 2>/dev/null || echo "fuzz: $t did not report"
  [ "$(cat "$work/$t/rc" 2>/dev/null || echo 1)" = 0 ] || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
