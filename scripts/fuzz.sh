#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with Clang into build-fuzz/ (only the libraries they link) and runs each
# for a bounded time on a copy of its seed corpus, so that runs never write into the repository. Any crash,
# sanitizer report, leak, timeout or out-of-memory fails the script; one summary line per target.
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

command -v clang++-14 >/dev/null || { echo "fuzz: clang++-14 not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DOSPREY_BUILD_FUZZ=ON -DOSPREY_BUILD_TESTS=OFF -DOSPREY_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

work=$(mktemp -d "${TMPDIR:-/tmp}/osprey-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${targets[@]}"; do
  findings="$PWD/$BUILD_DIR/findings/$t"
  mkdir -p "$work/$t/corpus" "$findings"
  cp fuzz/corpus/"$t"/* "$work/$t/corpus/"
  log="$work/$t/log"
  touch "$work/$t/started"
  rc=0
  # From the scratch dir: libFuzzer may drop files (fuzz-*.log, crash inputs) in its working directory.
  (cd "$work/$t" && "$OLDPWD/$BUILD_DIR/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/" -print_final_stats=1 corpus) >"$log" 2>&1 || rc=$?
  seeds=$(sed -n 's/.*INITED .*corp: \([0-9]*\)\/.*/\1/p' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$done_line")
    speed=$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$done_line")
    printf 'fuzz: %-18s ok      %3ss %9s runs %7s exec/s  cov %5s  corpus %s -> %s\n' \
      "$t" "$seconds" "$runs" "$speed" "$cov" "${seeds:-?}" "$corp"
  else
    failed+=("$t")
    printf 'fuzz: %-18s FAILED  (exit %s) after %ss; the report:\n' "$t" "$rc" "$seconds"
    # The sanitizer's or the invariant's report, without libFuzzer's progress lines.
    grep -vE '^(#[0-9]+|INFO:|MS: |base unit:|\s*NEW_FUNC|\s*$)' "$log" | tail -n 60 | sed 's/^/    /'
    find "$findings" -type f -newer "$work/$t/started" -printf "    input: %p (replay: $BUILD_DIR/fuzz/$t %p)\n"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
