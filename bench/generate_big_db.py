#!/usr/bin/env python3
"""Fills a fresh Osprey database with a large, realistic history for the UI benchmark (issue 10, "Performance").

Default size: 1,000,000 flow runs over 100 flows (half of them with a deployment on one of 5 work pools),
5,000,000 task runs, 20,000,000 log lines, and their state rows, spread over 30 days before now plus one day of
future Scheduled runs. `--scale 0.01` makes a database 100x smaller for quick checks.

It bypasses the API: Osprey's API writes one run per transaction, days at this size. Instead every row is made
by SQL inside the database (a recursive CTE on SQLite, generate_series on PostgreSQL) in a few big transactions,
with the indexes of the big tables dropped during the load and re-created afterwards. The schema is made first by
Osprey itself (`osprey server database upgrade`), so the rows land in exactly the schema the server reads.

What the load must fill so that Osprey reads it as if the API had written it (see persistence/*_store.cpp):
- flow_run: the denormalised current state (state_id -> the last flow_run_state row, state_type, state_name,
  state_timestamp), run_count, expected/next_scheduled/start/end times, total_run_time, and for deployed runs
  deployment_id, work_queue_id and work_queue_name.
- flow_run_state / task_run_state: the whole history (Scheduled, Pending, Running, final; a Late run gets a
  Late state), timestamps unique per run, the last one being the run's current state.
- task_run: the same denormalised state columns, flow_run_id, task_key/dynamic_key unique per run,
  flow_run_run_count.
- log: flow_run_id always, task_run_id for task logs, timestamp within the run.
Ids are deterministic uuids (`<kind>-0000-4000-8000-<n>`), so runs, states and logs refer to each other by
arithmetic and a rerun makes the same database.

    bench/generate_big_db.py --sqlite /tmp/osprey-big.db
    bench/generate_big_db.py --postgres postgresql://postgres@127.0.0.1:55432/osprey_big --scale 0.1
    bench/generate_big_db.py --target prefect --sqlite /tmp/prefect-big.db --scale 0.1   # the same rows, Prefect's schema
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400
HISTORY_DAYS = 30
FUTURE_DAYS = 1
BIG_TABLES = ("flow_run", "flow_run_state", "task_run", "task_run_state", "log")

# uuid kinds (the first group of every generated id)
K_FLOW, K_RUN, K_RUN_STATE, K_TASK, K_TASK_STATE, K_LOG, K_DEPLOYMENT, K_POOL, K_QUEUE = range(1, 10)


class Dialect:
    """The few expressions that differ between SQLite and PostgreSQL, and between Osprey's schema and Prefect's."""

    def __init__(self, pg: bool, prefect: bool = False):
        self.pg = pg
        self.prefect = prefect

    def uuid(self, kind: int, n: str) -> str:
        if self.pg:
            return f"(lpad(to_hex({kind}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(({n})::bigint), 12, '0'))::uuid"
        return f"printf('%08x-0000-4000-8000-%012x', {kind}, {n})"

    def ts(self, epoch: str) -> str:
        """A timestamp column value from unix seconds (the 27-character text Osprey writes on SQLite)."""
        if self.pg:
            return f"to_timestamp({epoch})"
        if self.prefect:  # SQLAlchemy's SQLite DATETIME: naive UTC, a space, six digits of fraction
            return f"(strftime('%Y-%m-%d %H:%M:%f', {epoch}, 'unixepoch') || '000')"
        return f"(strftime('%Y-%m-%dT%H:%M:%f', {epoch}, 'unixepoch') || '000Z')"

    def interval(self, seconds: str) -> str:
        """A run's total_run_time: seconds in Osprey; an interval in Prefect (on SQLite a DATETIME past the epoch)."""
        if not self.prefect:
            return seconds
        if self.pg:
            return f"(({seconds}) * interval '1 second')"
        return self.ts(seconds)

    def state_type(self, expr: str) -> str:
        """Prefect's PostgreSQL schema types state columns as the enum state_type."""
        return f"({expr})::state_type" if self.pg and self.prefect else expr

    def seq(self, count: int) -> str:
        """A row source `s(n)` with n = 0 .. count-1."""
        if self.pg:
            return f"generate_series(0, {count - 1}) AS s(n)"
        return f"(WITH RECURSIVE q(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM q WHERE n < {count - 1}) SELECT n FROM q) s"

    def json(self, expr: str) -> str:
        return f"({expr})::jsonb" if self.pg else expr

    def div(self, a: str, b: str) -> str:
        return f"(({a}) / ({b}))"  # both dialects divide integers as integers


