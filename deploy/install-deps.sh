#!/usr/bin/env bash
# Installs every Debian package tether needs to build, test and train.
# Idempotent: packages already present are left alone, so a second run is quick.
# Usage: deploy/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git ca-certificates
  # libraries
  libcaf-dev capnproto libcapnp-dev libboost-dev doctest-dev
  libopenblas-dev zlib1g-dev libssl-dev
  # data: Fashion-MNIST as IDX .gz files under /usr/share/datasets/fashion-mnist
  dataset-fashion-mnist
  # test helpers: the checkpoint-format test reads files with python3
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; run as root" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
