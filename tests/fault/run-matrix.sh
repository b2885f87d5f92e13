#!/usr/bin/env bash
# Runs the whole fault-injection matrix (tests/fault/fault_test.cpp, every scenario, the
# slow ones too) and prints its table of results, as docs/fault-tolerance.md shows it.
# Usage: tests/fault/run-matrix.sh [BUILD_DIR]   (default: build)
# Exit status: the suite's (0 when every scenario passed).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
suite="$build/tests/tether_fault_tests"
[ -x "$suite" ] || { echo "run-matrix: $suite not found; build first (cmake --build $build)" >&2; exit 2; }
table=$(mktemp "${TMPDIR:-/tmp}/tether-fault-table.XXXXXX")
trap 'rm -f "$table"' EXIT
start=$(date +%s)
TETHER_FAULT_TABLE="$table" "$suite" --no-skip --duration=true
status=$?
echo
echo "fault matrix: $(date -u +%Y-%m-%d), $(nproc) cores, $(( $(date +%s) - start )) s, suite exit $status"
echo "| scenario | outcome | test accuracy (vs fault-free) | restarts worker, shard, standby / failovers shard | updates lost | recovery |"
echo "| --- | --- | --- | --- | --- | --- |"
cat "$table"
exit $status
