#!/usr/bin/env bash
# Installs what is missing, builds ./build (Release) and runs the whole test suite.
# Exits non-zero on any failure. Tests labelled gpu run only where a GPU answers nvidia-smi.
# Usage: deploy/test.sh [extra ctest arguments...]   e.g. deploy/test.sh -R core/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash deploy/install-deps.sh --test
bash deploy/build.sh

ctest_args=(--test-dir build --output-on-failure -j2 --no-tests=error)
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  echo "test: GPU found, running the tests labelled gpu too"
else
  echo "test: no GPU, skipping the tests labelled gpu"
  ctest_args+=(--label-exclude gpu)
fi
echo "test: ctest ${ctest_args[*]} $*"
ctest "${ctest_args[@]}" "$@"
