#!/usr/bin/env bash
# Osprey against the real Prefect server, same machine, same run, same load generator (bench/api_bench):
# Osprey on SQLite (durable: synchronous=FULL, and synchronous=NORMAL as Prefect runs SQLite), Osprey on PostgreSQL,
# Prefect on SQLite (its default) and Prefect on PostgreSQL; one server at a time, each with a fresh home directory
# and database on free loopback ports. Prints side-by-side tables with ratios and stops everything it started; the
# raw JSON of every run, the servers' logs and CPU use stay in $OUT.
#
#   bench/run_comparison.sh [BUILD_DIR]          (default build-bench; it builds nothing)
#
# Build first (Release, the way the figures in docs/benchmarks.md were taken):
#   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DOSPREY_BUILD_TESTS=OFF
#   cmake --build build-bench --target osprey api_bench
# Settings (environment): CLIENTS="1 16" (one bench per level, same server), SECONDS_PER_RUN=20, WARMUP=3,
#   TASKS=5, LOGS=10, CONFIGS="osprey-sqlite osprey-sqlite-normal osprey-postgres prefect-sqlite prefect-postgres",
#   OUT=<dir>
#   (default: a new /tmp/osprey-comparison.* directory, kept). The Prefect server comes from .venv (created
#   with scripts/python-env.sh when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
build=${1:-build-bench}
osprey="$root/$build/osprey"
bench="$root/$build/bench/api_bench"
for exe in "$osprey" "$bench"; do
  [ -x "$exe" ] || { echo "run_comparison: $exe missing; build it first (see the header of $0)" >&2; exit 1; }
done
[ -x .venv/bin/prefect ] || scripts/python-env.sh
CLIENTS=${CLIENTS:-"1 16"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
WARMUP=${WARMUP:-3}
TASKS=${TASKS:-5}
LOGS=${LOGS:-10}
CONFIGS=${CONFIGS:-"osprey-sqlite osprey-sqlite-normal osprey-postgres prefect-sqlite prefect-postgres"}
OUT=${OUT:-$(mktemp -d /tmp/osprey-comparison.XXXXXX)}
mkdir -p "$OUT"
work=$(mktemp -d /tmp/osprey-comparison-work.XXXXXX)
[ "$(id -u)" -eq 0 ] && chmod 755 "$work"   # the postgres account must reach its cluster directory

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

server_ticks() { cpu_ticks $(ps -s "$server_pid" -o pid=); }  # the server's session: Prefect's CLI runs uvicorn as a child

start_server() {  # CONFIG PORT
  local config=$1 port=$2 home="$work/$1" log="$OUT/$1.server.log"
  mkdir -p "$home"
  case "$config" in
    osprey-sqlite)
      OSPREY_HOME="$home" setsid "$osprey" server start --host 127.0.0.1 --port "$port" --log-level warning \
        >"$log" 2>&1 &
      ;;
    osprey-sqlite-normal)  # like Prefect's SQLite setting: synchronous=NORMAL, no fsync per commit in WAL mode
      OSPREY_HOME="$home" OSPREY_DATABASE_SQLITE_SYNCHRONOUS=NORMAL setsid "$osprey" server start --host 127.0.0.1 \
        --port "$port" --log-level warning >"$log" 2>&1 &
      ;;
    osprey-postgres)
      local url; url=$(postgres_url osprey_bench)
      OSPREY_HOME="$home" setsid "$osprey" server start --host 127.0.0.1 --port "$port" --log-level warning \
        --database-url "$url" >"$log" 2>&1 &
      ;;
    prefect-sqlite|prefect-postgres)
      local db="sqlite+aiosqlite:///$home/prefect.db"
      if [ "$config" = prefect-postgres ]; then db=$(postgres_url prefect_bench); db="postgresql+asyncpg://${db#postgresql://}"; fi
      PREFECT_HOME="$home" PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_ENABLED=false \
        PREFECT_API_DATABASE_CONNECTION_URL="$db" PREFECT_LOGGING_LEVEL=WARNING \
        setsid "$root/.venv/bin/prefect" server start --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
      ;;
    *) echo "run_comparison: unknown configuration $config" >&2; exit 2 ;;
  esac
  server_pid=$!
  wait_healthy "http://127.0.0.1:$port/api" "$log"
}

{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
  echo "osprey: $("$osprey" --version 2>/dev/null || echo "$build/osprey") ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "prefect: $(.venv/bin/python -c 'import prefect; print(prefect.__version__)')"
  fsync_report "$work"
  echo "bench: clients ${CLIENTS}; ${SECONDS_PER_RUN} s after ${WARMUP} s warm-up; ${TASKS} tasks and ${LOGS} logs per flow run"
} | tee "$OUT/environment.txt"

case " $CONFIGS " in *-postgres*) start_postgres ;; esac
for config in $CONFIGS; do
  port=$(free_port)
  echo "== $config (port $port)" >&2
  start_server "$config" "$port"
  for clients in $CLIENTS; do
    echo "   $clients clients; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    server0=$(server_ticks) db0=$(db_ticks) wall0=$(date +%s.%N)
    # In the background and waited for, so that an interrupt stops the comparison at once (see cleanup).
    "$bench" --url "http://127.0.0.1:$port/api" --clients "$clients" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" \
      --tasks-per-run "$TASKS" --logs-per-run "$LOGS" --label "$config" --json \
      >"$OUT/$config.c$clients.json" 2>"$OUT/$config.c$clients.stderr" &
    bench_pid=$!
    wait "$bench_pid" || echo "   (api_bench reported a problem: $(tail -1 "$OUT/$config.c$clients.stderr"))" >&2
    bench_pid=""
    server1=$(server_ticks) db1=$(db_ticks) wall1=$(date +%s.%N)
    awk -v s=$((server1 - server0)) -v d=$((db1 - db0)) -v hz="$(getconf CLK_TCK)" -v w0="$wall0" -v w1="$wall1" \
      -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
        printf "{\"server_cpu_s\": %.2f, \"db_cpu_s\": %.2f, \"wall_s\": %.2f, \"loadavg_after\": \"%s\"}\n", s / hz, d / hz, w1 - w0, load }' \
      >"$OUT/$config.c$clients.cpu"
  done
  stop_server
