#!/usr/bin/env bash
# Deployments and workers, Osprey against the real Prefect server on this machine: bench/poll_bench's phases
# against each server in turn, every phase on a freshly started server with a fresh home directory and database
# on a free loopback port. Prints side-by-side tables with ratios and stops everything it started; the raw JSON
# and the servers' logs stay in $OUT.
#
#   bench/run_poll_comparison.sh [BUILD_DIR]          (default build; it builds nothing)
#
# Build first: cmake --build build --target osprey poll_bench
# Phases (PHASES="scheduler poll saturate"):
#   scheduler  DEPLOYMENTS (1000) deployments with a 60 s interval schedule: time until every one has its runs,
#              runs/s, server CPU per created run, lag from a deployment's creation to its first run;
#   poll       WORKERS (200) workers polling get_scheduled_flow_runs every POLL_INTERVAL (1) s for POLL_SECONDS
#              (60) while CREATE_RATE (20) runs/s are created and driven Pending → Running → Completed;
#   saturate   the same workers polling back to back for SATURATE_SECONDS (20), with SATURATE_CREATE_RATE (0)
#              runs/s: the most polls/s each server answers. (With runs flowing, every worker polling back to
#              back sees every new run and proposes Pending for it: the claim storm, not the poll, is measured.)
# Settings (environment): the above, SCHEDULER_LOOP_SECONDS=60 (both servers' scheduler loop),
#   CONFIGS="osprey-sqlite osprey-postgres prefect-sqlite", OUT=<dir> (default: a new /tmp/osprey-poll.* dir),
#   PREFECT_LOG_503=true (Prefect logs why it answered 503, e.g. "database is locked"; off: it costs it CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
build=${1:-build}
osprey="$root/$build/osprey"
bench="$root/$build/bench/poll_bench"
for exe in "$osprey" "$bench"; do
  [ -x "$exe" ] || { echo "run_poll_comparison: $exe missing; build it first (see the header of $0)" >&2; exit 1; }
done
[ -x .venv/bin/prefect ] || { echo "run_poll_comparison: .venv/bin/prefect missing (scripts/python-env.sh)" >&2; exit 1; }
PHASES=${PHASES:-"scheduler poll saturate"}
DEPLOYMENTS=${DEPLOYMENTS:-1000}
WORKERS=${WORKERS:-200}
POLL_INTERVAL=${POLL_INTERVAL:-1}
POLL_SECONDS=${POLL_SECONDS:-60}
SATURATE_SECONDS=${SATURATE_SECONDS:-20}
CREATE_RATE=${CREATE_RATE:-20}
SATURATE_CREATE_RATE=${SATURATE_CREATE_RATE:-0}
SCHEDULER_LOOP_SECONDS=${SCHEDULER_LOOP_SECONDS:-60}
CONFIGS=${CONFIGS:-"osprey-sqlite osprey-postgres prefect-sqlite"}
OUT=${OUT:-$(mktemp -d /tmp/osprey-poll.XXXXXX)}
mkdir -p "$OUT"
work=$(mktemp -d /tmp/osprey-poll-work.XXXXXX)
[ "$(id -u)" -eq 0 ] && chmod 755 "$work"   # the postgres account must reach its cluster directory

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

postmaster_pid() { [ -n "$pg_dir" ] && head -1 "$pg_dir/data/postmaster.pid" || true; }

start_server() {  # CONFIG PHASE PORT: a fresh home and database for each phase
  local config=$1 phase=$2 port=$3 home="$work/$1.$2" log="$OUT/$1.$2.server.log"
  mkdir -p "$home"
  case "$config" in
    osprey-sqlite|osprey-postgres)
      local db=()
      [ "$config" = osprey-postgres ] && db=(--database-url "$(postgres_url "osprey_$phase")")
      OSPREY_HOME="$home" OSPREY_SERVICES_SCHEDULER_LOOP_SECONDS="$SCHEDULER_LOOP_SECONDS" setsid "$osprey" server start \
        --host 127.0.0.1 --port "$port" --log-level warning "${db[@]}" >"$log" 2>&1 &
      ;;
    prefect-sqlite)  # PREFECT_LOG_503=true logs each 503's cause (a traceback each: it slows the server down)
      PREFECT_HOME="$home" PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_ENABLED=false \
        PREFECT_API_DATABASE_CONNECTION_URL="sqlite+aiosqlite:///$home/prefect.db" PREFECT_LOGGING_LEVEL=WARNING \
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="$SCHEDULER_LOOP_SECONDS" \
        PREFECT_SERVER_LOG_RETRYABLE_ERRORS="${PREFECT_LOG_503:-false}" \
        setsid "$root/.venv/bin/prefect" server start --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
      ;;
    *) echo "run_poll_comparison: unknown configuration $config" >&2; exit 2 ;;
  esac
  server_pid=$!
  wait_healthy "http://127.0.0.1:$port/api" "$log"
}

