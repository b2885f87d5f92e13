#!/usr/bin/env bash
# The acceptance case of supervision through failures: a 3-node loopback cluster
# (deploy/local-cluster.sh --insecure), `--workers=3 --epochs=5 --seed=3`, under bsp and
# ssp (S=3); for each model one fault-free run, then one run per kill time with node1 (the
# first to join: it holds shard 0's primary) SIGKILLed that many seconds after the
# coordinator started. Prints per run: exit status, wall seconds, the ratio against the
# fault-free run of the same model in this invocation, max clock gap, updates lost, test
# accuracy. Targets: every run finishes, gap 0 (bsp) or at most 3 (ssp), 0 lost, accuracy
# within 1.5 points, wall at most 1.5x the fault-free run's.
#
# Usage: bench/failover_wall.sh [KILL_SECONDS...]   (default: 5 6 7)
# Environment: TETHER (the binary; default build/cli/tether), MODELS (default "bsp ssp")
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tether=${TETHER:-$root/build/cli/tether}
[[ -x "$tether" ]] || { echo "failover_wall.sh: no tether binary at $tether" >&2; exit 1; }
kills=("$@")
[[ ${#kills[@]} -eq 0 ]] && kills=(5 6 7)
work=$(mktemp -d)
trap 'pkill -KILL -f -- "--workdir=$work" 2>/dev/null; rm -rf "$work"' EXIT
port=$((7300 + RANDOM % 500))

# run NAME MODEL KILL_AT (0: no kill): prints one row; sets last_wall (the job's wall seconds).
run() {
  local name=$1 model=$2 at=$3 dir=$work/$1
  local opts=(--consistency="$model")
  [[ "$model" == ssp ]] && opts+=(--staleness=3)
  mkdir -p "$dir"
  bash "$root/deploy/local-cluster.sh" --insecure --nodes=3 --port=$port --tether="$tether" \
    --workdir="$dir" -- --min-nodes=3 --workers=3 --epochs=5 --seed=3 "${opts[@]}" \
    --checkpoint-dir="$dir/ck" --summary="$dir/summary.json" > "$dir/out.log" 2>&1 &
  local cluster=$!
  if [[ "$at" != 0 ]]; then
    sleep "$at"
    pkill -KILL -f -- "node --join=127.0.0.1:$port --name=node1" || echo "  (node1 not found at ${at}s)"
  fi
  wait "$cluster"
  local code=$?
  port=$((port + 1))
  last_wall=$(python3 -c '
import json, sys
path, name, code, base = sys.argv[1:]
try:
    s = json.load(open(path))
except Exception:
    s = {}
wall = float(s.get("wall_seconds", 0))
base = float(base) or wall
ratio = wall / base if base else 0
gap, lost = s.get("max_clock_gap", "-"), s.get("updates_lost", "-")
acc, outcome = s.get("test_accuracy", "-"), s.get("outcome", "-")
print(f"  {name:<16} exit {code:>3}  wall {wall:6.1f} s  {ratio:5.2f}x  gap {gap}  lost {lost}  "
      f"accuracy {acc}  outcome {outcome}", file=sys.stderr)
print(wall)' "$dir/summary.json" "$name" "$code" "${base_wall:-0}")
}

echo "failover wall: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for model in ${MODELS:-bsp ssp}; do
  echo "$model:"
  base_wall=
  run "$model-fault-free" "$model" 0
  base_wall=$last_wall
  for at in "${kills[@]}"; do
    run "$model-kill-at-${at}s" "$model" "$at"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
