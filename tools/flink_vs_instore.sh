#!/usr/bin/env bash
# Times `instore run` and the exported Flink SQL (PyFlink MiniCluster, one JVM) on the same
# dump, in one run, and checks both wrote the same number of NEARBY_CUSTOMERS.
#
#   tools/flink_vs_instore.sh INSTORE_BINARY PYFLINK_PYTHON DUMP [pipeline parameters…]
#
# Prints instore's wall time, Flink's job time (statements submitted to job finished, as
# tools/flink_sql.py reports it) and Flink's whole time (including starting the JVM), and
# the row counts. FLINK_PARALLELISM sets Flink's parallelism (default 1).
set -euo pipefail
bin=$1 python=$2 dump=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")" && pwd)

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

start=$EPOCHREALTIME
"$bin" run --input "$dump" --output "$work/instore.jsonl" "$@" 2>"$work/instore.summary"
instore_s=$(elapsed "$start")
instore_rows=$(grep -c '"topic":"NEARBY_CUSTOMERS"' "$work/instore.jsonl" || true)

"$bin" export-sql --dialect flink --connector filesystem --data "$work/data" \
  --input "$dump" --output "$work/pipeline.sql" "$@" 2>/dev/null
start=$EPOCHREALTIME
job=$("$python" "$here/flink_sql.py" "$work/pipeline.sql" 2>"$work/flink.log" | tail -1)
flink_s=$(elapsed "$start")
job_s=$(awk '{ print $(NF-1) }' <<<"$job")
flink_rows=$(cat "$work"/data/NEARBY_CUSTOMERS/part-* | wc -l)

printf 'dump: %s (%s lines)\n' "$dump" "$(wc -l <"$dump")"
printf 'instore run:  %8s s  %s NEARBY_CUSTOMERS\n' "$instore_s" "$instore_rows"
printf 'Flink job:    %8s s\n' "$job_s"
printf 'Flink whole:  %8s s  %s NEARBY_CUSTOMERS (with starting the JVM)\n' "$flink_s" "$flink_rows"
if [[ "$instore_rows" != "$flink_rows" ]]; then
  echo "row counts differ" >&2
  exit 1
fi
