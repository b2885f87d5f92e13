#!/usr/bin/env bash
# Runs a whole tether cluster on this machine: one `tether coordinator` and N `tether node`
# processes on 127.0.0.1, with mutual TLS (certificates made by deploy/make-certs.sh into
# WORKDIR/tls on the first run, reused after) or, with --insecure, plain TCP.
#
# Usage: deploy/local-cluster.sh [OPTION...] [-- TRAIN_OPTION...]
#   --nodes=N        nodes to start, named node1..nodeN (default 3); the coordinator waits for all
#   --insecure       plain TCP instead of TLS (tether allows it on loopback only)
#   --port=P         the coordinator's port (default 7070)
#   --tether=PATH    the binary (default build/cli/tether, else build/tether, in this checkout)
#   --workdir=DIR    logs and certificates (default: a new directory under ${TMPDIR:-/tmp})
#   --node-opt=OPT   one more option for every node, e.g. --node-opt=--cores=1 (repeatable)
#   --netns=PREFIX   run the coordinator in network namespace PREFIX0 and node K in PREFIXK;
#                    used by deploy/netns-cluster.sh, which makes them
#   --address=IP     the coordinator's address (default 127.0.0.1; netns-cluster.sh sets it)
#   TRAIN_OPTION...  given to the coordinator after its own options: any `tether train` option
#                    (--epochs=1, --checkpoint-dir=DIR, ...) and coordinator options such as
#                    --heartbeat=1s. Relative paths mean what they say in the current directory.
#   e.g. deploy/local-cluster.sh --nodes=2 -- --workers=4 --shards=2 --epochs=1 --limit-train=5000
#
# Output: each process writes WORKDIR/<name>.log (coordinator, node1, ...); the coordinator's
# log is also shown here. The script waits for the coordinator; nodes then get 15 s to end by
# themselves, then SIGTERM (drain), then after 20 s more SIGKILL. Every node's exit status is
# reported, ending with the line `local-cluster: nodes: node1=0 node2=0 ...`. When every node
# has ended, one of them with an error, the coordinator (which would wait for nodes forever)
# gets SIGTERM 10 s later.
# Ctrl-C (or SIGTERM/SIGHUP to this script): the coordinator gets SIGINT (SIGTERM) and stops
# the job with a final checkpoint; a second one kills every process at once.
# Exit status: the coordinator's (128+n if signal n killed it); 1 when the cluster could not be
# started (the coordinator never listened, port busy, certificates failed); 2 on a usage error.
set -euo pipefail

prog=local-cluster
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
listen_timeout=60 # seconds for the coordinator to open its port
node_grace=15     # seconds nodes have to end by themselves once the coordinator has ended
drain_grace=20    # seconds from SIGTERM (drain) to SIGKILL
orphan_grace=10   # seconds the coordinator may run on once every node has ended, one failed

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
msg() { echo "$prog: $*" >&2; }
die() { msg "$*"; exit 1; }
usage_error() { msg "$*; see $0 --help"; exit 2; }

nodes=3 insecure=0 port=7070 tether="" workdir="" netns="" address=127.0.0.1
node_opts=() train_opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --nodes=*) nodes=${1#*=} ;;
    --insecure) insecure=1 ;;
    --port=*) port=${1#*=} ;;
    --tether=*) tether=${1#*=} ;;
    --workdir=*) workdir=${1#*=} ;;
    --node-opt=*) node_opts+=("${1#*=}") ;;
    --netns=*) netns=${1#*=} ;;
    --address=*) address=${1#*=} ;;
    --) shift; train_opts=("$@"); break ;;
    *) usage_error "unknown option $1 (options are --name=value; tether train options go after --)" ;;
  esac
  shift
