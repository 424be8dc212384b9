#!/usr/bin/env bash
# Several Osprey servers on one PostgreSQL: the same load (bench/api_bench: full flow-run lifecycles with task-run
# events and logs) through HAProxy in front of 1, 2 and 3 servers, one fresh database each time.
# Prints throughput, latency and where the CPU went (servers, PostgreSQL, HAProxy), with each figure's ratio to
# one server. On a machine with few cores the servers share them with PostgreSQL and the load generator, so the
# curve shows what a second server costs and whether it helps here, not what it gives on separate machines.
#
#   bench/run_cluster_bench.sh [BUILD_DIR]          (default build-bench; it builds nothing)
#
# Build first: cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DOSPREY_BUILD_TESTS=OFF
#              cmake --build build-bench --target osprey api_bench
# Settings (environment): SERVERS="1 2 3", CLIENTS=16, SECONDS_PER_RUN=20, WARMUP=3, TASKS=5, LOGS=10, OUT=<dir>,
# BALANCE="uri depth 3" (HAProxy's balance algorithm: by default each run's requests go to one server, chosen by
# the first three levels of the path, /api/flow_runs/<id>; "roundrobin" spreads every request),
# (default: a new /tmp/osprey-cluster-bench.* directory, kept with the raw JSON and the servers' logs).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
build=${1:-build-bench}
osprey="$root/$build/osprey"
bench="$root/$build/bench/api_bench"
for exe in "$osprey" "$bench" /usr/sbin/haproxy; do
  [ -x "$exe" ] || { echo "run_cluster_bench: $exe missing (build it, or scripts/install-deps.sh for haproxy)" >&2; exit 1; }
done
SERVERS=${SERVERS:-"1 2 3"}
CLIENTS=${CLIENTS:-16}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
WARMUP=${WARMUP:-3}
TASKS=${TASKS:-5}
LOGS=${LOGS:-10}
BALANCE=${BALANCE:-"uri depth 3"}
OUT=${OUT:-$(mktemp -d /tmp/osprey-cluster-bench.XXXXXX)}
mkdir -p "$OUT"
work=$(mktemp -d /tmp/osprey-cluster-bench-work.XXXXXX)
[ "$(id -u)" -eq 0 ] && chmod 755 "$work"   # the postgres account must reach its cluster directory

server_pids=()
lb_pid=""
stop_all() {
  [ -n "$lb_pid" ] && { kill "$lb_pid" 2>/dev/null || true; wait "$lb_pid" 2>/dev/null || true; lb_pid=""; }
  local pid
  for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  server_pids=()
}
cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null || true
  stop_all
  bench_cleanup  # the PostgreSQL cluster and $work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_postgres
{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
  echo "osprey: $(git rev-parse --short HEAD 2>/dev/null || echo '?'); haproxy: $(/usr/sbin/haproxy -v | head -1)"
  echo "bench: $CLIENTS clients through HAProxy (balance $BALANCE); ${SECONDS_PER_RUN} s after ${WARMUP} s warm-up; ${TASKS} tasks and ${LOGS} logs per flow run"
} | tee "$OUT/environment.txt"

for n in $SERVERS; do
  echo "== $n server(s)" >&2
  url=$(postgres_url osprey_cluster)
  home="$work/home-$n"   # one home: the servers of one database share its block-secrets key
  mkdir -p "$home"
  backends=""
  for i in $(seq "$n"); do
    port=$(free_port)
    log="$OUT/servers$n.s$i.log"
    OSPREY_HOME="$home" "$osprey" server start --host 127.0.0.1 --port "$port" --log-level warning \
      --database-url "$url" >"$log" 2>&1 &
    server_pids+=($!)
    wait_healthy "http://127.0.0.1:$port/api" "$log" "$!" 60
    backends+="  server s$i 127.0.0.1:$port check"$'\n'
  done
  lb_port=$(free_port)
  cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout tunnel 120s
  retries 3
  option redispatch
frontend api
  bind 127.0.0.1:$lb_port
  default_backend osprey
backend osprey
  balance $BALANCE
  option httpchk GET /api/health
