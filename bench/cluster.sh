#!/usr/bin/env bash
# The cost of running a job across processes: the same job in one process (`tether train`)
# and on a 3-node loopback cluster (deploy/local-cluster.sh), with TLS and with plain TCP,
# alternating, REPS times each; prints each run's test accuracy and samples/s and the
# medians' ratios against the one-process job of the same invocation.
#
# Usage: bench/cluster.sh [REPS (default 3)] [-- TRAIN_OPTION...]
#   default job: --workers=4 --shards=2 --epochs=3 --limit-train=30000
# Environment: TETHER (the binary; default build-lead/cli/tether, else build/cli/tether)
#   MODES: the runs to compare, the first one the baseline (default "process tls plain");
#   a mode is process, tls or plain, optionally :R for --shard-replicas=R (the cost of hot
#   standbys: MODES="plain:0 plain:1 tls:0 tls:1"; a cluster's default is auto = 1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps=${1:-3}
shift || true
[[ "${1:-}" == "--" ]] && shift
job=("$@")
[[ ${#job[@]} -eq 0 ]] && job=(--workers=4 --shards=2 --epochs=3 --limit-train=30000)
tether=${TETHER:-}
if [[ -z "$tether" ]]; then
  for t in "$root/build-lead/cli/tether" "$root/build/cli/tether"; do
    [[ -x "$t" ]] && tether=$t && break
  done
fi
[[ -x "$tether" ]] || { echo "cluster.sh: no tether binary; build first or set TETHER" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

field() { grep -o "\"$2\": *[0-9.eE+-]*" "$1" | head -1 | grep -o '[0-9.eE+-]*$'; }

run_one() { # mode rep
  local mode=$1 rep=$2 dir="$work/${1/:/-}-$2" job=("${job[@]}")
  mkdir -p "$dir"
  [[ $mode == *:* ]] && job+=(--shard-replicas="${mode#*:}")
  case ${mode%%:*} in
    process) "$tether" train "${job[@]}" --checkpoint-dir="$dir/ck" --summary="$dir/s.json" \
               --quiet > "$dir/log" 2>&1 ;;
    tls) bash "$root/deploy/local-cluster.sh" --nodes=3 --port=$((20000 + RANDOM % 20000)) --tether="$tether" \
           --workdir="$dir/w" --node-opt=--cores=1 -- "${job[@]}" --checkpoint-dir="$dir/ck" \
           --summary="$dir/s.json" > "$dir/log" 2>&1 ;;
    plain) bash "$root/deploy/local-cluster.sh" --nodes=3 --port=$((20000 + RANDOM % 20000)) --insecure --tether="$tether" \
             --workdir="$dir/w" --node-opt=--cores=1 -- "${job[@]}" --checkpoint-dir="$dir/ck" \
             --summary="$dir/s.json" > "$dir/log" 2>&1 ;;
  esac
  printf '%-8s rep %d  accuracy %s  samples/s %s\n' "$mode" "$rep" \
    "$(field "$dir/s.json" test_accuracy)" "$(field "$dir/s.json" samples_per_sec)"
  field "$dir/s.json" samples_per_sec >> "$work/${mode/:/-}.rates"
  field "$dir/s.json" test_accuracy >> "$work/${mode/:/-}.acc"
}

median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "cluster.sh: $(date -u '+%F %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "job: ${job[*]}"
read -ra modes <<< "${MODES:-process tls plain}"
for rep in $(seq 1 "$reps"); do
  for mode in "${modes[@]}"; do run_one "$mode" "$rep"; done
done
first=${modes[0]/:/-}
base=$(median "$work/$first.rates")
base_acc=$(median "$work/$first.acc")
echo
printf '%-8s  %-14s %-12s %-10s %s\n' mode "median acc" "samples/s" ratio "acc - ${modes[0]}"
for mode in "${modes[@]}"; do
  r=$(median "$work/${mode/:/-}.rates"); a=$(median "$work/${mode/:/-}.acc")
  awk -v m="$mode" -v r="$r" -v b="$base" -v a="$a" -v ba="$base_acc" \
    'BEGIN { printf "%-8s  %-14.4f %-12.0f %-10.2f %+.4f\n", m, a, r, r / b, a - ba }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