{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "osprey: $build/osprey ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "prefect: $(.venv/bin/python -c 'import prefect; print(prefect.__version__)')"
  echo "scheduler loop: ${SCHEDULER_LOOP_SECONDS} s on both servers (Prefect also runs its recent-deployments loop every 5 s;"
  echo "  Osprey also sweeps after every deployment change); min_runs 3, min time 1 h, max_runs 100 (both defaults)"
  echo "bench: $DEPLOYMENTS deployments; $WORKERS workers polling every $POLL_INTERVAL s for $POLL_SECONDS s at $CREATE_RATE runs/s;"
  echo "  saturation $SATURATE_SECONDS s back to back at $SATURATE_CREATE_RATE runs/s; phases: $PHASES"
} | tee "$OUT/environment.txt"

case " $CONFIGS " in *-postgres*) start_postgres ;; esac
for config in $CONFIGS; do
  for phase in $PHASES; do
    port=$(free_port)
    echo "== $config $phase (port $port); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    start_server "$config" "$phase" "$port"
    pids=(--server-pid "$server_pid")
    [ "$config" = osprey-postgres ] && pids+=(--server-pid "$(postmaster_pid)")
    case "$phase" in
      scheduler) args=(--phase scheduler --deployments "$DEPLOYMENTS") ;;
      poll) args=(--phase poll --workers "$WORKERS" --poll-interval "$POLL_INTERVAL" --seconds "$POLL_SECONDS"
                  --create-rate "$CREATE_RATE") ;;
      saturate) args=(--phase poll --workers "$WORKERS" --poll-interval 0 --seconds "$SATURATE_SECONDS"
                      --create-rate "$SATURATE_CREATE_RATE") ;;
      *) echo "run_poll_comparison: unknown phase $phase" >&2; exit 2 ;;
    esac
    # In the background and waited for, so that an interrupt stops the comparison at once (see cleanup).
    "$bench" --url "http://127.0.0.1:$port/api" "${args[@]}" "${pids[@]}" --label "$config" --json \
      >"$OUT/$config.$phase.json" 2>"$OUT/$config.$phase.stderr" &
    bench_pid=$!
    wait "$bench_pid" || echo "   (poll_bench reported a problem: $(tail -1 "$OUT/$config.$phase.stderr"))" >&2
    bench_pid=""
    echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/$config.$phase.stderr" >&2
    stop_server
  done
done

.venv/bin/python - "$OUT" "$CONFIGS" "$PHASES" <<'PY'
import json, os, sys
out, configs, phases = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def load(config, phase):
    path = os.path.join(out, f"{config}.{phase}.json")
    return json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else None
