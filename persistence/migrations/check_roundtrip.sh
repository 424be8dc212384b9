#!/usr/bin/env bash
# Checks the migration chain of one dialect:
#   - lint: every manifest revision has its four files, no BEGIN/COMMIT, no '--' comment with a semicolon,
#     constraint/index names fit PostgreSQL's 63-character limit
#   - every revision's downgrade restores exactly the schema before its upgrade
#     (upgrade all one by one, downgrade all one by one, upgrade all again, diff schema dumps)
#   - a data smoke test (upserts, cascades, SET NULL, CHECKs), then downgrade all with data present
#
# Usage:
#   persistence/migrations/check_roundtrip.sh sqlite                 # uses a temporary database file
#   persistence/migrations/check_roundtrip.sh 'host=127.0.0.1 port=55440 user=postgres dbname=scratch'
# The PostgreSQL database must have no tables in schema public; it is left empty again at the end
# (the pg_trgm extension is created if missing, as the migrator does). Needs sqlite3 or psql + pg_dump.
#
# Each file is applied the way the migrator applies it: the whole file as one string in one transaction
# (sqlite3 with foreign_keys=ON inside BEGIN/COMMIT, psql -c which runs a multi-statement string as one
# implicit transaction through the simple query protocol).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="${1:-}"
if [[ -z "$TARGET" ]]; then
  echo "usage: $0 sqlite | '<postgresql conninfo>'" >&2
  exit 2
fi
if [[ "$TARGET" == sqlite ]]; then DIALECT=sqlite; else DIALECT=postgresql; fi