def run_sql(target, d: Dialect, sql: str, what: str) -> None:
    started = time.monotonic()
    if d.pg:
        # Replica mode skips the foreign-key triggers: flow_run.state_id and flow_run_state.flow_run_id point at
        # each other (the rows are consistent by construction), and checking 40,000,000 keys would double the load.
        done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", target, "-c",
                               "SET session_replication_role = replica;\n" + sql], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{what}: psql failed:\n{done.stderr}")
    else:
        target.executescript(sql)
    print(f"  {what}: {time.monotonic() - started:.1f}s", flush=True)


def query(target, d: Dialect, sql: str) -> list[tuple]:
    if d.pg:
        out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", target, "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]
    return target.execute(sql).fetchall()


def migrate(osprey: str, url: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as config:
        config.write(f"database:\n  url: \"{url}\"\n")
    try:
        subprocess.run([osprey, "--config", config.name, "server", "database", "upgrade", "--yes"], check=True)
    finally:
        os.unlink(config.name)


def migrate_prefect(prefect: str, url: str) -> None:
    """Prefect's own schema, made by `prefect server database upgrade` (its Alembic chain) in a scratch PREFECT_HOME."""
    with tempfile.TemporaryDirectory(prefix="prefect-home-") as home:
        env = dict(os.environ, PREFECT_HOME=home, PREFECT_API_DATABASE_CONNECTION_URL=url)
        subprocess.run([prefect, "server", "database", "upgrade", "--yes"], check=True, env=env)


def secondary_indexes(target, d: Dialect) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index on the big tables except the primary keys."""
    tables = ", ".join(f"'{t}'" for t in BIG_TABLES)
    if d.pg:
        # Indexes behind constraints (primary keys, Prefect's unique constraints) stay: DROP INDEX cannot drop them.
        rows = query(target, d, f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                f"AND tablename IN ({tables}) AND indexname NOT LIKE 'pk\\_%' "
                                f"AND indexname NOT IN (SELECT conname FROM pg_constraint)")
    else:
        rows = query(target, d, f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables}) "
                                f"AND sql IS NOT NULL")
    return [(r[0], r[1]) for r in rows]


def generate(target, d: Dialect, a: argparse.Namespace) -> None:
    runs, tasks, logs = a.flow_runs, a.task_runs, a.logs
    now = int(time.time())
    first = now - HISTORY_DAYS * DAY
    step = (HISTORY_DAYS + FUTURE_DAYS) * DAY / runs
    u = d.uuid

    indexes = secondary_indexes(target, d)
    run_sql(target, d, ";\n".join(f"DROP INDEX {name}" for name, _ in indexes) + ";", "drop indexes of the big tables")

    # Pools, queues, flows, deployments: a handful of rows.
    pools = "\n".join([
        f"INSERT INTO work_pool (id, name, type, status) SELECT {u(K_POOL, 'n')}, 'bench-pool-' || n, 'process', 'READY' FROM {d.seq(5)};",
        f"INSERT INTO work_queue (id, name, priority, status, work_pool_id) SELECT {u(K_QUEUE, 'n')}, 'default', 1, 'READY', {u(K_POOL, 'n')} FROM {d.seq(5)};",
        f"INSERT INTO flow (id, name, created, updated) SELECT {u(K_FLOW, 'n')}, 'bench-flow-' || lpad_n, {d.ts(str(first - DAY))}, {d.ts(str(first - DAY))} "
        f"FROM (SELECT n, {'lpad(n::text, 3, ' + chr(39) + '0' + chr(39) + ')' if d.pg else 'printf(' + chr(39) + '%03d' + chr(39) + ', n)'} AS lpad_n FROM {d.seq(a.flows)}) f;",
        f"INSERT INTO deployment (id, name, flow_id, work_queue_id, work_queue_name, status, entrypoint, path) "
        f"SELECT {u(K_DEPLOYMENT, 'n')}, 'bench-deployment-' || n, {u(K_FLOW, 'n')}, {u(K_QUEUE, 'n % 5')}, 'default', 'READY', "
        f"'flows.py:bench', '.' FROM {d.seq(a.deployments)};",
    ])
    # A pool's default queue: the migration's RESTRICT key makes it point at its own queue.
    pools += "\n" + "\n".join(f"UPDATE work_pool SET default_queue_id = {u(K_QUEUE, str(p))} WHERE id = {u(K_POOL, str(p))};"
                              for p in range(5))
    run_sql(target, d, "BEGIN;\n" + pools + "\nCOMMIT;", "pools, queues, flows, deployments")

    # g_run: one row per flow run with everything the other tables derive from it.
    h = "((n * 2654435761) % 1000)"
    expected = f"({first} + n * {step})"
    kind = (f"CASE WHEN {expected} > {now} THEN 'SCHED' WHEN {expected} > {now} - 600 THEN 'RUNNING' "
            f"WHEN {h} < 820 THEN 'COMPLETED' WHEN {h} < 900 THEN 'FAILED' WHEN {h} < 915 THEN 'CRASHED' "
            f"WHEN {h} < 930 THEN 'CANCELLED' WHEN {h} < 950 THEN 'LATE' WHEN {h} < 960 THEN 'PENDING' "
            f"WHEN {h} < 965 THEN 'RUNNING' ELSE 'COMPLETED' END")
    temp = "CREATE TEMP TABLE" if not d.pg else "CREATE UNLOGGED TABLE"
    run_sql(target, d, f"""
DROP TABLE IF EXISTS g_run;
{temp} g_run AS SELECT n, n % {a.flows} AS flow, {expected} AS expected,
  {expected} + 5 + (n % 7) AS start, {expected} + 5 + (n % 7) + 20 + (n % 97) AS finish, {kind} AS kind FROM {d.seq(runs)};
DROP TABLE IF EXISTS g_started;
{temp} g_started AS SELECT row_number() OVER (ORDER BY n) - 1 AS rk, n, flow, start, finish, kind
  FROM g_run WHERE kind IN ('RUNNING', 'COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED');
CREATE UNIQUE INDEX g_started_rk ON g_started (rk);
""", "plan the flow runs")
    started = int(query(target, d, "SELECT count(*) FROM g_started")[0][0])
    per_run = max(1, tasks // max(1, started))
    terminal = "kind IN ('COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED')"
    final_name = ("CASE kind WHEN 'COMPLETED' THEN 'Completed' WHEN 'FAILED' THEN 'Failed' WHEN 'CRASHED' THEN 'Crashed' "
                  "WHEN 'CANCELLED' THEN 'Cancelled' WHEN 'RUNNING' THEN 'Running' WHEN 'PENDING' THEN 'Pending' "
                  "WHEN 'LATE' THEN 'Late' ELSE 'Scheduled' END")
    final_type = "CASE kind WHEN 'SCHED' THEN 'SCHEDULED' WHEN 'LATE' THEN 'SCHEDULED' ELSE kind END"
    # The current state's sequence number: 0 Scheduled, 1 Pending, 2 Running, 3 final (or Late).
    cur = "CASE WHEN kind = 'SCHED' THEN 0 WHEN kind = 'PENDING' THEN 1 WHEN kind = 'RUNNING' THEN 2 ELSE 3 END"
    cur_at = (f"CASE WHEN kind = 'SCHED' THEN expected - 3600 WHEN kind = 'PENDING' THEN expected + 1 "
              f"WHEN kind = 'RUNNING' THEN start WHEN kind = 'LATE' THEN expected + 15 ELSE finish END")
    has_dep = f"flow < {a.deployments}"
    q = '"'
    run_sql(target, d, f"""
BEGIN;
INSERT INTO flow_run (id, created, updated, name, state_type, state_name, state_timestamp, run_count,
  expected_start_time, next_scheduled_start_time, start_time, end_time, total_run_time, flow_id, deployment_id,
  work_queue_name, work_queue_id, parameters, tags, auto_scheduled, state_id, empirical_policy)
SELECT {u(K_RUN, 'n')}, {d.ts('expected - 3600')}, {d.ts(cur_at)}, 'bench-run-' || n, {d.state_type(final_type)}, {final_name},
  {d.ts(cur_at)}, CASE WHEN kind IN ('SCHED', 'LATE', 'PENDING') THEN 0 ELSE 1 END,
  {d.ts('expected')}, CASE WHEN kind IN ('SCHED', 'LATE') THEN {d.ts('expected')} END,
  CASE WHEN kind IN ('SCHED', 'LATE', 'PENDING') THEN NULL ELSE {d.ts('start')} END,
  CASE WHEN {terminal} THEN {d.ts('finish')} END,
  {d.interval(f"CASE WHEN {terminal} THEN finish - start ELSE 0 END")}, {u(K_FLOW, 'flow')},
  CASE WHEN {has_dep} THEN {u(K_DEPLOYMENT, 'flow')} END, CASE WHEN {has_dep} THEN 'default' END,
  CASE WHEN {has_dep} THEN {u(K_QUEUE, 'flow % 5')} END, '{{"x": 1}}',
  {d.json(f"CASE WHEN n % 3 = 0 THEN '[{q}bench{q}, {q}env:prod{q}]' ELSE '[{q}bench{q}]' END")}, (kind = 'SCHED' AND {has_dep}),
  {u(K_RUN_STATE, f'n * 4 + {cur}')}, '{{}}'
FROM g_run ORDER BY n;
INSERT INTO flow_run_state (id, created, updated, flow_run_id, type, timestamp, name, state_details)
SELECT {u(K_RUN_STATE, 'n * 4 + seq')}, {d.ts('at')}, {d.ts('at')}, {u(K_RUN, 'n')}, {d.state_type('type')}, {d.ts('at')}, name, '{{}}' FROM (
  SELECT n, 0 AS seq, 'SCHEDULED' AS type, 'Scheduled' AS name, expected - 3600 AS at FROM g_run
  UNION ALL SELECT n, 1, 'PENDING', 'Pending', expected + 1 FROM g_run WHERE kind NOT IN ('SCHED', 'LATE')
  UNION ALL SELECT n, 2, 'RUNNING', 'Running', start FROM g_run WHERE kind NOT IN ('SCHED', 'LATE', 'PENDING')
  UNION ALL SELECT n, 3, {final_type}, {final_name}, CASE WHEN kind = 'LATE' THEN expected + 15 ELSE finish END
    FROM g_run WHERE kind = 'LATE' OR {terminal}) states ORDER BY n, seq;
COMMIT;""", f"{runs:,} flow runs and their states")

    # Task run n belongs to started run rk = n % S, as its j = n / S th task. The first task takes the run's fate.
    task_kind = "CASE WHEN j = 0 THEN kind ELSE 'COMPLETED' END"
    task_end = "CASE WHEN task_kind = 'RUNNING' THEN NULL ELSE t_start + 1.5 END"
    t_name = ("CASE task_kind WHEN 'COMPLETED' THEN 'Completed' WHEN 'FAILED' THEN 'Failed' WHEN 'CRASHED' THEN 'Crashed' "
              "WHEN 'CANCELLED' THEN 'Cancelled' ELSE 'Running' END")
    t_cur = "CASE WHEN task_kind = 'RUNNING' THEN 1 ELSE 2 END"
    tasks_src = (f"(SELECT tn, run, j, t_start, {task_kind} AS task_kind FROM (SELECT s.n AS tn, g.n AS run, kind, "
                 f"{d.div('s.n', str(started))} AS j, g.start + {d.div('s.n', str(started))} * 2 + 1 AS t_start "
                 f"FROM {d.seq(tasks)} JOIN g_started g ON g.rk = s.n % {started}) x) t")
    if not d.pg:
        run_sql(target, d, f"CREATE TEMP TABLE g_task AS SELECT * FROM {tasks_src} ORDER BY tn;", "plan the task runs")
        tasks_src = "g_task t"
    run_sql(target, d, f"""
BEGIN;
INSERT INTO task_run (id, created, updated, name, state_type, state_name, state_timestamp, run_count,
  expected_start_time, start_time, end_time, total_run_time, flow_run_id, task_key, dynamic_key, flow_run_run_count,
  empirical_policy, task_inputs, tags, state_id)
SELECT {u(K_TASK, 'tn')}, {d.ts('t_start - 1')}, {d.ts(f'coalesce({task_end}, t_start)')}, 'task-' || j || '-' || tn,
  {d.state_type('task_kind')}, {t_name}, {d.ts(f'coalesce({task_end}, t_start)')}, 1, {d.ts('t_start - 1')}, {d.ts('t_start')},
  CASE WHEN task_kind = 'RUNNING' THEN NULL ELSE {d.ts('t_start + 1.5')} END,
  {d.interval("CASE WHEN task_kind = 'RUNNING' THEN 0 ELSE 1.5 END")}, {u(K_RUN, 'run')}, 'bench.task_' || j, '0', 1, '{{}}',
  '{{}}', '[]', {u(K_TASK_STATE, f'tn * 3 + {t_cur}')}
FROM {tasks_src} ORDER BY tn;
INSERT INTO task_run_state (id, created, updated, task_run_id, type, timestamp, name, state_details)
SELECT {u(K_TASK_STATE, 'tn * 3 + seq')}, {d.ts('at')}, {d.ts('at')}, {u(K_TASK, 'tn')}, {d.state_type('type')}, {d.ts('at')}, name, '{{}}' FROM (
  SELECT tn, 0 AS seq, 'PENDING' AS type, 'Pending' AS name, t_start - 1 AS at FROM {tasks_src}
  UNION ALL SELECT tn, 1, 'RUNNING', 'Running', t_start FROM {tasks_src}
  UNION ALL SELECT tn, 2, task_kind, {t_name}, t_start + 1.5 FROM {tasks_src} WHERE task_kind <> 'RUNNING') states
ORDER BY tn, seq;
COMMIT;""", f"{tasks:,} task runs and their states")

    # Log m belongs to started run rk = m % S, as its k = m / S th line. Every fifth line is the flow's own.
    run_sql(target, d, f"""
BEGIN;
INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp)
SELECT {u(K_LOG, 'm')}, {d.ts('at')}, {d.ts('at')}, CASE WHEN k % 5 = 0 THEN 'prefect.flow_runs' ELSE 'prefect.task_runs' END,
  CASE WHEN k % 10 = 9 THEN 30 WHEN k % 50 = 49 THEN 40 ELSE 20 END, {u(K_RUN, 'run')},
  CASE WHEN k % 5 = 0 THEN NULL ELSE {u(K_TASK, f'(k % {per_run}) * {started} + rk')} END,
  'Processed batch ' || k || ' of run bench-run-' || run || ': 128 records written to the warehouse', {d.ts('at')}
