#!/usr/bin/env bash
# Runs a tether cluster of separate hosts on one machine, each host a Linux network namespace:
#
#   tether-h0       the coordinator's host, 10.77.0.1; the coordinator listens on 10.77.0.1:7070
#   tether-hK       node K's host (K = 1..N), 10.77.0.(K+1), running `tether node` as nodeK
#   tether-sw       the switch: a bridge br0 with one port hK per host (a veth pair whose other
#                   end is eth0 in tether-hK)
#
# Hosts reach each other only over eth0 (their loopbacks are their own), with mutual TLS;
# --insecure is refused, since these addresses are not loopback. The bridge sits in its own
# namespace rather than the root one, so the machine's own interfaces, routes and firewall are
# neither touched nor in the way (Docker's FORWARD policy DROP would otherwise stop bridged
# traffic). The processes are started and watched by deploy/local-cluster.sh (--netns), with
# its logs, signals and exit status. On any exit the processes are stopped and the namespaces
# deleted. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2.
#
# Usage: deploy/netns-cluster.sh [OPTION...] [-- TRAIN_OPTION...]
#   --hosts=N       node hosts tether-h1..hN (default 3), plus tether-h0 for the coordinator
#   --tether=PATH   the binary (default: local-cluster.sh's, build/cli/tether)
#   --workdir=DIR   logs and certificates (default: a new directory under ${TMPDIR:-/tmp})
#   --node-opt=OPT  one more option for every node, e.g. --node-opt=--heartbeat=1s (repeatable)
#   --cut=K:AT:FOR  cut host K (0 is the coordinator's) off the network AT seconds after the
#                   cluster is started, for FOR seconds (repeatable): its bridge port is set
#                   down, so its packets vanish as on a pulled cable, then up again
#   --probe         only check that namespaces, veth pairs and bridges can be made here; exit 0
#                   if so, 77 (the ctest skip code) with the reason otherwise
#   --cleanup       only remove what a killed run left behind: processes in the tether-h* and
#                   tether-sw namespaces, and the namespaces
#   TRAIN_OPTION... as for deploy/local-cluster.sh: given to the coordinator
#   e.g. deploy/netns-cluster.sh --hosts=2 --cut=2:20:10 -- --epochs=1 --heartbeat-timeout=5s
#
# Exit status: the coordinator's, as local-cluster.sh reports it; 1 when the hosts could not be
# set up (not root, namespaces of an earlier run still there: see --cleanup); 2 on a usage
# error; with --probe 0 or 77.
set -euo pipefail

prog=netns-cluster
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=tether-h switch=tether-sw subnet=10.77.0 port=7070

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
msg() { echo "$prog: $*" >&2; }
die() { msg "$*"; exit 1; }
usage_error() { msg "$*; see $0 --help"; exit 2; }

hosts=3 probe=0 cleanup_only=0 workdir=""
cluster_opts=() cuts=() train_opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --hosts=*) hosts=${1#*=} ;;
    --tether=*) cluster_opts+=("$1") ;;
    --workdir=*) workdir=${1#*=} ;;
    --node-opt=*) cluster_opts+=("$1") ;;
    --cut=*) cuts+=("${1#*=}") ;;
    --probe) probe=1 ;;
    --cleanup) cleanup_only=1 ;;
    --insecure) usage_error "--insecure is refused: the hosts' addresses ($subnet.x) are not loopback, so tether requires TLS" ;;
    --) shift; train_opts=("$@"); break ;;
    *) usage_error "unknown option $1 (options are --name=value; tether train options go after --)" ;;
  esac
  shift
done
if ! [[ "$hosts" =~ ^[1-9][0-9]{0,2}$ ]] || ((hosts > 253)); then
  usage_error "--hosts=$hosts: expected a whole number from 1 to 253"
fi
for cut in ${cuts[@]+"${cuts[@]}"}; do
  [[ "$cut" =~ ^([0-9]+):([0-9]+(\.[0-9]+)?):([0-9]+(\.[0-9]+)?)$ ]] ||
    usage_error "--cut=$cut: expected HOST:AT:FOR, e.g. --cut=2:20:10 (seconds may have decimals)"
  ((BASH_REMATCH[1] <= hosts)) || usage_error "--cut=$cut: there is no host ${BASH_REMATCH[1]} (hosts are 0..$hosts)"
done

# --- what this machine allows -------------------------------------------------------------
# can_make_namespaces: makes and deletes a throw-away namespace with a bridge and a veth pair
# in it; on failure sets why.
can_make_namespaces() {
  local ns=tether-probe-$$ out
  why=""
  if [ "$(id -u)" != 0 ]; then
    why="not root: network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN (run with sudo)"
  elif ! command -v ip >/dev/null; then
    why="'ip' is missing: apt-get install iproute2"
  elif ! out=$(ip netns add "$ns" 2>&1); then
    why="'ip netns add' failed: $out"
  elif ! out=$({ ip -n "$ns" link add br0 type bridge && ip -n "$ns" link add v0 type veth peer name v1; } 2>&1); then
    why="cannot make a bridge and a veth pair in a namespace: $out"
  fi
  ip netns delete "$ns" 2>/dev/null || true
  [ -z "$why" ]
}