done

.venv/bin/python - "$OUT" $CONFIGS <<'EOF'
import json, os, sys
out, configs = sys.argv[1], sys.argv[2:]
runs = {}
for name in sorted(os.listdir(out)):
    if name.endswith(".json"):
        config, clients = name[:-5].rsplit(".c", 1)
        run = json.load(open(os.path.join(out, name)))
        cpu = os.path.join(out, name[:-5] + ".cpu")
        if os.path.exists(cpu):
            run["cpu"] = json.load(open(cpu))
            run["cpu"]["cores"] = (run["cpu"]["server_cpu_s"] + run["cpu"]["db_cpu_s"]) / run["cpu"]["wall_s"]
        runs[(config, int(clients))] = run
rows = [
    ("flow runs/s (full lifecycle)", lambda r: r["flow_runs_per_s"], "hi"),
    ("flow-run transitions/s", lambda r: r["flow_run_transitions_per_s"], "hi"),
    ("  create p50 ms", lambda r: r["ops"]["flow_run_create"]["p50_ms"], "lo"),
    ("  create p99 ms", lambda r: r["ops"]["flow_run_create"]["p99_ms"], "lo"),
    ("  set_state p50 ms", lambda r: max(r["ops"]["set_state_running"]["p50_ms"], r["ops"]["set_state_completed"]["p50_ms"]), "lo"),
    ("  set_state p99 ms", lambda r: max(r["ops"]["set_state_running"]["p99_ms"], r["ops"]["set_state_completed"]["p99_ms"]), "lo"),
    ("task-run events sent/s", lambda r: r["events_sent_per_s"], "hi"),
    ("task-run events recorded/s", lambda r: r["events_recorded_per_s"], "hi"),
    ("  events sent→pong p50 ms", lambda r: r["ops"]["task_run_events"]["p50_ms"], None),
    ("  events sent→pong p99 ms", lambda r: r["ops"]["task_run_events"]["p99_ms"], None),
    ("  event→visible p50 ms", lambda r: r["ops"]["event_to_visible"]["p50_ms"], "lo"),
    ("  event→visible p99 ms", lambda r: r["ops"]["event_to_visible"]["p99_ms"], "lo"),
    ("  drain after last event s", lambda r: r["events_drain_s"], None),
    ("logs/s", lambda r: r["logs_per_s"], "hi"),
    ("  log batch p50 ms", lambda r: r["ops"]["logs_batch"]["p50_ms"], "lo"),
    ("  log batch p99 ms", lambda r: r["ops"]["logs_batch"]["p99_ms"], "lo"),
    ("errors (gave up)", lambda r: sum(o["errors"] for o in r["ops"].values()), None),
    ("retries (408/429/5xx)", lambda r: sum(o["retries"] for o in r["ops"].values()), None),
    ("task runs recorded / sent", lambda r: f"{r['task_runs_recorded'] if r['task_runs_recorded'] is not None else 'n/a'}/{r['task_runs_sent']}", None),
    ("server CPU (cores, incl. PostgreSQL)", lambda r: r["cpu"]["cores"], None),
    ("server CPU ms per flow run", lambda r: 1000 * r["cpu"]["cores"] / r["flow_runs_per_s"], "lo"),
    ("load average after", lambda r: r["cpu"]["loadavg_after"], None),
    ("client CPU (cores)", lambda r: r["client_cpu_cores"], None),
]
def fmt(v):
    if v is None: return "—"
    if isinstance(v, str): return v
    if isinstance(v, int): return str(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
def ratio(a, b, better):
    if better is None or not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not a or not b: return "—"
    return f"{a / b:.1f}×" if better == "hi" else f"{b / a:.1f}×"
levels = sorted({c for _, c in runs})
for clients in levels:
    present = [c for c in configs if (c, clients) in runs]
    candidates = [("osprey-sqlite", "prefect-sqlite"), ("osprey-sqlite-normal", "prefect-sqlite"),
                  ("osprey-postgres", "prefect-postgres")]
    if "prefect-postgres" not in present:
        candidates.append(("osprey-postgres", "prefect-sqlite"))
    pairs = [(o, p) for o, p in candidates if o in present and p in present]
    head = ["metric"] + present + [f"{o} ÷ {p}" for o, p in pairs]
    print(f"\n### {clients} client(s)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, get, better in rows:
        vals = {}
        for c in present:
            try: vals[c] = get(runs[(c, clients)])
            except (KeyError, TypeError): vals[c] = None
        cells = [label] + [fmt(vals[c]) for c in present] + [ratio(vals[o], vals[p], better) for o, p in pairs]
        print("| " + " | ".join(cells) + " |")
print(f"\n(ratios: higher is better for Osprey; for latencies the ratio is Prefect's / Osprey's. Raw JSON: {out})")
EOF
