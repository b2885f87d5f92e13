#!/usr/bin/env bash
# One worker's compute for the byte-level GPT, tether against PyTorch, measured alternately
# in one invocation, in tokens per second of the measuring thread's CPU time (a shared
# machine's other processes then count little; wall-time figures are printed too): each round runs bench/lm_compute, then bench/lm_pytorch.py with every
# torch given, and the ratios use the medians over rounds (against the fastest torch).
#
# Usage: bench/lm_run.sh [--rounds N] [--seconds S]
# Environment:
#   BUILD_DIR   build directory with bench/lm_compute (default ./build)
#   PYTHONS     space-separated pythons with torch (default: .venv-bench/bin/python in the
#               repository if it exists (see bench/run.sh), and /usr/bin/python3 if it imports torch)
#   OPENBLAS_CORETYPE  passed through to tether and to torch builds that use OpenBLAS
#               (Debian's); OpenBLAS 0.3.21 falls back to slow Prescott kernels on CPUs it
#               does not know: see core/blas.hpp blas_better_core()
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds=3
seconds=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "usage: bench/lm_run.sh [--rounds N] [--seconds S]" >&2; exit 2 ;;
  esac
done
if [[ -z "${PYTHONS:-}" ]]; then
  PYTHONS=""
  [[ -x "$root/.venv-bench/bin/python" ]] && PYTHONS="$root/.venv-bench/bin/python"
  /usr/bin/python3 -c "import torch" 2>/dev/null && PYTHONS="$PYTHONS /usr/bin/python3"
fi
[[ -x "$build/bench/lm_compute" ]] || { echo "lm_run: build bench/lm_compute first" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "lm_run: $rounds rounds; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}; load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  "$build/bench/lm_compute" --trials 1 --seconds "$seconds" --json "$out/tether.$r.json"
  i=0
  for py in $PYTHONS; do
    i=$((i + 1))
    "$py" "$root/bench/lm_pytorch.py" --trials 1 --seconds "$seconds" --json "$out/torch$i.$r.json"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$rounds" <<'PY'
import glob, json, os, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
load = lambda pat: [json.load(open(f)) for f in sorted(glob.glob(os.path.join(d, pat)))]
t = load("tether.*.json")
med = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"\nmedians over {rounds} rounds, tokens/s ({t[0]['cpu']}, {t[0]['date']}):")
for k in ("step", "fwd_bwd", "forward", "sgemm"):
    print(f"  tether {k:<8} {med(t, k):10.1f}")
print(f"  tether sgemm    {med(t, 'sgemm_gflops'):10.1f} GFLOP/s")
print(f"  tether step per wall second {med(t, 'step_wall'):10.1f} (all others per CPU second)")
best = None
for i in range(1, 10):
    rows = load(f"torch{i}.*.json")
    if not rows:
        continue
    s, fb = med(rows, "step"), med(rows, "fwd_bwd")
    print(f"  torch {rows[0]['torch_version']:<14} step {s:10.1f}  fwd_bwd {fb:10.1f}")
    if best is None or s > best[0]:
        best = (s, fb, rows[0]["torch_version"])
if best:
    print(f"ratio step (fwd+bwd+AdamW) tether / torch {best[2]}: {med(t, 'step') / best[0]:.3f}x (target >= 1.5x)")
    print(f"ratio fwd+bwd tether / torch {best[2]}: {med(t, 'fwd_bwd') / best[1]:.3f}x")
    print(f"sgemm bound / torch step: {med(t, 'sgemm') / best[0]:.3f}x (the most tether could reach with these sgemm calls)")
PY
