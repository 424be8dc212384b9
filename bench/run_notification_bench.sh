#!/usr/bin/env bash
# Notification delivery benchmark (bench/notification_bench) on SQLite and PostgreSQL, REPEAT times each, one
# server at a time, each on a fresh database. Prints every run's figures; they stay in $OUT too.
#
#   bench/run_notification_bench.sh [BUILD_DIR]      (default build; it builds nothing)
#
# Build first:
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build --target osprey notification_bench
# Settings (environment): CONFIGS="sqlite postgres", REPEAT=2, RUNS=10000, RATE=1000, CONNECTIONS=64, SETTLE=35,
#   AUTOMATIONS=0 (N > 0: through N loaded automations and a call-webhook action instead of a policy),
#   PG_URL=<maintenance URL of a PostgreSQL server> (default: a throwaway cluster from scripts/test-postgres.sh
#   on a free loopback port, stopped at the end), OUT=<dir> (default: a new /tmp/osprey-notification-bench.*).
# `sqlite` is synchronous=FULL (the default); add `sqlite-normal` for OSPREY_DATABASE_SQLITE_SYNCHRONOUS=NORMAL.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
build=${1:-build}
bench="$root/$build/bench/notification_bench"
osprey="$root/$build/osprey"
for exe in "$osprey" "$bench"; do
  [ -x "$exe" ] || { echo "run_notification_bench: $exe missing; build it first (see the header of $0)" >&2; exit 1; }
done
CONFIGS=${CONFIGS:-"sqlite postgres"}
REPEAT=${REPEAT:-2}
RUNS=${RUNS:-10000}
RATE=${RATE:-1000}
CONNECTIONS=${CONNECTIONS:-64}
SETTLE=${SETTLE:-35}
AUTOMATIONS=${AUTOMATIONS:-0}
OUT=${OUT:-$(mktemp -d /tmp/osprey-notification-bench.XXXXXX)}
mkdir -p "$OUT"

pg_admin=${PG_URL:-}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

case " $CONFIGS " in
  *" postgres "*)
    if [ -z "$pg_admin" ]; then
      work=$(mktemp -d /tmp/osprey-notification-bench-pg.XXXXXX)
      [ "$(id -u)" -eq 0 ] && chmod 755 "$work"   # the postgres account must reach its cluster directory
      start_postgres
    fi
    ;;
esac

{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "osprey: $("$osprey" --version 2>/dev/null || echo "$build/osprey") ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  probe=$(mktemp -d /tmp/osprey-fsync-probe.XXXXXX)
  fsync_report "$probe"
  rm -rf "$probe"
  echo "bench: $RUNS runs at $RATE/s, $CONNECTIONS connections, settle $SETTLE s, automations $AUTOMATIONS; configs: $CONFIGS; $REPEAT time(s) each"
} | tee "$OUT/environment.txt"

status=0
for config in $CONFIGS; do
  for i in $(seq "$REPEAT"); do
    args=(--runs "$RUNS" --rate "$RATE" --connections "$CONNECTIONS" --settle "$SETTLE" --osprey "$osprey"
          --automations "$AUTOMATIONS")
    env_extra=()
    case "$config" in
      sqlite) ;;
      sqlite-normal) env_extra=(OSPREY_DATABASE_SQLITE_SYNCHRONOUS=NORMAL) ;;
      postgres)
        psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS osprey_notification_bench" \
          -c "CREATE DATABASE osprey_notification_bench" >/dev/null
        args+=(--database-url "${pg_admin%/*}/osprey_notification_bench")
        ;;
      *) echo "run_notification_bench: unknown configuration $config" >&2; exit 2 ;;
    esac
    echo "== $config, run $i of $REPEAT; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/$config.$i.txt"
    env "${env_extra[@]}" "$bench" "${args[@]}" 2>&1 | tee -a "$OUT/$config.$i.txt" || status=1
    if [ "$config" = postgres ]; then
      psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS osprey_notification_bench" >/dev/null || true
    fi
  done
done
echo "(every run's output: $OUT)"
exit "$status"
