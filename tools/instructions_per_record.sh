#!/usr/bin/env bash
# Instructions per input record of `instore run --input DUMP` (issue 15's measure), with the
# stages they go to, from one callgrind run. Deterministic: the machine's load does not move
# it, so two builds can be compared at any time.
#
#   tools/instructions_per_record.sh INSTORE_BINARY DUMP [more `instore run` flags]
#
# Needs valgrind (Debian `valgrind`). A release build with line tables (the default profile)
# names the stages; without them only the total is exact.
set -euo pipefail
bin=$1 dump=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out" "$out.txt"' EXIT
records=$(grep -c . "$dump")
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" run --input "$dump" "$@" \
    >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out" >"$out.txt" 2>/dev/null
total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' "$out.txt")
stage() {
    # The largest inclusive count listed for a function whose name ends with $1 (callgrind
    # may list a function twice, once per form of its source path).
    awk -v name="$1" '
        $0 ~ "(:|::)" name "( \\[|$)" { gsub(",", "", $1); if ($1 + 0 > best) best = $1 + 0 }
        END { print best + 0 }
    ' "$out.txt"
}
line=$(stage "DumpReader::next_line")
envelope=$(stage "dump::parse_record")
value=$(stage "record::decode_payload")
joins=$(stage "Pipeline::push_value_parts")
awk -v n="$records" -v total="$total" -v line="${line:-0}" -v env="${envelope:-0}" \
    -v value="${value:-0}" -v joins="${joins:-0}" 'BEGIN {
    printf "%d records, %.0f M instructions: %.2f k per record\n", n, total / 1e6, total / n / 1e3
    if (env > 0) {
        printf "  lines and UTF-8   %.2f k\n", (line - env) / n / 1e3
        printf "  kcat envelope     %.2f k\n", env / n / 1e3
    } else {
        # `parse_record` is inlined into the line reader: the two stages are one.
        printf "  lines, UTF-8 and the kcat envelope %.2f k\n", line / n / 1e3
    }
    printf "  values            %.2f k\n", value / n / 1e3
    printf "  joins             %.2f k\n", joins / n / 1e3
    printf "  the rest          %.2f k\n", (total - line - value - joins) / n / 1e3
}'
