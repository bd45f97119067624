#!/usr/bin/env bash
# What a flag costs `instore run`, on a machine whose speed drifts from minute to minute:
# each run with the flag is set against the mean of the runs without it just before and just
# after (same binary), and the median of N such ratios is reported. CPU time from perf.
#
#   tools/paired_ratio.sh N INSTORE_BINARY DUMP "--notifications [more flags]"
set -euo pipefail
n=$1 bin=$2 dump=$3 flags=$4
cpu_ms() {
    # shellcheck disable=SC2086
    perf stat -x, -e task-clock "$bin" run --input "$dump" --output /dev/null $1 2>&1 >/dev/null |
        awk -F, '/task-clock/ {print $1}'
}
ratios=()
for _ in $(seq "$n"); do
    before=$(cpu_ms "")
    with=$(cpu_ms "$flags")
    after=$(cpu_ms "")
    echo "without $before ms, with $with ms, without $after ms" >&2
    ratios+=("$(awk -v w="$with" -v a="$before" -v b="$after" 'BEGIN {print w / ((a + b) / 2)}')")
done
printf '%s\n' "${ratios[@]}" | sort -n |
    awk '{r[NR] = $1} END {printf "with/without: median %.3f, min %.3f, max %.3f (n=%d)\n", r[int((NR + 1) / 2)], r[1], r[NR], NR}'
