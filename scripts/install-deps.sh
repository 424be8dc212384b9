#!/usr/bin/env bash
# Installs the Debian 12 packages Osprey needs to build, test and benchmark, skipping those already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  ccache   # compiled objects reused across builds and clean clones (CMakeLists.txt)
  libcaf-dev libboost1.81-dev libsqlitecpp-dev libsqlite3-dev sqlite3 libpqxx-dev libpq-dev
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev zlib1g-dev
  libsimdjson-dev   # validates and reads client JSON several times faster than nlohmann's lexer (domain/json_text.cpp)
  libhowardhinnant-date-dev tzdata   # time zones for deployment schedules
  libical-dev   # RFC 5545 recurrence rules (RRule schedules)
  libgoogle-perftools-dev   # tcmalloc, the osprey executable's allocator (OSPREY_MALLOC in cmake/Dependencies.cmake)
  libgtest-dev libgmock-dev
  clang-14 libclang-rt-14-dev   # the fuzz targets (libFuzzer and Clang's sanitizer runtimes; scripts/fuzz.sh)
  clang-format-14   # the layout every C++ file keeps (.clang-format; the format_check test)
  postgresql postgresql-contrib
  haproxy   # the load balancer in front of several servers in the cluster test (tests/blackbox/cluster_test.cpp)
  python3 python3-venv   # the real Prefect client for the compatibility tests
  chromium fonts-liberation   # the headless browser of the UI test (compat/test_ui.py)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
# libboost1.81-dev conflicts with the 1.74 meta package; the trailing '-' removes it if present.
extra=()
if dpkg-query -W -f='${Status}' libboost1.74-dev 2>/dev/null | grep -q "install ok installed"; then
  extra+=(libboost1.74-dev- libboost-dev-)
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" "${extra[@]}"