WORK="$(mktemp -d /tmp/osprey-migcheck.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
DB="$WORK/check.db"
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# ---------------------------------------------------------------- manifest + lint
REVS=()
while read -r rev slug msg; do
  [[ -z "$rev" || "$rev" == \#* ]] && continue
  [[ "$rev" =~ ^[0-9a-f]{12}$ ]] || fail "manifest: bad revision id '$rev'"
  [[ "$slug" =~ ^[a-z0-9_]+$ ]] || fail "manifest: bad slug '$slug'"
  [[ -n "$msg" ]] || fail "manifest: $rev has no message"
  REVS+=("${rev}_${slug}")
done < "$HERE/manifest.txt"
[[ ${#REVS[@]} -gt 0 ]] || { echo "no revisions in manifest" >&2; exit 1; }
dups=$(printf '%s\n' "${REVS[@]}" | cut -c1-12 | sort | uniq -d)
[[ -z "$dups" ]] || fail "manifest: duplicate revision ids: $dups"

for r in "${REVS[@]}"; do
  for d in sqlite postgresql; do
    for dir in up down; do
      f="$HERE/$d/$r.$dir.sql"
      if [[ ! -f "$f" ]]; then fail "missing $f"; continue; fi
      grep -qiE '^[[:space:]]*(BEGIN|COMMIT|ROLLBACK|END)[[:space:]]*(TRANSACTION)?[[:space:]]*;' "$f" \
        && fail "$f: contains transaction control"
      grep -nE -- '--.*;' "$f" | grep -vE "^[0-9]+:[^-]*'[^']*--" >/dev/null \
        && fail "$f: a -- comment contains a semicolon"
      [[ "$(head -c 2 "$f")" == "--" ]] || fail "$f: missing header comment"
      long=$({ grep -oE '\b(pk|fk|uq|ck|ix|trgm_ix)_[A-Za-z0-9_]+' "$f" || true; } | awk 'length($0) > 63' | sort -u)
      [[ -z "$long" ]] || fail "$f: identifiers longer than 63 characters: $long"
    done
  done
done
extra=$(cd "$HERE" && ls sqlite/*.sql postgresql/*.sql 2>/dev/null | sed -E 's#^[a-z]+/##; s#\.(up|down)\.sql$##' \
  | sort -u | grep -vxF -f <(printf '%s\n' "${REVS[@]}") || true)
[[ -z "$extra" ]] || fail "files not in the manifest: $extra"

# ---------------------------------------------------------------- dialect drivers
if [[ $DIALECT == sqlite ]]; then
  apply() {  # apply FILE as one transaction
    { echo "PRAGMA foreign_keys=ON;"; echo "BEGIN;"; cat "$1"; echo; echo "COMMIT;"; } | sqlite3 -bail "$DB" >/dev/null
  }
  sql() { printf 'PRAGMA foreign_keys=ON;\n%s\n' "$1" | sqlite3 -bail -batch -noheader -list "$DB"; }
  dump() {
    sqlite3 "$DB" "SELECT type || ' ' || name || ' ' || tbl_name || char(10) || coalesce(sql, '') || ';'
                   FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name;"
  }
  table_count() { sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%';"; }
  post_step_check() {  # FKs must point at existing tables, and the database must be sound
    local out
    out=$(sqlite3 "$DB" "PRAGMA foreign_keys=ON; PRAGMA foreign_key_check; PRAGMA integrity_check;" 2>&1)
    [[ "$out" == ok ]] || fail "after $1: foreign_key_check/integrity_check said: $out"
    out=$(sqlite3 "$DB" "SELECT m.name || ' -> ' || f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
                         WHERE m.type = 'table'
                           AND f.\"table\" NOT IN (SELECT name FROM sqlite_master WHERE type = 'table');")
    [[ -z "$out" ]] || fail "after $1: foreign keys reference missing tables: $out"
  }
  TRUE=1
else
  CONN="$TARGET"
  export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
  PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$CONN")
  apply() { "${PSQL[@]}" -c "$(cat "$1")" >/dev/null; }
  sql() { "${PSQL[@]}" -tA -c "$1"; }
  dump() { pg_dump --schema-only --no-owner --no-privileges -d "$CONN" | grep -vE '^(--|SET |SELECT pg_catalog|\\(un)?restrict )' | cat -s; }
  table_count() { sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i');"; }
  post_step_check() { :; }
  TRUE=t
  sql "CREATE EXTENSION IF NOT EXISTS pg_trgm;" >/dev/null
  # drivers must not depend on the extension being created by a revision
  n=$(table_count)
  [[ "$n" == 0 ]] || { echo "database is not empty ($n relations in public), refusing" >&2; exit 2; }
fi

N=${#REVS[@]}
upgrade_all() {  # $1 = label, stores dumps as $WORK/<label>.<i>
  dump > "$WORK/$1.0"
  for ((i = 0; i < N; i++)); do
    apply "$HERE/$DIALECT/${REVS[$i]}.up.sql" || { fail "upgrade ${REVS[$i]} failed"; return 1; }
    post_step_check "upgrade ${REVS[$i]}"
    dump > "$WORK/$1.$((i + 1))"
  done
}
downgrade_all() {  # $1 = label of the upgrade dumps to compare against (empty: no comparison)
  for ((i = N - 1; i >= 0; i--)); do
    apply "$HERE/$DIALECT/${REVS[$i]}.down.sql" || { fail "downgrade ${REVS[$i]} failed"; return 1; }
    post_step_check "downgrade ${REVS[$i]}"
    if [[ -n "$1" ]]; then
      dump > "$WORK/down.$i"
      diff -u "$WORK/$1.$i" "$WORK/down.$i" > "$WORK/diff" \
        || { fail "downgrade of ${REVS[$i]} does not restore the previous schema:"; cat "$WORK/diff" >&2; }
    fi
  done
  local n; n=$(table_count)
  [[ "$n" == 0 ]] || fail "after downgrading everything, $n schema objects remain"
}

echo "== $DIALECT: ${N} revisions"
upgrade_all first
downgrade_all first
upgrade_all second
diff -u "$WORK/first.$N" "$WORK/second.$N" > "$WORK/diff" \
  || { fail "schema after re-upgrade differs:"; cat "$WORK/diff" >&2; }
echo "   roundtrip: $(grep -c '' "$WORK/first.$N") schema dump lines compared at each of ${N} steps"

# ---------------------------------------------------------------- data smoke test
expect() {  # expect "<sql>" "<expected output>"
  local got
  if ! got=$(sql "$1" 2>&1); then fail "query failed: $1 -> $got"; return; fi
  [[ "$got" == "$2" ]] || fail "query: $1
     expected: $2
     got:      $got"
}
expect_error() {  # the statement must be rejected
  if sql "$1" >/dev/null 2>&1; then fail "expected an error from: $1"; fi
}
id() { printf '00000000-0000-0000-0000-%012d' "$1"; }
T0='2026-11-26T02:58:54.123456Z'
T1='2026-11-26T03:00:00.000000Z'

seed() {
  sql "
INSERT INTO flow (id, name, tags) VALUES ('$(id 1)', 'etl', '[\"a\"]');
INSERT INTO work_pool (id, name, type) VALUES ('$(id 10)', 'pool', 'process');
INSERT INTO work_queue (id, name, priority, work_pool_id) VALUES ('$(id 11)', 'default', 1, '$(id 10)');
UPDATE work_pool SET default_queue_id = '$(id 11)' WHERE id = '$(id 10)';
INSERT INTO worker (id, work_pool_id, name) VALUES ('$(id 12)', '$(id 10)', 'w1');
INSERT INTO flow_run (id, name, flow_id, idempotency_key, work_queue_id, state_type, expected_start_time)
  VALUES ('$(id 20)', 'run-1', '$(id 1)', 'key-1', '$(id 11)', 'SCHEDULED', '$T0');
INSERT INTO flow_run_state (id, flow_run_id, type, name, timestamp)
  VALUES ('$(id 21)', '$(id 20)', 'SCHEDULED', 'Scheduled', '$T0');
UPDATE flow_run SET state_id = '$(id 21)', state_name = 'Scheduled' WHERE id = '$(id 20)';
INSERT INTO task_run (id, name, flow_run_id, task_key, dynamic_key)
  VALUES ('$(id 30)', 'task-1', '$(id 20)', 'tk', '0');
INSERT INTO task_run_state (id, task_run_id, type, name, timestamp)
  VALUES ('$(id 31)', '$(id 30)', 'RUNNING', 'Running', '$T0');
UPDATE task_run SET state_id = '$(id 31)' WHERE id = '$(id 30)';
INSERT INTO flow_run (id, name, flow_id, parent_task_run_id) VALUES ('$(id 22)', 'subflow', '$(id 1)', '$(id 30)');
INSERT INTO flow_run_input (id, flow_run_id, key, value) VALUES ('$(id 23)', '$(id 20)', 'k', '\"v\"');
INSERT INTO log (id, name, level, flow_run_id, message, timestamp)
  VALUES ('$(id 40)', 'prefect.flow_runs', 20, '$(id 20)', 'hello', '$T0');
INSERT INTO artifact (id, key, flow_run_id, data) VALUES ('$(id 41)', 'report', '$(id 20)', '\"# hi\"');
UPDATE flow_run_state SET result_artifact_id = '$(id 41)' WHERE id = '$(id 21)';
INSERT INTO concurrency_limit_v2 (id, name, \"limit\") VALUES ('$(id 50)', 'deployment:x', 2);
INSERT INTO concurrency_limit (id, tag, concurrency_limit) VALUES ('$(id 51)', 'db', 3);
INSERT INTO concurrency_lease (id, resource_ids, slots, holder, expiration)
  VALUES ('$(id 52)', '[\"$(id 50)\"]', 1, '{\"type\": \"task_run\", \"id\": \"$(id 30)\"}', '$T0');
INSERT INTO block_type (id, name, slug) VALUES ('$(id 60)', 'Secret', 'secret');
INSERT INTO block_schema (id, checksum, block_type_id) VALUES ('$(id 61)', 'sha256:abc', '$(id 60)');
INSERT INTO block_document (id, name, block_type_id, block_schema_id) VALUES ('$(id 62)', 'storage', '$(id 60)', '$(id 61)');
INSERT INTO deployment (id, name, flow_id, work_queue_id, concurrency_limit_id, storage_document_id)
  VALUES ('$(id 70)', 'dep', '$(id 1)', '$(id 11)', '$(id 50)', '$(id 62)');
INSERT INTO deployment_schedule (id, deployment_id, schedule, slug)
  VALUES ('$(id 71)', '$(id 70)', '{\"interval\": 60}', 'every-minute');
INSERT INTO variable (id, name, value) VALUES ('$(id 80)', 'v', '42');
INSERT INTO configuration (id, key, value) VALUES ('$(id 81)', 'ENCRYPTION_KEY', '{\"fernet_key\": \"x\"}');
INSERT INTO events (id, occurred, event, resource_id, resource, payload, received, recorded)
  VALUES ('$(id 90)', '$T0', 'prefect.flow-run.Running', 'prefect.flow-run.x', '{}', '{}', '$T0', '$T0');
INSERT INTO event_resources (id, occurred, resource_id, resource_role, resource, event_id)
  VALUES ('$(id 91)', '$T0', 'prefect.flow-run.x', '', '{}', '$(id 90)');
INSERT INTO notification_policy (id, name, source, state_names, channels)
  VALUES ('$(id 100)', 'failures', 'file', '[\"Failed\"]', '[\"ops\"]');
INSERT INTO notification_outbox (id, policy_name, channel_name, flow_run_id, state_id, kind)
  VALUES ('$(id 101)', 'failures', 'ops', '$(id 20)', '$(id 21)', 'trigger');
" >/dev/null
}

sql "DELETE FROM flow WHERE 1 = 0;" >/dev/null  # sanity: tables exist
seed || fail "seeding data failed"

# defaults
expect "SELECT run_count, total_run_time = 0, auto_scheduled = false, parameters = '{}', tags = '[]'
        FROM flow_run WHERE id = '$(id 20)';" "0|$TRUE|$TRUE|$TRUE|$TRUE"
expect "SELECT status, is_paused = false FROM work_pool WHERE id = '$(id 10)';" "NOT_READY|$TRUE"
expect "SELECT status, enforce_parameter_schema FROM deployment WHERE id = '$(id 70)';" "NOT_READY|$TRUE"
expect "SELECT status, attempts FROM notification_outbox WHERE id = '$(id 101)';" "pending|0"
expect "SELECT slots, CAST(resource_ids AS TEXT) LIKE '%$(id 50)%' FROM concurrency_lease WHERE expiration <= '$T0';" "1|$TRUE"
if [[ $DIALECT == sqlite ]]; then
  expect "SELECT length(created), created GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*.[0-9][0-9][0-9][0-9][0-9][0-9]Z'
          FROM flow WHERE id = '$(id 1)';" "27|1"
fi

# upserts on the natural keys
expect "INSERT INTO flow (id, name) VALUES ('$(id 2)', 'etl') ON CONFLICT (name) DO NOTHING;
        SELECT count(*), min(CAST(id AS TEXT)) FROM flow;" "1|$(id 1)"
expect "INSERT INTO flow (id, name, tags) VALUES ('$(id 2)', 'etl', '[\"b\"]')
          ON CONFLICT (name) DO UPDATE SET tags = excluded.tags;
        SELECT id, tags FROM flow;" "$(id 1)|[\"b\"]"
expect "INSERT INTO flow_run (id, name, flow_id, idempotency_key) VALUES ('$(id 24)', 'dup', '$(id 1)', 'key-1')
          ON CONFLICT (flow_id, idempotency_key) DO NOTHING;
        SELECT count(*) FROM flow_run WHERE idempotency_key = 'key-1';" "1"
expect "INSERT INTO flow_run (id, name, flow_id) VALUES ('$(id 25)', 'n1', '$(id 1)');
        INSERT INTO flow_run (id, name, flow_id) VALUES ('$(id 26)', 'n2', '$(id 1)');
        SELECT count(*) FROM flow_run WHERE idempotency_key IS NULL;" "3"
expect "INSERT INTO task_run (id, name, flow_run_id, task_key, dynamic_key)
          VALUES ('$(id 32)', 'again', '$(id 20)', 'tk', '0')
          ON CONFLICT (flow_run_id, task_key, dynamic_key) DO NOTHING;
        SELECT count(*) FROM task_run;" "1"
expect "INSERT INTO task_run (id, name, task_key, dynamic_key) VALUES ('$(id 33)', 'bg1', 'tk', '0');
        INSERT INTO task_run (id, name, task_key, dynamic_key) VALUES ('$(id 34)', 'bg2', 'tk', '0');
        SELECT count(*) FROM task_run WHERE flow_run_id IS NULL;" "2"
expect "INSERT INTO events (id, occurred, event, resource_id, resource, payload, received, recorded)
          VALUES ('$(id 90)', '$T1', 'dup', 'r', '{}', '{}', '$T1', '$T1') ON CONFLICT (id) DO NOTHING;
        SELECT count(*), min(event) FROM events;" "1|prefect.flow-run.Running"
expect "INSERT INTO deployment (id, name, flow_id) VALUES ('$(id 72)', 'dep', '$(id 1)')
          ON CONFLICT (flow_id, name) DO UPDATE SET version = 'v2';
        SELECT id, version FROM deployment;" "$(id 70)|v2"
expect "INSERT INTO notification_outbox (id, policy_name, channel_name, flow_run_id, state_id, kind)
          VALUES ('$(id 102)', 'failures', 'ops', '$(id 20)', '$(id 21)', 'trigger')
          ON CONFLICT (policy_name, channel_name, state_id, kind) DO NOTHING;
        SELECT count(*) FROM notification_outbox;" "1"

# unique and check constraints
expect_error "INSERT INTO flow_run_state (id, flow_run_id, type, name, timestamp)
              VALUES ('$(id 27)', '$(id 20)', 'RUNNING', 'Running', '$T0');"
expect_error "INSERT INTO flow_run_state (id, flow_run_id, type, name) VALUES ('$(id 28)', '$(id 20)', 'BOGUS', 'x');"
expect_error "UPDATE flow_run SET state_type = 'Running' WHERE id = '$(id 20)';"
expect_error "INSERT INTO work_queue (id, name, priority, work_pool_id) VALUES ('$(id 13)', 'default', 2, '$(id 10)');"
expect_error "INSERT INTO worker (id, work_pool_id, name, status) VALUES ('$(id 14)', '$(id 10)', 'w2', 'AWAY');"
expect_error "INSERT INTO flow_run (id, name, flow_id) VALUES ('$(id 29)', 'orphan', '$(id 999)');"
expect_error "INSERT INTO deployment_schedule (id, deployment_id, schedule, slug)
              VALUES ('$(id 73)', '$(id 70)', '{}', 'every-minute');"
expect_error "INSERT INTO notification_outbox (id, policy_name, channel_name, kind) VALUES ('$(id 103)', 'p', 'c', 'other');"
expect_error "INSERT INTO notification_policy (id, name, source) VALUES ('$(id 104)', 'x', 'yaml');"
expect_error "INSERT INTO block_document_reference (id, name, parent_block_document_id, reference_block_document_id)
              VALUES ('$(id 63)', 'self', '$(id 62)', '$(id 62)');"
expect_error "DELETE FROM work_queue WHERE id = '$(id 11)';"   # RESTRICT: it is the pool's default queue

# ON DELETE rules
expect "DELETE FROM artifact WHERE id = '$(id 41)';
        SELECT count(*) FROM flow_run_state WHERE result_artifact_id IS NULL;" "1"
expect "DELETE FROM task_run WHERE id = '$(id 30)';
        SELECT count(*) FROM flow_run WHERE id = '$(id 22)' AND parent_task_run_id IS NULL;" "1"
expect "SELECT count(*) FROM task_run_state;" "0"
expect "DELETE FROM concurrency_limit_v2 WHERE id = '$(id 50)';
        SELECT count(*) FROM deployment WHERE concurrency_limit_id IS NULL;" "1"
expect "DELETE FROM flow_run_state WHERE id = '$(id 21)';
        SELECT count(*) FROM flow_run WHERE id = '$(id 20)' AND state_id IS NULL;" "1"
expect "DELETE FROM flow WHERE id = '$(id 1)';
        SELECT (SELECT count(*) FROM flow_run) || ',' || (SELECT count(*) FROM deployment) || ','
            || (SELECT count(*) FROM deployment_schedule) || ',' || (SELECT count(*) FROM flow_run_input) || ','
            || (SELECT count(*) FROM log) || ',' || (SELECT count(*) FROM notification_outbox);" "0,0,0,0,1,1"
expect "DELETE FROM work_pool WHERE id = '$(id 10)';
        SELECT (SELECT count(*) FROM work_queue) || ',' || (SELECT count(*) FROM worker);" "0,0"
expect "DELETE FROM block_type WHERE id = '$(id 60)';
        SELECT (SELECT count(*) FROM block_schema) || ',' || (SELECT count(*) FROM block_document);" "0,0"

# query shapes that should use the indexes
expect "SELECT count(*) FROM flow_run WHERE state_type = 'SCHEDULED' AND deployment_id IS NULL;" "0"
expect "SELECT count(*) FROM log WHERE flow_run_id = '$(id 20)' AND timestamp >= '$T0';" "1"

# downgrade everything with a full graph of rows present
sql "DELETE FROM log; DELETE FROM events; DELETE FROM event_resources; DELETE FROM variable; DELETE FROM configuration;
     DELETE FROM notification_outbox; DELETE FROM notification_policy; DELETE FROM concurrency_limit;
     DELETE FROM concurrency_lease;
     DELETE FROM artifact;" >/dev/null
seed || fail "re-seeding data failed"
echo "   smoke test done, downgrading with data present"
downgrade_all ""

if [[ $FAILS -gt 0 ]]; then
  echo "== $DIALECT: $FAILS failure(s)" >&2
  exit 1
fi
echo "== $DIALECT: OK"
