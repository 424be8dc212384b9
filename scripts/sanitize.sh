#!/usr/bin/env bash
# Builds the tests with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan and runs them
# (everything but the Prefect-client compatibility suite and the schemathesis run, which the normal build covers).
# Needs OSPREY_TEST_POSTGRES_URL for the PostgreSQL cases (scripts/setup.sh test provides it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-asan BUILD_TYPE=Debug OSPREY_SANITIZE=ON OSPREY_BUILD_BENCH=OFF scripts/build.sh
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure -j "${JOBS:-2}" --timeout 600 -E '^(compat|api_fuzz)_'
