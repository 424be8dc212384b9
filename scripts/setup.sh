#!/usr/bin/env bash
# The README's two commands:
#   scripts/setup.sh run    install what is missing, build, install the UI, start the server (SQLite at
#                           ~/.osprey/osprey.db, the UI at http://127.0.0.1:4200/)
#   scripts/setup.sh test   install what is missing, build, start a throwaway PostgreSQL, run every test
#                           on SQLite and PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
shift || true
# Each stage says when it starts, in minutes:seconds since the start, so a slow CI run shows where time went.
stage() { printf 'setup: [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

stage "installing packages"
scripts/install-deps.sh
# The pinned Prefect client: the compatibility tests need it (create the venv before configuring so ctest sees
# it), and its package carries the UI bundles the server serves.
stage "Python environment"
scripts/python-env.sh
stage "building"
command -v ccache >/dev/null && ccache --zero-stats >/dev/null 2>&1 || true
scripts/build.sh
stage "built"
command -v ccache >/dev/null && ccache --show-stats 2>/dev/null | grep -iE 'hits|misses' | sed 's/^/setup: ccache /' || true

case "$mode" in
  run)
    scripts/prepare-ui.sh   # into $OSPREY_HOME/ui, where the server looks by default
    exec build/osprey server start "$@"
    ;;
  test)
    pgdir=$(mktemp -d /tmp/osprey-test-pg.XXXXXX)
    chmod 755 "$pgdir"
    port=${OSPREY_TEST_PG_PORT:-55432}
    trap 'scripts/test-postgres.sh stop "$pgdir/cluster"; rm -rf "$pgdir"' EXIT
    OSPREY_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$pgdir/cluster" "$port")
    export OSPREY_TEST_POSTGRES_URL
    echo "setup: PostgreSQL for tests at $OSPREY_TEST_POSTGRES_URL"
    # OSPREY_REQUIRE_POSTGRES makes PostgreSQL tests fail instead of skipping if the server is unreachable.
    export OSPREY_REQUIRE_POSTGRES=1
    stage "tests"
    ctest --test-dir build --output-on-failure -j "${JOBS:-2}" --timeout 300 "$@"
    # The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (OSPREY_SKIP_SANITIZERS=1 skips).
    stage "sanitizer build and tests"
    [ "${OSPREY_SKIP_SANITIZERS:-0}" = 1 ] || scripts/sanitize.sh
    stage "fuzzing"
    # The libFuzzer targets, briefly each (scripts/fuzz.sh, into build-fuzz/; OSPREY_SKIP_FUZZ=1 skips).
    [ "${OSPREY_SKIP_FUZZ:-0}" = 1 ] || scripts/fuzz.sh
    stage "all tests passed"
    ;;
  *)
    echo "usage: scripts/setup.sh run|test [args]" >&2
    exit 2
    ;;
esac
