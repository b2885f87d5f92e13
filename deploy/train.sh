#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a trained model: installs what is missing,
# builds ./build (Release), then runs the default job, `tether train` on Fashion-MNIST.
# Usage: deploy/train.sh [tether train options...]   e.g. deploy/train.sh --epochs=1
#        deploy/train.sh lm [options...]  the language model's default job instead: a
#        byte-level GPT on the fortunes corpus (tether train --dataset=text; docs/lm.md)
# tether runs in the caller's directory, so relative paths in the options (and the default
# ./checkpoints) mean what they say there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/deploy/install-deps.sh"
bash "$root/deploy/build.sh" tether
if [ "${1:-}" = lm ]; then
  shift
  set -- --dataset=text "$@"
fi
echo "train: $root/build/cli/tether train $*"
exec "$root/build/cli/tether" train "$@"
