#!/usr/bin/env bash
# Times `instore run` and DuckDB (one thread) computing the same NEARBY_CUSTOMERS from the
# same kcat -J dump, in one run, and checks both found the same number of rows.
#
#   tools/duckdb_vs_instore.sh INSTORE_BINARY PYTHON_WITH_DUCKDB DUMP
#
# Both read and decode the dump and join it; neither writes the rows (instore counts them,
# DuckDB counts them), so the comparison is of the work, not of output formatting.
# PYTHON_WITH_DUCKDB is a Python with the `duckdb` package (`pip install duckdb`).
set -euo pipefail
bin=$1 python=$2 dump=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

start=$EPOCHREALTIME
"$bin" run --input "$dump" 2>"$work/instore.summary"
instore_s=$(elapsed "$start")
instore_rows=$(awk '$1 == "NEARBY_CUSTOMERS" { print $2 }' "$work/instore.summary")

sed "s|{dump}|$dump|" "$here/duckdb_nearby.sql" >"$work/nearby.sql"
start=$EPOCHREALTIME
duckdb_rows=$("$python" - "$work/nearby.sql" <<'PY'
import sys, duckdb
con = duckdb.connect()
result = None
for statement in open(sys.argv[1]).read().split(";"):
    if statement.strip() and not all(l.strip().startswith("--") or not l.strip() for l in statement.splitlines()):
        result = con.execute(statement).fetchall()
print(result[0][1])
PY
)
duckdb_s=$(elapsed "$start")

printf 'dump: %s (%s lines)\n' "$dump" "$(wc -l <"$dump")"
printf 'instore run:       %9s s  %s NEARBY_CUSTOMERS\n' "$instore_s" "$instore_rows"
printf 'DuckDB (1 thread): %9s s  %s NEARBY_CUSTOMERS\n' "$duckdb_s" "$duckdb_rows"
awk -v a="$duckdb_s" -v b="$instore_s" 'BEGIN { printf "instore is %.0f× faster\n", a / b }'
if [[ "$instore_rows" != "$duckdb_rows" ]]; then
  echo "row counts differ" >&2
  exit 1
fi
