#!/usr/bin/env bash
# Configures and builds Osprey into ./build (the executable is build/osprey).
# BUILD_TYPE (default RelWithDebInfo), OSPREY_SANITIZE=ON and OSPREY_BUILD_BENCH=OFF are honoured; JOBS defaults to 2
# (each Beast translation unit needs about 1 GiB of memory).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DOSPREY_SANITIZE="${OSPREY_SANITIZE:-OFF}" -DOSPREY_BUILD_BENCH="${OSPREY_BUILD_BENCH:-ON}" >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}"
