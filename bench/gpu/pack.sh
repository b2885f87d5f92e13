#!/usr/bin/env bash
# Packs what the GPU machine needs to run tether's GPU checks (bench/gpu/device-run.sh)
# into one tar.xz: the binaries of a CUDA build (CMAKE_CUDA_ARCHITECTURES=90), the shared
# libraries they need that the GPU machine (Ubuntu 24.04, CUDA 13, PyTorch; nothing can be
# installed there) lacks, Fashion-MNIST, and the scripts. The CUDA runtime and cuBLAS are
# not packed: the GPU machine has them in /usr/local/cuda/lib64.
#
# Usage: bench/gpu/pack.sh BUILD_DIR OUT.tar.xz
#   BUILD_DIR: a CUDA build for the GPU machine's CPU too, i.e. without -march=native:
#     cmake -S . -B build-gpu -G Ninja -DTETHER_NATIVE=OFF -DCMAKE_CUDA_ARCHITECTURES=90
#     cmake --build build-gpu
#   e.g. bench/gpu/pack.sh build-gpu .gpu/tether-gpu.tar.xz   (.gpu is ignored by git: carry it)
# Then, in one device call with carry [".gpu"]:
#   tar -xJf .gpu/tether-gpu.tar.xz -C /tmp && OUT=$OUT /tmp/tether/device-run.sh
# Exit status: 0, or 1 with the reason (a binary missing: build with CUDA first).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: $0 BUILD_DIR OUT.tar.xz}
out=${2:?usage: $0 BUILD_DIR OUT.tar.xz}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/tether/bin" "$stage/tether/lib" "$stage/tether/data"
for b in cli/tether tests/tether_gpu_tests bench/tether_gpu_bench; do
  [ -x "$build/$b" ] || { echo "pack: $build/$b missing: build with CUDA (cmake finds nvcc) first" >&2; exit 1; }
  cp "$build/$b" "$stage/tether/bin/"
done
# Every library the binaries load, but the C/C++ runtime and CUDA's own (present there).
for b in "$stage"/tether/bin/*; do ldd "$b"; done | awk '/=> \// { print $3 }' | sort -u |
  grep -v -E '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*|libcudart|libcublas[^/]*|libcuda)\.so' |
  while read -r lib; do cp -L "$lib" "$stage/tether/lib/"; done
cp /usr/share/datasets/fashion-mnist/*.gz "$stage/tether/data/"
cp "$root/bench/gpu/device-run.sh" "$root/bench/gpu/pytorch_step.py" "$stage/tether/"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -cJf "$out" tether
echo "pack: $out, $(du -h "$out" | cut -f1) ($(ls "$stage/tether/lib" | wc -l) libraries)"
