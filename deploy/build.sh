#!/usr/bin/env bash
# Configures (CMake + Ninja, Release) and builds tether into ./build.
# Shared by deploy/train.sh and deploy/test.sh; safe to rerun: only what changed is rebuilt.
# Usage: deploy/build.sh [TARGET...]     (no target: build everything)
# Environment: TETHER_CMAKE_ARGS  extra arguments for the configure step (e.g. -DTETHER_NATIVE=OFF)
#              TETHER_JOBS        parallel compile jobs (default: ninja's choice)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=build

for tool in cmake ninja g++; do
  command -v "$tool" >/dev/null || {
    echo "build: '$tool' not found; run deploy/install-deps.sh (as root) first" >&2
    exit 1
  }
done

# A build dir made by another generator cannot be reused: say so instead of failing obscurely.
if [ -f "$build_dir/CMakeCache.txt" ] &&
   ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build_dir/CMakeCache.txt"; then
  echo "build: $PWD/$build_dir was configured with another generator; remove it and rerun" >&2
  exit 1
fi

configure=(cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release)
# shellcheck disable=SC2206 # word splitting of the extra arguments is intended
if [ -n "${TETHER_CMAKE_ARGS:-}" ]; then configure+=(${TETHER_CMAKE_ARGS}); fi
echo "build: ${configure[*]}"
"${configure[@]}"

build=(cmake --build "$build_dir")
if [ -n "${TETHER_JOBS:-}" ]; then build+=(--parallel "$TETHER_JOBS"); fi
if [ $# -gt 0 ]; then build+=(--target "$@"); fi
echo "build: ${build[*]}"
"${build[@]}"
