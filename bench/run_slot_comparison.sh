#!/usr/bin/env bash
# Slot contention, Osprey against the real Prefect server on this machine: bench/slot_bench (64 clients on one v2
# global concurrency limit of 8 by default) against each server in turn, each with a fresh home directory and
# SQLite database on a free loopback port. Prints a side-by-side table with ratios and stops everything it
# started; the raw JSON and the servers' logs stay in $OUT.
#
#   bench/run_slot_comparison.sh [BUILD_DIR]          (default build; it builds nothing)
#
# Build first: cmake --build build --target osprey slot_bench
# Settings (environment): CLIENTS=64 LIMIT=8 HOLD_MS=10 SECONDS_PER_RUN=20 WARMUP=3
#   CONFIGS="osprey-sqlite osprey-sqlite-normal prefect-sqlite" OUT=<dir> (default: a new /tmp/osprey-slots.* dir)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
build=${1:-build}
osprey="$root/$build/osprey"
bench="$root/$build/bench/slot_bench"
for exe in "$osprey" "$bench"; do
  [ -x "$exe" ] || { echo "run_slot_comparison: $exe missing; build it first (see the header of $0)" >&2; exit 1; }
done
[ -x .venv/bin/prefect ] || { echo "run_slot_comparison: .venv/bin/prefect missing (scripts/python-env.sh)" >&2; exit 1; }
CLIENTS=${CLIENTS:-64}
LIMIT=${LIMIT:-8}
HOLD_MS=${HOLD_MS:-10}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
WARMUP=${WARMUP:-3}
CONFIGS=${CONFIGS:-"osprey-sqlite osprey-sqlite-normal prefect-sqlite"}
OUT=${OUT:-$(mktemp -d /tmp/osprey-slots.XXXXXX)}
mkdir -p "$OUT"
work=$(mktemp -d /tmp/osprey-slots-work.XXXXXX)

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

start_server() {  # CONFIG PORT
  local config=$1 port=$2 home="$work/$1" log="$OUT/$1.server.log"
  mkdir -p "$home"
  case "$config" in
    osprey-sqlite)
      OSPREY_HOME="$home" setsid "$osprey" server start --host 127.0.0.1 --port "$port" --log-level warning \
        >"$log" 2>&1 &
      ;;
    osprey-sqlite-normal)  # Prefect's SQLite setting: no fsync per commit in WAL mode
      OSPREY_HOME="$home" OSPREY_DATABASE_SQLITE_SYNCHRONOUS=NORMAL setsid "$osprey" server start --host 127.0.0.1 \
        --port "$port" --log-level warning >"$log" 2>&1 &
      ;;
    prefect-sqlite)
      PREFECT_HOME="$home" PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_ENABLED=false \
        PREFECT_API_DATABASE_CONNECTION_URL="sqlite+aiosqlite:///$home/prefect.db" PREFECT_LOGGING_LEVEL=WARNING \
        setsid "$root/.venv/bin/prefect" server start --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
      ;;
    *) echo "run_slot_comparison: unknown configuration $config" >&2; exit 2 ;;
  esac
  server_pid=$!
  wait_healthy "http://127.0.0.1:$port/api" "$log"
}

{
  echo "host: $(nproc) cores, $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "osprey: $build/osprey ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "prefect: $(.venv/bin/python -c 'import prefect; print(prefect.__version__)')"
  echo "bench: $CLIENTS clients, limit $LIMIT, hold $HOLD_MS ms; $SECONDS_PER_RUN s after $WARMUP s warm-up"
} | tee "$OUT/environment.txt"

for config in $CONFIGS; do
  port=$(free_port)
  echo "== $config (port $port); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  start_server "$config" "$port"
  # In the background and waited for, so that an interrupt stops the comparison at once (see cleanup).
  "$bench" --url "http://127.0.0.1:$port/api" --clients "$CLIENTS" --limit "$LIMIT" --hold-ms "$HOLD_MS" \
    --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" --label "$config" --json \
    >"$OUT/$config.json" 2>"$OUT/$config.stderr" &
  bench_pid=$!
  wait "$bench_pid" || echo "   (slot_bench reported a problem: $(tail -1 "$OUT/$config.stderr"))" >&2
  bench_pid=""
  stop_server
done

.venv/bin/python - "$OUT" $CONFIGS <<'PY'
import json, os, sys
out, configs = sys.argv[1], sys.argv[2:]
runs = {c: json.load(open(os.path.join(out, c + ".json"))) for c in configs if os.path.getsize(os.path.join(out, c + ".json"))}
rows = [
    ("acquisitions/s", lambda r: r["acquisitions_per_s"], "hi"),
    ("423 answers per acquisition", lambda r: r["refusals_per_acquisition"], None),
    ("wait p50 ms (first ask → granted)", lambda r: r["wait"]["p50_ms"], "lo"),
    ("wait p99 ms", lambda r: r["wait"]["p99_ms"], "lo"),
    ("wait max ms", lambda r: r["wait"]["max_ms"], "lo"),
    ("increment-with-lease p50 ms", lambda r: r["increment_with_lease"]["p50_ms"], "lo"),
    ("increment-with-lease p99 ms", lambda r: r["increment_with_lease"]["p99_ms"], "lo"),
    ("decrement-with-lease p99 ms", lambda r: r["decrement_with_lease"]["p99_ms"], "lo"),
    ("fairness: Jain index of acquisitions per client", lambda r: r["fairness"]["jain_index"], None),
    ("fairness: acquisitions per client min–max", lambda r: f'{r["fairness"]["min_acquisitions"]:.0f}–{r["fairness"]["max_acquisitions"]:.0f}', None),
    ("fairness: mean wait, slowest ÷ fastest client", lambda r: r["fairness"]["mean_wait_max_over_min"], None),
    ("most slots held at once", lambda r: r["max_slots_held"], None),
    ("requests given up after 5 retries", lambda r: r["errors"], None),
    ("retries (408/429/502/503, transport)", lambda r: r["retries"], None),
]
def fmt(v):
    if isinstance(v, str): return v
    if isinstance(v, int): return str(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
present = [c for c in configs if c in runs]
pairs = [(o, "prefect-sqlite") for o in present if o.startswith("osprey") and "prefect-sqlite" in present]
head = ["metric"] + present + [f"{o} ÷ prefect-sqlite" for o, _ in pairs]
print("\n| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for label, get, better in rows:
    vals = {c: get(runs[c]) for c in present}
    ratios = []
    for o, p in pairs:
        a, b = vals[o], vals[p]
        ratios.append("—" if better is None or not a or not b else (f"{a / b:.1f}×" if better == "hi" else f"{b / a:.1f}×"))
    print("| " + " | ".join([label] + [fmt(vals[c]) for c in present] + ratios) + " |")
print(f"\n(ratios: higher favours Osprey; for latencies Prefect's ÷ Osprey's. Raw JSON: {out})")
PY