FROM (SELECT s.n AS m, g.rk, g.n AS run, {d.div('s.n', str(started))} AS k, g.start + {d.div('s.n', str(started))} * 0.25 AS at
      FROM {d.seq(logs)} JOIN g_started g ON g.rk = s.n % {started}) x ORDER BY m;
COMMIT;""", f"{logs:,} log lines")

    run_sql(target, d, "DROP TABLE g_run; DROP TABLE g_started;" + ("" if d.pg else " DROP TABLE g_task;"), "drop the plan")
    for name, create in indexes:
        run_sql(target, d, create + ";", f"index {name}")
    run_sql(target, d, "ANALYZE;", "ANALYZE")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", help="path of a new SQLite database file")
    where.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies every row count (0.01 = a quick check)")
    p.add_argument("--flows", type=int, default=100)
    p.add_argument("--deployments", type=int, default=50, help="flows 0..N-1 each get one deployment")
    p.add_argument("--osprey", default=str(ROOT / "build" / "osprey"), help="the osprey binary that migrates the schema")
    p.add_argument("--target", choices=["osprey", "prefect"], default="osprey",
                   help="whose schema to fill: Osprey's, or the real Prefect server's (for the side-by-side)")
    p.add_argument("--prefect", default=str(ROOT / ".venv" / "bin" / "prefect"), help="the prefect CLI (--target prefect)")
    a = p.parse_args()
    a.flow_runs, a.task_runs, a.logs = (int(x * a.scale) for x in (1_000_000, 5_000_000, 20_000_000))
    a.deployments = min(a.deployments, a.flows)
    started = time.monotonic()
    prefect = a.target == "prefect"
    if a.sqlite:
        if Path(a.sqlite).exists():
            sys.exit(f"{a.sqlite} exists: the generator fills a new database only")
        if prefect:
            migrate_prefect(a.prefect, f"sqlite+aiosqlite:///{Path(a.sqlite).resolve()}")
        else:
            migrate(a.osprey, f"sqlite:///{Path(a.sqlite).resolve()}")
        conn = sqlite3.connect(a.sqlite, isolation_level=None)
        # Speed over durability while loading: a crash means running the generator again.
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-2000000; "
                           "PRAGMA temp_store=FILE; PRAGMA foreign_keys=OFF;")
        generate(conn, Dialect(False, prefect), a)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    else:
        if prefect:
            migrate_prefect(a.prefect, "postgresql+asyncpg://" + a.postgres.split("://", 1)[1])
        else:
            migrate(a.osprey, a.postgres)
        generate(a.postgres, Dialect(True, prefect), a)
    print(f"generated {a.flow_runs:,} flow runs, {a.task_runs:,} task runs, {a.logs:,} logs "
          f"in {time.monotonic() - started:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
