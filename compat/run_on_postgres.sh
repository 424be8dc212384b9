#!/usr/bin/env bash
# Runs a command (the compatibility suite) against a fresh PostgreSQL database: creates it on the server named by
# OSPREY_TEST_POSTGRES_URL (a maintenance URL, e.g. from scripts/test-postgres.sh), runs the command with
# OSPREY_COMPAT_DATABASE_URL pointing at it, then drops it. Without OSPREY_TEST_POSTGRES_URL it prints
# "skipped" and exits 0, unless OSPREY_REQUIRE_POSTGRES=1 (CI), which makes that a failure.
#   compat/run_on_postgres.sh .venv/bin/python -m pytest compat -q
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

admin=${OSPREY_TEST_POSTGRES_URL:-}
if [ -z "$admin" ]; then
  if [ "${OSPREY_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "compat on PostgreSQL: OSPREY_TEST_POSTGRES_URL is unset but OSPREY_REQUIRE_POSTGRES=1" >&2
    exit 1
  fi
  echo "skipped: OSPREY_TEST_POSTGRES_URL is unset"
  exit 0
fi
command -v psql >/dev/null || { echo "compat on PostgreSQL: psql not found" >&2; exit 1; }

# The same server, another database: replace the path of the URL, keep any ?query.
base=${admin%%\?*}
query=${admin:${#base}}
authority=${base#*://}
[[ $authority == */* ]] && base=${base%/*}
name="osprey_compat_$$_$(date +%s)"
url="$base/$name$query"

psql "$admin" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $name" >/dev/null
drop() { psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null || true; }
trap drop EXIT

echo "compat on PostgreSQL: database $name"
status=0
OSPREY_COMPAT_DATABASE_URL="$url" "$@" || status=$?
exit "$status"
