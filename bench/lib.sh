# Helpers the bench/run_*.sh scripts share; sourced (`. bench/lib.sh`) from the repository root after `set -euo
# pipefail`. Messages name the script that sourced it. The state below is the scripts' too: the server started
# last (server_pid, stopped by stop_server), the load generator running (bench_pid), a throwaway PostgreSQL
# cluster (pg_dir, pg_admin; start_postgres) and a work directory (work), all removed by bench_cleanup.

bench_name=$(basename "$0" .sh)
server_pid=""
bench_pid=""
pg_dir=""
pg_admin=""
work=""

free_port() {  # -> a free TCP port on the loopback interface
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_healthy() {  # URL LOG [PID [SECONDS]]: until URL/health answers; PID defaults to $server_pid, SECONDS to 120.
  # Exits the script (with LOG's tail) when PID dies first or SECONDS pass.
  local pid=${3:-$server_pid} seconds=${4:-120}
  for _ in $(seq $((seconds * 2))); do
    curl -sf "$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$bench_name: $1 exited before it was healthy; its log:" >&2; tail -30 "$2" >&2; exit 1; }
    sleep 0.5  # polling interval
  done
  echo "$bench_name: $1 not healthy after $seconds s" >&2
  tail -30 "$2" >&2
  exit 1
}

stop_server() {  # stops $server_pid, started with setsid: SIGTERM, then SIGKILL after 10 s
  if [ -n "$server_pid" ]; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true   # its own process group: the CLI and its children
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

bench_cleanup() {  # for `trap bench_cleanup EXIT`: stops what the script started and removes $work
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null || true
  stop_server
  [ -n "$pg_dir" ] && scripts/test-postgres.sh stop "$pg_dir" || true
  [ -n "$work" ] && rm -rf "$work"
  return 0
}

start_postgres() {  # one throwaway cluster in $work/pg for every PostgreSQL run (idle while the others run)
  pg_dir="$work/pg"
  pg_admin=$(scripts/test-postgres.sh start "$pg_dir" "$(free_port)")
}

postgres_url() {  # DATABASE -> URL of a fresh database in the throwaway cluster (call start_postgres first)
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null || return
  echo "${pg_admin%/postgres}/$1"
}

cpu_ticks() {  # PID... -> user+system clock ticks of these processes (all their threads)
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

db_ticks() {  # the PostgreSQL cluster: postmaster and its backends (0 without one)
  [ -n "$pg_dir" ] && [ -f "$pg_dir/data/postmaster.pid" ] || { echo 0; return; }
  local postmaster; postmaster=$(head -1 "$pg_dir/data/postmaster.pid")
  cpu_ticks "$postmaster" $(ps --ppid "$postmaster" -o pid=)
}

fsync_report() {  # DIR -> the "fsync: ..." line: the cost of a 4 KiB O_DSYNC write in DIR (200 writes with dd)
  local seconds
  seconds=$(cd "$1" && { /usr/bin/time -f %e dd if=/dev/zero of=fsync-probe bs=4k count=200 oflag=dsync 2>&1 >/dev/null | tail -1; })
  rm -f "$1/fsync-probe"
  echo "fsync: $(awk -v s="$seconds" 'BEGIN { printf "%.2f", s * 1000 / 200 }') ms per 4 KiB O_DSYNC write (dd, 200 writes)"
}