L = lambda key, stat: (lambda r: r[key][stat] if r[key]["count"] else None)  # "—" when nothing was measured
tables = {
    "scheduler": [
        ("deployment creation s", lambda r: r["creation_s"], None),
        ("deployments sent again after 5 failed retries", lambda r: r["creations_resent"], None),
        ("catch-up: last creation → all scheduled, s", lambda r: r["catch_up_s"], "lo"),
        ("first creation → all scheduled, s", lambda r: r["total_s"], "lo"),
        ("runs created", lambda r: r["runs_created"], None),
        ("runs per deployment", lambda r: r["runs_per_deployment"], None),
        ("runs created/s", lambda r: r["runs_created_per_s"], "hi"),
        ("server CPU s (first creation → done)", lambda r: r["server_cpu_s"], None),
        ("server CPU ms per created run", lambda r: r["server_cpu_ms_per_run"], "lo"),
        ("runs created after the last creation", lambda r: r["runs_after_last"], None),
        ("  server CPU ms per run, that window", lambda r: r["server_cpu_ms_per_run_after_last"], "lo"),
        ("lag p50 ms (deployment → first run)", L("lag", "p50_ms"), "lo"),
        ("lag p99 ms", L("lag", "p99_ms"), "lo"),
        ("lag max ms", L("lag", "max_ms"), "lo"),
        ("create deployment p50 ms", L("create_deployment", "p50_ms"), "lo"),
        ("create deployment p99 ms", L("create_deployment", "p99_ms"), "lo"),
        ("deployments below min_runs", lambda r: r["deployments_below_min"], None),
    ],
    "poll": [
        ("polls/s (offered)", lambda r: f'{r["polls_per_s"]:.1f} ({r["polls_offered_per_s"]:.0f})', None),
        ("poll p50 ms", L("poll", "p50_ms"), "lo"),
        ("poll p99 ms", L("poll", "p99_ms"), "lo"),
        ("poll max ms", L("poll", "max_ms"), "lo"),
        ("heartbeat p99 ms", L("heartbeat", "p99_ms"), "lo"),
        ("runs created/s (target)", lambda r: f'{r["runs_created_per_s"]:.1f} ({r["create_rate_target"]:g})', None),
        ("create_flow_run p99 ms", L("create_flow_run", "p99_ms"), "lo"),
        ("pickup p50 ms (created → Pending)", L("pickup", "p50_ms"), "lo"),
        ("pickup p99 ms", L("pickup", "p99_ms"), "lo"),
        ("set_state PENDING p99 ms", L("set_state_pending", "p99_ms"), "lo"),
        ("set_state RUNNING/COMPLETED p99 ms", lambda r: max(r["set_state_running"]["p99_ms"], r["set_state_completed"]["p99_ms"]), "lo"),
        ("runs created / claimed / completed", lambda r: f'{r["runs_created"]} / {r["runs_claimed"]} / {r["runs_completed"]}', None),
        ("claim conflicts (ABORT on Pending)", lambda r: r["claim_conflicts"], None),
        ("server CPU (cores)", lambda r: r["server_cpu_cores"], None),
        ("server CPU ms per poll (all work)", lambda r: r["server_cpu_ms_per_poll"], "lo"),
        ("client CPU (cores)", lambda r: r["client_cpu_cores"], None),
    ],
}
tables["saturate"] = [row for row in tables["poll"] if not row[0].startswith("polls/s")]
tables["saturate"].insert(0, ("polls/s (back to back)", lambda r: r["polls_per_s"], "hi"))
common = [
    ("5xx answers", lambda r: r["answers_5xx"], None),
    ("retries / given up", lambda r: f'{r["retries"]} / {r["requests_given_up"]}', None),
    ("passed", lambda r: "yes" if r["ok"] else "NO: " + r.get("failure", "5xx"), None),
]
def fmt(v):
    if v is None: return "—"
    if isinstance(v, str): return v
    if isinstance(v, bool): return str(v)
    if isinstance(v, int): return f"{v:,}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
def ratio(a, b, better):
    if better is None or not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not a or not b: return "—"
    return f"{a / b:.1f}×" if better == "hi" else f"{b / a:.1f}×"
for phase in phases:
    runs = {c: load(c, phase) for c in configs}
    present = [c for c in configs if runs[c]]
    if not present: continue
    pairs = [(o, "prefect-sqlite") for o in present if o.startswith("osprey") and "prefect-sqlite" in present]
    head = ["metric"] + present + [f"{o} ÷ prefect-sqlite" for o, _ in pairs]
    print(f"\n### {phase}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, get, better in tables[phase] + common:
        vals = {}
        for c in present:
            try: vals[c] = get(runs[c])
            except (KeyError, TypeError): vals[c] = None
        print("| " + " | ".join([label] + [fmt(vals[c]) for c in present] + [ratio(vals[o], vals[p], better) for o, p in pairs]) + " |")
print(f"\n(ratios: higher favours Osprey; for latencies and costs Prefect's ÷ Osprey's. Raw JSON: {out})")
PY
