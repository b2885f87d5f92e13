#!/usr/bin/env bash
# The default language-model job end to end against PyTorch, side by side in one
# invocation: tether's default LM job (`tether train --dataset=text`: 2 workers, async,
# 2000 updates of 12 x 64 bytes) and bench/lm_pytorch.py --mode train (the same model and
# tokens, one thread, 2000 steps). Prints both runs' tokens/s, final validation loss and
# wall time, and the ratios the language-model issue sets targets for:
#   tokens/s, tether / PyTorch one thread            (target >= 1.8x)
#   tether's final validation loss                   (target <= 2.15 nats/byte)
#   wall to 2.10 nats/byte, tether / PyTorch         (target <= 0.6x; PyTorch's wall is its
#                                                     2000 steps' training time when it ends
#                                                     at or below 2.10, else not reached)
#
# Usage: bench/lm_e2e.sh
# Environment: TETHER (default build/cli/tether); PYTHON, a python with torch and numpy
#   (default .venv-bench/bin/python in the repository, see bench/run.sh, else python3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tether=${TETHER:-$root/build/cli/tether}
[[ -x "$tether" ]] || { echo "lm_e2e: no tether binary at $tether; build first" >&2; exit 1; }
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$root/.venv-bench/bin/python" ]]; then PYTHON="$root/.venv-bench/bin/python"; else PYTHON=python3; fi
fi
"$PYTHON" -c 'import torch, numpy' 2>/dev/null ||
  { echo "lm_e2e: $PYTHON cannot import torch and numpy" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "lm_e2e: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$tether" train --dataset=text --quiet --checkpoint-dir="$work/ck" --summary="$work/tether.json"
echo "load between: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" "$root/bench/lm_pytorch.py" --mode train --json "$work/torch.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" - "$work/tether.json" "$work/torch.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
p = json.load(open(sys.argv[2]))
tt, pt = t["tokens_per_sec"], p["tokens_per_s"]
print(f"tether:  {tt:10,.0f} tokens/s  valid {t['valid_loss']:.4f} nats/byte  "
      f"training {t['training_seconds']:.1f} s  wall {t['wall_seconds']:.1f} s")
final_step = max(int(k) for k in p["curve"])
pv = p["curve"][str(final_step)]
print(f"pytorch: {pt:10,.0f} tokens/s  valid {pv:.4f} nats/byte  training "
      f"{p['train_seconds']:.1f} s  (torch {p['torch_version']}, one thread)")
print(f"tokens/s: {tt / pt:.2f}x PyTorch (target >= 1.8x)")
print(f"final validation loss: {t['valid_loss']:.4f} (target <= 2.15)")
reach = [pt_["wall_seconds"] for pt_ in t["curve"] if pt_.get("valid_loss", 99) <= 2.10]
mine = f"{reach[0]:.1f} s" if reach else "not reached"
theirs = p["train_seconds"] if pv <= 2.10 else None
if reach and theirs:
    print(f"wall to 2.10 nats/byte: tether {mine}, PyTorch {theirs:.1f} s: "
          f"{reach[0] / theirs:.2f}x (target <= 0.6x)")
else:
    print(f"wall to 2.10 nats/byte: tether {mine}, PyTorch "
          f"{'%.1f s' % theirs if theirs else 'not reached in 2000 steps'}")
EOF
