#!/usr/bin/env bash
# What `--notifications` adds to `instore run` in instructions and in second-level cache
# misses, from two callgrind runs with the last-level cache set to one core's L2 (2 MiB by
# default). Deterministic, unlike CPU time on a shared machine: the misses are where the
# notifications' CPU time parts from their instructions (BENCHMARKS.md, stop 28), so a change
# to the notifier's state can be judged by them at any time.
#
#   tools/notify_cache_misses.sh INSTORE_BINARY DUMP [L2_BYTES] [more `instore run` flags]
#
# Needs valgrind (Debian `valgrind`). Takes about a minute per run on the bench dump.
set -euo pipefail
bin=$1 dump=$2
l2=${3:-2097152}
shift $(($# >= 3 ? 3 : 2))
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
measure() {
    valgrind --tool=callgrind --cache-sim=yes --LL="$l2,16,64" \
        --callgrind-out-file="$dir/out" "$bin" run --input "$dump" --output /dev/null "$@" \
        >/dev/null 2>&1
    # Ir and the last level's read and write misses, from the totals line.
    callgrind_annotate "$dir/out" 2>/dev/null | awk '
        /^Events shown:/ { for (i = 3; i <= NF; i++) col[$i] = i - 2 }
        /PROGRAM TOTALS/ {
            gsub(",", "")
            n = 0
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) v[++n] = $i
            print v[col["Ir"]], v[col["DLmr"]] + v[col["DLmw"]]
        }'
}
read -r ir0 miss0 < <(measure "$@")
read -r ir1 miss1 < <(measure --notifications "$@")
awk -v ir0="$ir0" -v ir1="$ir1" -v m0="$miss0" -v m1="$miss1" -v l2="$l2" 'BEGIN {
    printf "                 without      with   added\n"
    printf "instructions  %8.0f M %8.0f M  %+.1f %%\n", ir0 / 1e6, ir1 / 1e6, (ir1 - ir0) * 100 / ir0
    printf "L2 misses     %8.2f M %8.2f M  %+.2f M  (L2 %d KiB)\n", m0 / 1e6, m1 / 1e6, (m1 - m0) / 1e6, l2 / 1024
}'
