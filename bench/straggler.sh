#!/usr/bin/env bash
# Fast workers do more work: one job with a 3x straggler under async, ssp and bsp,
# alternating, REPS times each; prints each run's samples/s and test accuracy and the
# medians' ratios against bsp of the same invocation. With work handed out in chunks as
# workers ask (actors/work_dispatcher), async should approach (1 + 1/3) / (2/3) = 2x bsp;
# the target is at least 1.5x.
#
# Usage: bench/straggler.sh [REPS (default 3)] [-- TRAIN_OPTION...]
#   default job: --workers=2 --straggler=1:3 --limit-train=20000 --epochs=2
# Environment: TETHER (the binary; default build/cli/tether)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps=${1:-3}
shift || true
[[ "${1:-}" == "--" ]] && shift
job=("$@")
[[ ${#job[@]} -eq 0 ]] && job=(--workers=2 --straggler=1:3 --limit-train=20000 --epochs=2)
tether=${TETHER:-$root/build/cli/tether}
[[ -x "$tether" ]] || { echo "straggler.sh: no tether binary at $tether; build first or set TETHER" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

models=(bsp ssp async)
declare -A rates
echo "straggler bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "job: ${job[*]}"
for ((r = 1; r <= reps; ++r)); do
  for m in "${models[@]}"; do
    extra=(--consistency="$m")
    [[ "$m" == ssp ]] && extra+=(--staleness=3)
    "$tether" train "${job[@]}" "${extra[@]}" --quiet --checkpoint-dir="$work/ck-$m-$r" \
      --summary="$work/$m-$r.json" > "$work/$m-$r.log" 2>&1 ||
      { echo "straggler.sh: the $m run failed:" >&2; cat "$work/$m-$r.log" >&2; exit 1; }
    read -r rate acc < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s["samples_per_sec"], s["test_accuracy"])' "$work/$m-$r.json")
    rates[$m]+="$rate "
    printf '  run %d %-5s %10.0f samples/s  test accuracy %.4f\n' "$r" "$m" "$rate" "$acc"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
base=$(median "${rates[bsp]}")
for m in "${models[@]}"; do
  med=$(median "${rates[$m]}")
  printf '%-5s median %10.0f samples/s  %.2fx bsp\n' "$m" "$med" "$(awk -v a="$med" -v b="$base" 'BEGIN {print a / b}')"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
