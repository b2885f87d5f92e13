#!/usr/bin/env bash
# Installs every Debian 12 package tether needs to build, test and train (not CUDA: optional,
# the build is CPU-only without nvcc). Each package matches a find_* in cmake/dependencies.cmake,
# messages/CMakeLists.txt or tests/CMakeLists.txt.
# Idempotent: packages already present are left alone, so a second run is quick.
# Usage: deploy/install-deps.sh [--test]   (as root, or with sudo available)
set -euo pipefail

packages=(
  # toolchain (C is enabled too: Cap'n Proto's CMake config needs it; gcc comes with g++)
  g++ cmake ninja-build pkg-config
  # libraries: CAF 0.17.6 (core, io, openssl), Cap'n Proto 0.9.2 (capnp compiler + library),
  # Boost 1.74 headers, doctest, OpenBLAS, zlib, OpenSSL
  libcaf-dev capnproto libcapnp-dev libboost-dev doctest-dev
  libopenblas-dev zlib1g-dev libssl-dev
  # clusters: certificates (deploy/make-certs.sh), network namespaces (deploy/netns-cluster.sh)
  openssl iproute2
  # data: Fashion-MNIST as IDX .gz files under /usr/share/datasets/fashion-mnist
  dataset-fashion-mnist
  # data: the language model's default text corpus, /usr/share/games/fortunes
  fortunes
  # the experiment driver and its plots (examples/run_experiment.py)
  python3 python3-matplotlib
)
# With --test, also what the test suite checks our output with: numpy reads exported
# weights, promtool and a Prometheus server scrape /metrics, headless Chromium renders the
# status page; clang with libFuzzer fuzzes the decoders (tests/fuzz); nlohmann-json reads
# JSON in the hostile suite (tests/hostile, which needs it to build). Without them those
# tests skip with a message (the fuzz targets then run as plain GCC programs); CI installs them.
if [ "${1:-}" = "--test" ]; then
  packages+=(python3-numpy prometheus chromium clang libclang-rt-14-dev nlohmann-json3-dev)
fi

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

command -v apt-get >/dev/null || {
  echo "install-deps: missing ${missing[*]}, and no apt-get: install them by hand (Debian 12 names)" >&2
  exit 1
}
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; run as root" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
# No questions asked (CI has no stdin); apt-get update first: a fresh machine has no package lists.
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300) # wait for a busy apt (cloud VMs)
"${sudo_cmd[@]}" apt-get "${apt_opts[@]}" update
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