$backends
CFG
  /usr/sbin/haproxy -db -f "$work/haproxy.cfg" >"$OUT/servers$n.haproxy.log" 2>&1 &
  lb_pid=$!
  wait_healthy "http://127.0.0.1:$lb_port/api" "$OUT/servers$n.haproxy.log" "$lb_pid" 60
  servers0=$(cpu_ticks "${server_pids[@]}") db0=$(db_ticks) lb0=$(cpu_ticks "$lb_pid") wall0=$(date +%s.%N)
  "$bench" --url "http://127.0.0.1:$lb_port/api" --clients "$CLIENTS" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" \
    --tasks-per-run "$TASKS" --logs-per-run "$LOGS" --label "servers$n" --json \
    >"$OUT/servers$n.json" 2>"$OUT/servers$n.stderr" &
  bench_pid=$!
  wait "$bench_pid" || echo "   (api_bench reported a problem: $(tail -1 "$OUT/servers$n.stderr"))" >&2
  bench_pid=""
  servers1=$(cpu_ticks "${server_pids[@]}") db1=$(db_ticks) lb1=$(cpu_ticks "$lb_pid") wall1=$(date +%s.%N)
  awk -v s=$((servers1 - servers0)) -v d=$((db1 - db0)) -v l=$((lb1 - lb0)) -v hz="$(getconf CLK_TCK)" \
    -v w0="$wall0" -v w1="$wall1" 'BEGIN {
      printf "{\"servers_cpu_s\": %.2f, \"db_cpu_s\": %.2f, \"lb_cpu_s\": %.2f, \"wall_s\": %.2f}\n", s / hz, d / hz, l / hz, w1 - w0 }' \
    >"$OUT/servers$n.cpu"
  stop_all
done

python3 - "$OUT" $SERVERS <<'EOF'
import json, os, sys
out, levels = sys.argv[1], [int(n) for n in sys.argv[2:]]
runs = {}
for n in levels:
    path = os.path.join(out, f"servers{n}.json")
    if not os.path.exists(path): continue
    run = json.load(open(path))
    cpu = json.load(open(os.path.join(out, f"servers{n}.cpu")))
    run["cpu"] = {k: v / cpu["wall_s"] for k, v in cpu.items() if k != "wall_s"}
    runs[n] = run
def p99(r, *ops): return max(r["ops"][o]["p99_ms"] for o in ops)
rows = [
    ("flow runs/s (full lifecycle)", lambda r: r["flow_runs_per_s"], "hi"),
    ("flow-run transitions/s", lambda r: r["flow_run_transitions_per_s"], "hi"),
    ("  set_state p99 ms", lambda r: p99(r, "set_state_running", "set_state_completed"), "lo"),
    ("  create p99 ms", lambda r: p99(r, "flow_run_create"), "lo"),
    ("task-run events recorded/s", lambda r: r["events_recorded_per_s"], "hi"),
    ("logs/s", lambda r: r["logs_per_s"], "hi"),
    ("errors (gave up)", lambda r: sum(o["errors"] for o in r["ops"].values()), None),
    ("retries (408/429/5xx)", lambda r: sum(o["retries"] for o in r["ops"].values()), None),
    ("Osprey servers CPU (cores)", lambda r: r["cpu"]["servers_cpu_s"], None),
    ("PostgreSQL CPU (cores)", lambda r: r["cpu"]["db_cpu_s"], None),
    ("HAProxy CPU (cores)", lambda r: r["cpu"]["lb_cpu_s"], None),
    ("servers + PostgreSQL CPU ms per flow run",
     lambda r: 1000 * (r["cpu"]["servers_cpu_s"] + r["cpu"]["db_cpu_s"]) / r["flow_runs_per_s"], "lo"),
    ("client CPU (cores)", lambda r: r["client_cpu_cores"], None),
]
def fmt(v):
    if v is None: return "—"
    if isinstance(v, int): return str(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
present = [n for n in levels if n in runs]
head = ["metric"] + [f"{n} server(s)" for n in present] + [f"{n} ÷ 1" for n in present if n != 1 and 1 in runs]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for label, get, better in rows:
    vals = {}
    for n in present:
        try: vals[n] = get(runs[n])
        except (KeyError, TypeError, ZeroDivisionError): vals[n] = None
    ratios = []
    for n in present:
        if n == 1 or 1 not in runs: continue
        a, b = vals[n], vals.get(1)
        ratios.append("—" if better is None or not a or not b else f"{a / b:.2f}×")
    print("| " + " | ".join([label] + [fmt(vals[n]) for n in present] + ratios) + " |")
print(f"\n(ratios: each figure over one server's; raw JSON and logs: {out})")
EOF