if [ "$probe" = 1 ]; then
  if can_make_namespaces; then
    msg "network namespaces, veth pairs and bridges work here"
    exit 0
  fi
  msg "no network namespaces here: $why"
  exit 77
fi

our_namespaces() { ip netns list | awk '{print $1}' | grep -E "^(${prefix}[0-9]+|$switch)\$" | paste -sd ' ' || true; }

# remove_namespaces: ends every process in our namespaces (SIGTERM, 5 s, SIGKILL), deletes them.
remove_namespaces() {
  local namespaces pids deadline=$((SECONDS + 5))
  namespaces=$(our_namespaces)
  [ -n "$namespaces" ] || return 0
  # shellcheck disable=SC2086 # one namespace name a word
  pids=$(for ns in $namespaces; do ip netns pids "$ns"; done)
  if [ -n "$pids" ]; then
    msg "ending processes left in the namespaces: $(echo "$pids" | paste -sd ' ')"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for pid in $pids; do
      while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2 || true; done
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
  for ns in $namespaces; do ip netns delete "$ns" || msg "could not delete namespace $ns"; done
}

if [ "$cleanup_only" = 1 ]; then
  [ "$(id -u)" = 0 ] || die "not root: run with sudo"
  leftovers=$(our_namespaces)
  remove_namespaces
  msg "removed: ${leftovers:-nothing to remove}"
  exit 0
fi

can_make_namespaces || die "cannot run here: $why"
leftovers=$(our_namespaces)
[ -z "$leftovers" ] ||
  die "namespaces of an earlier run still exist ($leftovers); remove them with $0 --cleanup"

if [ -z "$workdir" ]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/tether-netns.XXXXXX")
else
  mkdir -p "$workdir"
  workdir=$(cd "$workdir" && pwd)
fi

cluster_pid="" cutter_pids=()
# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local pid
  for pid in ${cutter_pids[@]+"${cutter_pids[@]}"}; do kill -- "-$pid" 2>/dev/null || true; done
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid" 2>/dev/null || true # it stops the job and its processes
    while kill -0 "$cluster_pid" 2>/dev/null; do sleep 0.2 || true; done
  fi
  remove_namespaces
}
trap cleanup EXIT

# --- the hosts ----------------------------------------------------------------------------
ip netns add "$switch"
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
for ((k = 0; k <= hosts; k++)); do
  ns=$prefix$k
  ip netns add "$ns"
  ip -n "$switch" link add "h$k" type veth peer name eth0 netns "$ns"
  ip -n "$switch" link set "h$k" master br0 up
  ip -n "$ns" address add "$subnet.$((k + 1))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done
msg "hosts: ${prefix}0 ($subnet.1, coordinator), ${prefix}1..$prefix$hosts ($subnet.2..$subnet.$((hosts + 1))), bridged in $switch"

# --- the cluster --------------------------------------------------------------------------
# local-cluster.sh runs in its own session: a Ctrl-C at the terminal reaches it only through
# on_signal below, once, as it would if it were run directly.
stop_requests=0
# shellcheck disable=SC2317 # run from traps
on_signal() {
  stop_requests=$((stop_requests + 1))
  if [ -n "$cluster_pid" ]; then
    kill -s "$1" "$cluster_pid" 2>/dev/null || true
  else
    exit 130
  fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM HUP

setsid env --default-signal=INT,QUIT bash "$root/deploy/local-cluster.sh" \
  --nodes="$hosts" --address="$subnet.1" --port="$port" --netns="$prefix" \
  --workdir="$workdir" ${cluster_opts[@]+"${cluster_opts[@]}"} \
  -- ${train_opts[@]+"${train_opts[@]}"} &
cluster_pid=$!

# Each cut: a small background job in its own process group, so cleanup ends it with its sleep.
for cut in ${cuts[@]+"${cuts[@]}"}; do
  IFS=: read -r host at for <<<"$cut"
  # shellcheck disable=SC2016 # the inner bash expands its own variables
  setsid bash -c '
    host=$1 at=$2 for=$3 switch=$4 log_file=$5
    log() { echo "netns-cluster: $*" | tee -a "$log_file" >&2; }
    sleep "$at"
    ip -n "$switch" link set "h$host" down && log "cut: host $host off the network (at +$at s, for $for s)"
    sleep "$for"
    ip -n "$switch" link set "h$host" up && log "cut: host $host back on the network"
  ' cut "$host" "$at" "$for" "$switch" "$workdir/cuts.log" </dev/null &
  cutter_pids+=("$!")
done

# Polling, not a bare `wait`: a trapped signal cuts `wait` short while the cluster runs on.
while kill -0 "$cluster_pid" 2>/dev/null; do sleep 0.2 || true; done
if wait "$cluster_pid"; then status=0; else status=$?; fi
cluster_pid=""
exit "$status"
