#!/usr/bin/env bash
# Runs tether's throughput bench and the PyTorch baselines in one invocation and prints
# the ratios (numbers from the same run, on the same machine, one after the other).
#
# Usage: bench/run.sh [--quick]
# Environment:
#   BUILD_DIR  build directory (default build-bench; configured Release if absent)
#   PYTHON     python with torch (default: .venv-bench/bin/python in the repository if present,
#              made with: python3 -m venv .venv-bench && .venv-bench/bin/pip install torch;
#              else python3)
#   PYTHON2    a second python with another torch build, also measured (e.g. /usr/bin/python3
#              with Debian's python3-torch); the faster one-core figure is the baseline
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
quick=()
[[ "${1:-}" == "--quick" ]] && quick=(--quick)

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$root/.venv-bench/bin/python" ]]; then PYTHON="$root/.venv-bench/bin/python"; else PYTHON=python3; fi
fi

if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$build" throughput >/dev/null

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/throughput" "${quick[@]}" --json "$out/tether.json"
echo
"$PYTHON" "$root/bench/pytorch_baseline.py" "${quick[@]}" --json "$out/torch.json"
if [[ -n "${PYTHON2:-}" ]]; then
  echo
  "$PYTHON2" "$root/bench/pytorch_baseline.py" "${quick[@]}" --json "$out/torch2.json"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

"$PYTHON" - "$out" <<'EOF'
import json, os, sys
d = sys.argv[1]
t = json.load(open(os.path.join(d, "tether.json")))
torches = [json.load(open(os.path.join(d, f))) for f in ("torch.json", "torch2.json")
           if os.path.exists(os.path.join(d, f))]
# the strongest baseline of each kind over the torch builds measured
def best(key):
    vals = [(p[key], p["torch_version"]) for p in torches if key in p]
    return max(vals) if vals else (0.0, "-")

def line(name, value, base, base_name, target):
    if not value or not base:
        print(f"  {name:<40} not measured (see the output above)")
        return
    r = value / base if base else float("nan")
    verdict = "met" if r >= target else "MISSED"
    print(f"  {name:<40} {value:12.1f}  {base_name:<34} {base:12.1f}  {r:6.3f}x  (target >= {target}x: {verdict})")

print(f"ratios ({t['machine']}, {t['cores']} cores, {t['date']})")
b1, v1 = best("torch_1core")
bh, vh = best("torch_hogwild_2p")
bd, vd = best("torch_ddp_2p")
line("tether compute fwd+bwd [samples/s]", t.get("compute_fwd_bwd", 0), b1, f"PyTorch 1-core loop ({v1})", 1.5)
line("tether local step [samples/s]", t.get("compute_step", 0), b1, f"PyTorch 1-core loop ({v1})", 1.5)
line("tether async 2 workers e2e [samples/s]", t.get("e2e_2w", 0), bh, f"Hogwild 2 processes ({vh})", 1.0)
line("tether async 2 workers e2e [samples/s]", t.get("e2e_2w", 0), bd, f"DDP gloo 2 processes ({vd})", 1.0)
line("shard_core::apply [MB/s]", t["shard_core_apply"], t["add_into_buffer"], "add-into-buffer", 0.5)
line("shard actor push+pull, 1 in flight [MB/s]", t["shard_actor_w1"], t["add_into_buffer"], "add-into-buffer", 0.5)
line("shard actor push+pull, 2 in flight [MB/s]", t["shard_actor_w2"], t["add_into_buffer"], "add-into-buffer", 0.5)
print(f"  small push+pull round trip: median {t['rtt_event_median_us']:.2f} us, p99 {t['rtt_event_p99_us']:.2f} us"
      f" (event-based client); median {t['rtt_scoped_median_us']:.2f} us, p99 {t['rtt_scoped_p99_us']:.2f} us (scoped_actor client)")
EOF
echo; ninja -C "$build" tether_transport_bench >/dev/null && "$build/bench/tether_transport_bench" "${quick[@]}" # issue 4: transport
