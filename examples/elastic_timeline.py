#!/usr/bin/env python3
"""An elastic job's timeline: a loopback cluster that grows when a node joins and shrinks
when it drains, with samples/s and live workers over time, plotted.

The run: `tether coordinator --insecure --min-nodes=2 --workers=2 --max-workers=4
--min-workers=2` with two nodes of 2 cores; GROW_AT seconds after training starts a third
node (2 cores) joins and the job grows onto it (4 workers); DRAIN_AT seconds after that
the third node gets SIGTERM (a drain) and the job shrinks back to 2 workers. The
coordinator's /status is polled every 0.25 s; samples/s is the change of the job's
training samples over each two-second window (the status is published about once a second,
so one-second windows alias).

Usage: examples/elastic_timeline.py [--tether=build/cli/tether] [--consistency=async]
         [--out=docs/elastic-timeline.png] [--grow-at=5] [--drain-at=8] [--epochs=20]
Prints a table (one row per two seconds: time, workers, samples/s) and the job's outcome;
writes the plot (matplotlib, Agg) and the samples beside it as CSV (same name, .csv).
Exit status: 0 when the job finished and grew and shrank as asked; 1 otherwise.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1) as r:
            return json.load(r)
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tether", default=os.path.join(ROOT, "build", "cli", "tether"))
    ap.add_argument("--consistency", default="async", choices=["async", "ssp", "bsp"])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "elastic-timeline.png"))
    ap.add_argument("--grow-at", type=float, default=5.0)
    ap.add_argument("--drain-at", type=float, default=8.0)
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    if not os.access(args.tether, os.X_OK):
        sys.exit(f"elastic_timeline: no tether binary at {args.tether}; build first")

    work = tempfile.mkdtemp(prefix="tether-elastic-")
    port, mport = free_port(), free_port()
    coord_log = open(os.path.join(work, "coordinator.log"), "w")
    coord = subprocess.Popen(
        [args.tether, "coordinator", f"--listen=127.0.0.1:{port}", "--insecure",
         "--min-nodes=2", "--workers=2", "--max-workers=4", "--min-workers=2",
         f"--consistency={args.consistency}", "--staleness=3", f"--epochs={args.epochs}",
         "--limit-train=30000", "--shards=2", f"--metrics=127.0.0.1:{mport}",
         f"--checkpoint-dir={work}/ck", f"--summary={work}/summary.json"],
        stdout=coord_log, stderr=subprocess.STDOUT)
    nodes = {}

    def start_node(name):
        log = open(os.path.join(work, name + ".log"), "w")
        nodes[name] = subprocess.Popen(
            [args.tether, "node", f"--join=127.0.0.1:{port}", "--insecure", f"--name={name}",
             "--cores=2"], stdout=log, stderr=subprocess.STDOUT)

    time.sleep(0.5)
    start_node("n1")
    start_node("n2")
    rows = []  # (seconds since training started, samples, live workers)
    t0 = None
    grown = drained = None
    try:
        while coord.poll() is None:
            s = status(mport)
            now = time.monotonic()
            if s and s.get("state") == "training":
                if t0 is None:
                    t0 = now
                alive = sum(1 for w in s.get("worker", []) if w.get("alive"))
                rows.append((now - t0, s["progress"]["samples"], alive))
                if grown is None and now - t0 >= args.grow_at:
                    start_node("n3")
                    grown = now - t0
                if grown is not None and drained is None and now - t0 >= grown + args.drain_at:
                    nodes["n3"].send_signal(signal.SIGTERM)
                    drained = now - t0
            time.sleep(0.25)
    finally:
        for p in nodes.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    code = coord.returncode
    summary = {}
    try:
        summary = json.load(open(os.path.join(work, "summary.json")))
    except Exception:
        pass

    # Samples/s over two-second windows.
    table = []
    for second in range(0, int(rows[-1][0]) + 1 if rows else 0, 2):
        window = [r for r in rows if second <= r[0] < second + 2]
        before = [r for r in rows if r[0] < second]
        if not window or not before:
            continue
        a, b = before[-1], window[-1]
        rate = (b[1] - a[1]) / (b[0] - a[0]) if b[0] > a[0] else 0
        table.append((b[0], max(r[2] for r in window), rate))
    print(f"elastic timeline: {args.consistency}, grow at {grown} s, drain at {drained} s "
          f"(seconds since training started); coordinator exit {code}")
    print("| seconds | live workers | samples/s |")
    print("| --- | --- | --- |")
    for t, w, rate in table:
        print(f"| {t:5.1f} | {w} | {rate:,.0f} |")
    print(f"outcome {summary.get('outcome')}, updates_lost {summary.get('updates_lost')}, "
          f"max_clock_gap {summary.get('max_clock_gap')}, test accuracy "
          f"{summary.get('test_accuracy')}")

    csv = os.path.splitext(args.out)[0] + ".csv"
    with open(csv, "w") as f:
        f.write("seconds,samples,live_workers\n")
        for t, n, w in rows:
            f.write(f"{t:.3f},{n},{w}\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(7, 4.5))
        ax1.plot([t for t, _, _ in table], [r for _, _, r in table], marker="o", ms=3)
        ax1.set_ylabel("samples/s")
        ax1.set_title(f"elastic job ({args.consistency}): a node joins, then drains")
        ax2.step([r[0] for r in rows], [r[2] for r in rows], where="post")
        ax2.set_ylabel("live workers")
        ax2.set_xlabel("seconds since training started")
        ax2.set_ylim(0, 5)
        for ax in (ax1, ax2):
            for x, label in ((grown, "n3 joins"), (drained, "n3 drains")):
                if x is not None:
                    ax.axvline(x, color="grey", ls="--", lw=0.8)
            ax.grid(alpha=0.3)
        ax1.annotate("n3 joins", (grown or 0, 0), textcoords="offset points", xytext=(3, 5))
        if drained is not None:
            ax1.annotate("n3 drains", (drained, 0), textcoords="offset points", xytext=(3, 5))
        fig.tight_layout()
        fig.savefig(args.out, dpi=110)
        print(f"wrote {args.out} and {csv}")
    except ImportError:
        print(f"matplotlib not found: wrote {csv} only (apt-get install python3-matplotlib)")
    workers_seen = {w for _, _, w in rows}
    ok = code == 0 and 4 in workers_seen and rows and rows[-1][2] <= 2
    if not ok:
        print(f"elastic_timeline: the job did not grow to 4 and shrink back (workers seen "
              f"{sorted(workers_seen)}); logs in {work}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