done
[[ "$nodes" =~ ^[1-9][0-9]{0,2}$ ]] || usage_error "--nodes=$nodes: expected a whole number from 1 to 999"
if ! [[ "$port" =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
  usage_error "--port=$port: expected a port number from 1 to 65535"
fi
[[ "$address" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || usage_error "--address=$address: expected an IPv4 address"

if [ -z "$tether" ]; then
  tether=$root/build/cli/tether # where CMake puts it (cli/CMakeLists.txt)
  [ -x "$tether" ] || [ ! -x "$root/build/tether" ] || tether=$root/build/tether
fi
[ -x "$tether" ] || die "no tether binary at $tether; build it (deploy/build.sh tether) or pass --tether=PATH"
command -v ss >/dev/null || die "'ss' is missing; install it with: apt-get install iproute2"
command -v setsid >/dev/null || die "'setsid' is missing; install it with: apt-get install util-linux"

if [ -z "$workdir" ]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/tether-cluster.XXXXXX")
else
  mkdir -p "$workdir"
  workdir=$(cd "$workdir" && pwd)
fi
msg "logs and certificates in $workdir"

# host_cmd HOST: the words that run a command on host HOST (0: the coordinator's, K: node K's).
host_cmd() {
  host_words=()
  if [ -n "$netns" ]; then host_words=(ip netns exec "$netns$1"); fi
}

# The port must be free: otherwise the wait below would take the other listener for ours.
host_cmd 0
if "${host_words[@]}" ss -Hltn "sport = :$port" | grep -q .; then
  die "port $port is in use on $address (an earlier cluster still running?); stop it or pass --port=P"
fi

names=(coordinator)
for ((k = 1; k <= nodes; k++)); do names+=("node$k"); done
if [ "$insecure" = 0 ]; then
  missing=()
  for name in "${names[@]}"; do
    if [ ! -f "$workdir/tls/$name/key.pem" ]; then missing+=("$name"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    bash "$root/deploy/make-certs.sh" "$workdir/tls" "${missing[@]}" >/dev/null ||
      die "could not make the certificates in $workdir/tls (the error is above)"
    msg "certificates for ${missing[*]} made in $workdir/tls"
  fi
fi

# --- the processes ------------------------------------------------------------------------
# Each runs in its own session (setsid) so that Ctrl-C at the terminal reaches none of them
# directly: this script decides who gets which signal (see on_signal).
declare -A name_of=() # pid -> process name
running=()            # pids of processes not yet seen ending
coordinator_pid="" tail_pid="" node_status=()

# start NAME HOST COMMAND...: starts COMMAND on HOST with its output in WORKDIR/NAME.log.
start() {
  local name=$1 log=$workdir/$1.log
  host_cmd "$2"
  shift 2
  printf '%q ' "$@" >"$log"
  printf '\n' >>"$log"
  # An async command of a script starts with SIGINT and SIGQUIT ignored; env restores the default,
  # so tether starts as it would from a terminal.
  "${host_words[@]}" setsid env --default-signal=INT,QUIT "$@" >>"$log" 2>&1 </dev/null &
  name_of[$!]=$name
  running+=("$!")
  started_pid=$!
}

forget() {
  local pid keep=()
  for pid in "${running[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  running=(${keep[@]+"${keep[@]}"})
}

# wait_any [UNTIL]: polls until one of `running` has ended (a signal does not cut it short);
# sets ended_pid and ended_status. With UNTIL (a value of $SECONDS), returns 1 when that time
# comes first. Polling, not `wait -n`: bash's `wait -n` loses a child that a signal killed
# before the call, and a node killed by SIGKILL must still be reported.
wait_any() {
  local pid until=${1:-}
  while :; do
    for pid in "${running[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        ended_pid=$pid
        if wait "$pid"; then ended_status=0; else ended_status=$?; fi
        forget "$pid"
        return 0
      fi
    done
    if [ -n "$until" ] && [ "$SECONDS" -ge "$until" ]; then return 1; fi
    sleep 0.2 || true # a Ctrl-C kills sleep too: that is not an error here
  done
}

describe_status() {
  local sig
  if [ "$1" = 130 ]; then # tether's own code; it handles SIGINT, so never dies of it
    echo "exited with status 130 (tether: stopped by SIGINT or SIGTERM)"
  elif [ "$1" -gt 128 ] && sig=$(kill -l "$(($1 - 128))" 2>/dev/null); then
    echo "killed by SIG$sig"
  else
    echo "exited with status $1"
  fi
}

report_node() { # PID STATUS
  local name=${name_of[$1]}
  node_status+=("$name=$2")
  if [ "$2" = 0 ]; then
    msg "$name exited with status 0"
  else
    msg "$name $(describe_status "$2"); the end of $workdir/$name.log:"
    tail -n 5 "$workdir/$name.log" | sed 's/^/    /' >&2
  fi
}

signal_all() { # SIGNAL PID...
  local sig=$1 pid
  shift
  for pid in "$@"; do kill -s "$sig" "$pid" 2>/dev/null || true; done
}

stop_requests=0
# shellcheck disable=SC2317 # on_signal and cleanup run from traps
on_signal() { # INT or TERM
  stop_requests=$((stop_requests + 1))
  if [ -z "$coordinator_pid" ]; then
    msg "SIG$1 before the coordinator started: stopping"
    exit 130
  elif [ "$stop_requests" -eq 1 ] && kill -0 "$coordinator_pid" 2>/dev/null; then
    msg "SIG$1: asking the coordinator to stop the job (it writes a final checkpoint); again kills every process"
    kill -s "$1" "$coordinator_pid" 2>/dev/null || true
  else
    msg "SIG$1: killing every process"
    signal_all KILL ${running[@]+"${running[@]}"}
  fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM HUP

# On any exit (an error included) nothing of this cluster is left running.
# shellcheck disable=SC2317
cleanup() {
  local pid deadline=$((SECONDS + 5))
  [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
  [ ${#running[@]} -gt 0 ] || return 0
  msg "stopping what is left: ${running[*]}"
  signal_all TERM "${running[@]}"
  for pid in "${running[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2 || true; done
  done
  signal_all KILL "${running[@]}"
}
trap cleanup EXIT

# --- the coordinator ----------------------------------------------------------------------
coordinator_cmd=("$tether" coordinator "--listen=$address:$port" "--min-nodes=$nodes")
if [ "$insecure" = 1 ]; then
  coordinator_cmd+=(--insecure)
else
  coordinator_cmd+=("--tls-dir=$workdir/tls/coordinator")
fi
coordinator_cmd+=(${train_opts[@]+"${train_opts[@]}"})
msg "starting: ${coordinator_cmd[*]}"
start coordinator 0 "${coordinator_cmd[@]}"
coordinator_pid=$started_pid
# Show its log here as it grows; tail ends by itself soon after the coordinator does.
tail -n +2 -F --pid="$coordinator_pid" "$workdir/coordinator.log" 2>/dev/null &
tail_pid=$!

host_cmd 0
deadline=$((SECONDS + listen_timeout))
until "${host_words[@]}" ss -Hltn "sport = :$port" | grep -q .; do
  if ! kill -0 "$coordinator_pid" 2>/dev/null; then
    wait_any # it is the only one running
    wait "$tail_pid" || true
    tail_pid=""
    msg "the coordinator $(describe_status "$ended_status") before it listened on $address:$port; see $workdir/coordinator.log"
    exit "$ended_status"
  fi
  if [ $SECONDS -ge $deadline ]; then
    die "the coordinator did not listen on $address:$port within $listen_timeout s; see $workdir/coordinator.log"
  fi
  sleep 0.1 || true
done

# --- the nodes ----------------------------------------------------------------------------
for ((k = 1; k <= nodes; k++)); do
  node_cmd=("$tether" node "--join=$address:$port" "--name=node$k")
  if [ "$insecure" = 1 ]; then
    node_cmd+=(--insecure)
  else
    node_cmd+=("--tls-dir=$workdir/tls/node$k")
  fi
  node_cmd+=(${node_opts[@]+"${node_opts[@]}"})
  start "node$k" "$k" "${node_cmd[@]}"
done
msg "started node1..node$nodes; node$nodes: ${node_cmd[*]}"

# --- wait for the coordinator, then for the nodes -----------------------------------------
# When every node has ended and one failed, the coordinator would wait for nodes forever: it
# gets orphan_grace seconds to end by itself, then SIGTERM (it stops with a final checkpoint).
stop_at="" failed_nodes=0
while :; do
  if ! wait_any "$stop_at"; then
    msg "every node has ended ($failed_nodes failed) and the coordinator still runs: SIGTERM to it"
    kill -TERM "$coordinator_pid" 2>/dev/null || true
    stop_at=""
    continue
  fi
  if [ "$ended_pid" = "$coordinator_pid" ]; then break; fi
  report_node "$ended_pid" "$ended_status"
  if [ "$ended_status" != 0 ]; then failed_nodes=$((failed_nodes + 1)); fi
  if [ ${#running[@]} = 1 ] && [ "$failed_nodes" -gt 0 ]; then
    stop_at=$((SECONDS + orphan_grace))
  fi
done
coordinator_status=$ended_status
wait "$tail_pid" 2>/dev/null || true
tail_pid=""
msg "the coordinator $(describe_status "$coordinator_status")"

# Nodes end by themselves when the job ends; give them node_grace seconds, then drain, then kill.
phase_end=$((SECONDS + node_grace)) phase="grace"
while [ ${#running[@]} -gt 0 ]; do
  for pid in "${running[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait_any
      report_node "$ended_pid" "$ended_status"
      continue 2
    fi
  done
  if [ $SECONDS -ge $phase_end ]; then
    if [ $phase = grace ]; then
      msg "nodes still running $node_grace s after the coordinator ended: SIGTERM (drain)"
      signal_all TERM "${running[@]}"
      phase="drain" phase_end=$((SECONDS + drain_grace))
    elif [ $phase = drain ]; then
      msg "nodes still running $drain_grace s after SIGTERM: SIGKILL"
      signal_all KILL "${running[@]}"
      phase="kill"
    fi
  fi
  sleep 0.2 || true
done
msg "nodes: $(printf '%s\n' "${node_status[@]}" | sort -V | paste -sd ' ')"
msg "logs in $workdir"
exit "$coordinator_status"
