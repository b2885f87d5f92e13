#!/usr/bin/env bash
# Runs on the GPU machine, inside the unpacked bench/gpu/pack.sh archive, in one call:
#   1. the gpu tests (every kernel against its CPU reference, the whole step's gradient
#      against the CPU backend's): tether_gpu_tests
#   2. a short `tether train --gpus=0` on Fashion-MNIST beside the same job on the CPU
#   3. the GPU step benchmark (tether_gpu_bench) and PyTorch's step, side by side
# and prints a table. Output files go to $OUT (the device tool brings them back).
# Usage: tether/device-run.sh   (cwd anywhere; OUT defaults to ./out)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/out}
mkdir -p "$out"
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
bin=$here/bin
nvidia-smi -L | tee "$out/gpu.txt"
echo "== gpu tests"
"$bin/tether_gpu_tests" 2>&1 | tee "$out/gpu-tests.txt" | tail -25
echo "== train: GPU worker vs CPU worker (1 epoch, 1 worker, 2 shards)"
job=(--data-dir="$here/data" --workers=1 --shards=2 --epochs=1 --quiet)
"$bin/tether" train "${job[@]}" --gpus=0 --checkpoint-dir="$out/ck-gpu" \
  --summary="$out/train-gpu.json" 2>&1 | tee "$out/train-gpu.txt"
"$bin/tether" train "${job[@]}" --checkpoint-dir="$out/ck-cpu" \
  --summary="$out/train-cpu.json" 2>&1 | tee "$out/train-cpu.txt"
echo "== step benchmark: tether, then PyTorch, same GPU"
"$bin/tether_gpu_bench" 2>&1 | tee "$out/bench-tether.txt"
python3 "$here/pytorch_step.py" 2>&1 | tee "$out/bench-pytorch.txt"
