#!/usr/bin/env bash
# Runs the whole fault-injection matrix (tests/fault: every scenario under async, ssp S=3 and
# bsp, the seeded random schedules, the network cut where namespaces can be made) one test
# case per process, and prints its table of results, as docs/fault-tolerance.md shows it.
# Usage: tests/fault/run-matrix.sh [BUILD_DIR [PATTERN]]   (default: build, every entry)
#   PATTERN: an extended regular expression; only the entries whose name matches run
#   (e.g. '^bsp: ' or 'corrupt|network cut').
# Exit status: 0 when every entry passed or was skipped, 1 otherwise, 2 on a usage error.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
pattern=${2:-.}
suite="$build/tests/tether_fault_tests"
[ -x "$suite" ] || { echo "run-matrix: $suite not found; build first (deploy/build.sh tether_fault_tests)" >&2; exit 2; }
table=$(mktemp "${TMPDIR:-/tmp}/tether-fault-table.XXXXXX")
trap 'rm -f "$table" "$table.row" "$table.out"' EXIT
start=$(date +%s)
failed=0 passed=0 skipped=0
# One case per process: a skipped case exits 77 (tests/skip.hpp), which would end the others.
while IFS= read -r name; do
  [ -n "$name" ] || continue
  t0=$(date +%s)
  TETHER_FAULT_FULL=1 TETHER_FAULT_TABLE="$table.row" "$suite" --test-case="${name//,/\\,}" \
    > "$table.out" 2>&1
  rc=$?
  case $rc in
    0) passed=$((passed + 1)); verdict=passed ;;
    77) skipped=$((skipped + 1)); verdict="skipped ($(grep -m1 '^skipped:' "$table.out"))" ;;
    *) failed=$((failed + 1)); verdict="FAILED (exit $rc)"; tail -40 "$table.out" ;;
  esac
  # The row the case wrote (the job's outcome), with the suite's verdict on all its checks.
  if [ -s "$table.row" ]; then
    sed "s/\$/ ${verdict%% *} |/" "$table.row" >> "$table"
    rm -f "$table.row"
  fi
  grep 'random schedule, seed' "$table.out"
  echo "$name: $verdict, $(( $(date +%s) - t0 )) s"
done < <("$suite" --list-test-cases --no-intro --no-version | grep -E '^(async|ssp|bsp): ' | grep -E -- "$pattern")
rm -f "$table.out"
echo
echo "fault matrix: $(date -u +%Y-%m-%d), $(nproc) cores, $(( $(date +%s) - start )) s:" \
     "$passed passed, $skipped skipped, $failed failed"
echo "| model | scenario | outcome | test accuracy (vs that model's fault-free) | restarts worker, shard, standby / failovers shard | updates lost | max clock gap | recovery | samples/s before / after recovery | all checks |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
sort -s -t'|' -k3,3 "$table"
[ "$failed" = 0 ]
