#!/usr/bin/env python3
"""Runs a matrix of `tether train` jobs described by a plan, then tabulates and plots them.

Usage:
  examples/run_experiment.py --plan=PLAN.json [--out=DIR] [--quick] [--tether=PATH]
                             [--timeout=SECONDS] [--replot]

Each run gets its own temporary checkpoint directory (removed afterwards) and writes
--summary=OUT/summaries/<run-id>.json; its stdout and stderr go to OUT/logs/<run-id>.log.
When every run is done the driver writes

  OUT/curves.csv     one row per evaluation point of every run
  OUT/runs.csv       one row per run (final figures, staleness, clock gap, blocked time)
  OUT/results.md     per configuration: final accuracy mean +- std, time to the target
                     accuracy, samples/s, staleness, clock gap, blocked seconds
  OUT/accuracy*.png  test accuracy vs wall-clock seconds and vs epochs, mean line and
                     min-max band over seeds, one line per configuration; one figure per
                     straggler setting when the plan has several

A run that fails (non-zero exit, no summary, or past --timeout) is reported with the tail
of its output; the driver carries on, writes what it has, and exits 1 at the end.
--replot skips the runs and rebuilds the CSV, table and figures from OUT/summaries.

Plan schema (JSON; every field but "runs" is optional):

  {
    "title": "text for the figures and the table",
    "base": {"workers": 4, "epochs": 3, "eval-every": 100},
        tether train options for every run, by name without the leading "--";
        a value of true is a bare flag (--quiet), false or null leaves the option out,
        a list repeats the option (--straggler=0:3 --straggler=1:2)
    "runs": [{"name": "bsp", "options": {"consistency": "bsp"}}, ...],
        the configurations; a run's options are laid over "base"
    "vary": {"workers": [2, 4, 8]},
        options crossed with every entry of "runs" (each combination is a configuration,
        labelled "name workers=2")
    "stragglers": [null, "0:3"],
        crossed with the configurations: null is no straggler, "W:F" (or a list of them)
        becomes --straggler; each setting gets its own figure
    "seeds": [1, 2, 3],
        crossed with everything; the curves and the table aggregate over seeds
    "target_accuracy": 0.85,
        the table's "time to target": first evaluation whose test accuracy >= target
    "facet": "workers",
        optional: a "vary" option whose values each get their own row of panels
    "timeout_seconds": 900,
        a run still going after this long is stopped and counted as failed
    "quick": {"options": {"limit-train": 5000, "epochs": 1}, "seeds": [1], ...}
        with --quick: "options" is laid over every run's options (it wins), "run_options"
        ({"bsp": {"eval-every": 5}}) over the named run's after that, and any other field
        ("seeds", "stragglers", "vary", "runs" as a list of run names to keep,
        "target_accuracy", "timeout_seconds", "facet", "title") replaces the plan's
  }

Runs go seed by seed (every configuration with seed 1, then seed 2, ...), so slow drifts of
the machine spread over all configurations, and after the first seed the estimate of the
time left is made from each configuration's own measured duration.
"""

import argparse
import csv
import itertools
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

CURVE_COLUMNS = [
    "run_id", "config", "run_name", "mode", "staleness", "staleness_lr", "dc_lambda",
    "workers", "straggler", "step_jitter", "optimizer", "lr", "seed",
    "wall_seconds", "training_seconds", "updates", "epoch", "train_loss", "test_loss",
    "test_accuracy", "samples_per_sec", "mean_staleness", "max_staleness", "max_clock_gap",
    "clock_lag", "blocked_seconds",
]
RUN_COLUMNS = [
    "run_id", "config", "run_name", "mode", "staleness", "staleness_lr", "dc_lambda",
    "workers", "straggler", "step_jitter", "optimizer", "lr", "seed", "status",
    "test_accuracy", "final_train_loss", "wall_seconds", "training_seconds",
    "updates_applied", "samples_per_sec", "mean_staleness", "max_staleness",
    "max_clock_gap", "clock_lag_max", "blocked_seconds", "time_to_target_wall",
    "time_to_target_training", "epochs_to_target", "driver_seconds",
]


def fail(message):
    print(f"run_experiment: {message}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------- the plan

def load_plan(path, quick):
    try:
        with open(path) as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read plan {path}: {e}")
    if not isinstance(plan, dict) or not isinstance(plan.get("runs"), list) or not plan["runs"]:
        fail(f"{path}: a plan is a JSON object with a non-empty list \"runs\"")
    known = {"title", "description", "base", "runs", "vary", "stragglers", "seeds",
             "target_accuracy", "facet", "timeout_seconds", "quick"}
    unknown = sorted(set(plan) - known)
    if unknown:
        fail(f"{path}: unknown plan field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    names = [r.get("name") for r in plan["runs"]]
    if any(not isinstance(n, str) or not n for n in names) or len(set(names)) != len(names):
        fail(f"{path}: every entry of \"runs\" needs a distinct non-empty \"name\"")
    plan.setdefault("base", {})
    plan.setdefault("vary", {})
    plan.setdefault("stragglers", [None])
    plan.setdefault("seeds", [1])
    plan.setdefault("timeout_seconds", 900)
    plan["quick_options"] = {}
    plan["quick_run_options"] = {}
    if quick:
        q = plan.get("quick", {})
        for key, value in q.items():
            if key == "options":
                plan["quick_options"] = value
            elif key == "run_options":
                missing = set(value) - set(names)
                if missing:
                    fail(f"{path}: quick.run_options names unknown runs {sorted(missing)}")
                plan["quick_run_options"] = value
            elif key == "runs":
                keep = set(value)
                missing = keep - set(names)
                if missing:
                    fail(f"{path}: quick.runs names unknown runs {sorted(missing)}")
                plan["runs"] = [r for r in plan["runs"] if r["name"] in keep]
            elif key in ("seeds", "stragglers", "vary", "target_accuracy", "timeout_seconds",
                         "facet", "title"):
                plan[key] = value
            else:
                fail(f"{path}: unknown quick field {key}")
    if not plan["stragglers"]:
        plan["stragglers"] = [None]
    if plan.get("facet") and plan["facet"] not in plan["vary"]:
        plan["facet"] = None
    return plan


def straggler_label(s):
    if s is None:
        return "none"
    if isinstance(s, list):
        return "+".join(s) if s else "none"
    return str(s)


def expand(plan):
    """The list of runs: dicts with id, config label, seed, straggler, options."""
    vary_names = list(plan["vary"])
    vary_values = [plan["vary"][n] for n in vary_names]
    configs = []
    for run in plan["runs"]:
        for combo in itertools.product(*vary_values) if vary_names else [()]:
            options = dict(plan["base"])
            options.update(run.get("options", {}))
            options.update(dict(zip(vary_names, combo)))
            label = run["name"] + "".join(f" {n}={v}" for n, v in zip(vary_names, combo))
            configs.append({"config": label, "run_name": run["name"], "options": options,
                            "vary": dict(zip(vary_names, combo))})
    runs = []
    for seed in plan["seeds"]:
        for s in plan["stragglers"]:
            for c in configs:
                options = dict(c["options"])
                options.update(plan["quick_options"])
                options.update(plan["quick_run_options"].get(c["run_name"], {}))
                options["seed"] = seed
                if s is not None and s != []:
                    options["straggler"] = s
                rid = slug(f"{c['config']}_str-{straggler_label(s)}_seed-{seed}")
                runs.append({"id": rid, "config": c["config"], "run_name": c["run_name"],
                             "vary": c["vary"], "seed": seed, "straggler": straggler_label(s),
                             "options": options})
    ids = [r["id"] for r in runs]
    if len(set(ids)) != len(ids):
        fail("two runs of the plan have the same configuration, straggler and seed")
    return runs


def slug(text):
    out = []
    for ch in text:
        out.append(ch if ch.isalnum() or ch in "-_." else "_")
    return "".join(out).replace("=", "-")


def command_line(tether, options, summary, checkpoint_dir):
    args = [tether, "train"]
    opts = dict(options)
    opts["checkpoint-dir"] = checkpoint_dir
    opts["summary"] = summary
    opts.setdefault("quiet", True)
    for name, value in opts.items():
        if value is None or value is False:
            continue
        if value is True:
            args.append(f"--{name}")
        elif isinstance(value, list):
            args.extend(f"--{name}={v}" for v in value)
        else:
            args.append(f"--{name}={value}")
    return args


# ----------------------------------------------------------------------------- running

def find_tether(given):
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            fail(f"--tether={given}: not an executable file")
        return os.path.abspath(given)
    for rel in ("build-exp/cli/tether", "build/cli/tether"):
        p = os.path.join(REPO, rel)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    p = shutil.which("tether")
    if p:
        return p
    fail("no tether binary in build-exp/cli, build/cli or PATH: build it, or give --tether=PATH")


def fmt_duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def run_one(tether, run, out, timeout):
    """Runs one job; returns (status, message). status is 'ok' or 'failed'."""
    summary = os.path.join(out, "summaries", run["id"] + ".json")
    log_path = os.path.join(out, "logs", run["id"] + ".log")
    for stale in (summary, summary[:-len(".json")] + ".failed.json"):
        if os.path.exists(stale):
            os.remove(stale)
    ckpt = tempfile.mkdtemp(prefix="tether-exp-")
    args = command_line(tether, run["options"], summary, ckpt)
    try:
        with open(log_path, "w") as log:
            log.write("$ " + " ".join(args) + "\n")
            log.flush()
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    rc = proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    rc = proc.wait()
    finally:
        shutil.rmtree(ckpt, ignore_errors=True)
    with open(log_path) as f:
        tail = "".join(f.readlines()[-12:])
    message = ""
    if timed_out:
        message = f"timed out after {timeout:g}s (stopped; exit {rc})"
    elif rc != 0:
        message = f"exit code {rc}"
    elif not os.path.exists(summary):
        message = "exit code 0 but no summary file"
    if message:
        # a stopped run may have written a summary: keep it aside, out of the results
        if os.path.exists(summary):
            os.replace(summary, summary[:-len(".json")] + ".failed.json")
        return "failed", f"{message}\n{tail}"
    return "ok", ""


def run_all(tether, runs, out, timeout):
    failures = []
    durations = {}  # config|straggler -> [seconds]
    start = time.monotonic()
    for i, run in enumerate(runs):
        key = run["config"] + "|" + run["straggler"]
        print(f"[{i + 1}/{len(runs)}] {run['config']}  straggler {run['straggler']}  "
              f"seed {run['seed']} ...", end="", flush=True)
        t0 = time.monotonic()
        status, message = run_one(tether, run, out, timeout)
        took = time.monotonic() - t0
        run["driver_seconds"] = took
        durations.setdefault(key, []).append(took)
        # the estimate: each remaining run takes what its configuration took so far, or the
        # mean of every run so far when its configuration has not run yet
        all_d = [d for ds in durations.values() for d in ds]
        mean_all = sum(all_d) / len(all_d)
        left = 0.0
        for r in runs[i + 1:]:
            ds = durations.get(r["config"] + "|" + r["straggler"])
            left += sum(ds) / len(ds) if ds else mean_all
        elapsed = time.monotonic() - start
        if status == "ok":
            with open(os.path.join(out, "summaries", run["id"] + ".json")) as f:
                acc = json.load(f).get("test_accuracy")
            acc_text = f"acc {acc:.4f}" if isinstance(acc, (int, float)) else "acc n/a"
            print(f" {acc_text} in {took:.1f}s; elapsed {fmt_duration(elapsed)}, "
                  f"about {fmt_duration(left)} left", flush=True)
        else:
            print(f" FAILED after {took:.1f}s; elapsed {fmt_duration(elapsed)}, "
                  f"about {fmt_duration(left)} left", flush=True)
            print("  " + message.rstrip().replace("\n", "\n  "), file=sys.stderr, flush=True)
            failures.append((run, message))
    return failures


# ----------------------------------------------------------------------------- results

def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def first_reaching(curve, target, key):
    for p in curve:
        acc = num(p.get("test_accuracy"))
        if acc is not None and acc >= target:
            return p.get(key)
    return None


def load_results(runs, out, target):
    for run in runs:
        path = os.path.join(out, "summaries", run["id"] + ".json")
        run["summary"] = None
        if os.path.exists(path):
            try:
                with open(path) as f:
                    run["summary"] = json.load(f)
            except ValueError:
                run["summary"] = None
        s = run["summary"] or {}
        o = run["options"]
        run["meta"] = {
            "run_id": run["id"], "config": run["config"], "run_name": run["run_name"],
            "mode": s.get("consistency", o.get("consistency", "async")),
            "staleness": s.get("staleness_bound", o.get("staleness")
                               if o.get("consistency") == "ssp" else None),
            "staleness_lr": o.get("staleness-lr", "none"),
            "dc_lambda": o.get("dc-lambda", 0),
            "workers": s.get("workers", o.get("workers", 2)),
            "straggler": run["straggler"],
            "step_jitter": o.get("step-jitter", 0),
            "optimizer": s.get("optimizer", o.get("optimizer", "adam")),
            "lr": s.get("lr", o.get("lr")),
            "seed": run["seed"],
        }
        curve = s.get("curve", []) if s else []
        run["curve"] = curve
        run["ttt_wall"] = first_reaching(curve, target, "wall_seconds") if target else None
        run["ttt_train"] = first_reaching(curve, target, "training_seconds") if target else None
        run["ett"] = first_reaching(curve, target, "epoch") if target else None


def cell(x):
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.6g}"
    return x


def write_csvs(runs, out):
    with open(os.path.join(out, "curves.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CURVE_COLUMNS)
        for run in runs:
            for p in run["curve"]:
                row = dict(run["meta"])
                row.update({k: p.get(k) for k in CURVE_COLUMNS if k in p})
                w.writerow([cell(row.get(c)) for c in CURVE_COLUMNS])
    with open(os.path.join(out, "runs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(RUN_COLUMNS)
        for run in runs:
            s = run["summary"] or {}
            row = dict(run["meta"])
            row.update({k: s.get(k) for k in RUN_COLUMNS if k in s})
            row["status"] = "ok" if run["summary"] else "failed"
            row["time_to_target_wall"] = run["ttt_wall"]
            row["time_to_target_training"] = run["ttt_train"]
            row["epochs_to_target"] = run["ett"]
            row["driver_seconds"] = run.get("driver_seconds")
            w.writerow([cell(row.get(c)) for c in RUN_COLUMNS])


def mean_std(values, digits, pct=False):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    scale = 100 if pct else 1
    m = statistics.fmean(values) * scale
    if len(values) == 1:
        return f"{m:.{digits}f}"
    sd = statistics.stdev(values) * scale
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def groups(runs):
    """(straggler, config) -> runs, in plan order."""
    out = {}
    for run in runs:
        out.setdefault((run["straggler"], run["config"]), []).append(run)
    return out


def write_table(plan, runs, out, tether, failures):
    target = plan.get("target_accuracy")
    lines = [f"# {plan.get('title', 'tether experiment')}", ""]
    if plan.get("description"):
        lines += [plan["description"], ""]
    lines += [
        f"Mean ± standard deviation over seeds {plan['seeds']} (the sample standard deviation; "
        "a single value where one seed finished). Time to target: wall-clock seconds since "
        "the start of the run (training seconds, without data loading and evaluation "
        "pauses, in brackets) at the first evaluation with test accuracy >= "
        f"{target}; the mean over the seeds that reached it, with how many did. "
        "Samples/s, staleness, clock gap and blocked seconds come from each run's summary "
        "(blocked seconds summed over workers).", ""]
    head = ["configuration", "straggler", "ok/runs", "final test acc %",
            f"time to {target} s" if target else "time to target",
            "epochs to target", "samples/s", "mean staleness", "max staleness",
            "max clock gap", "blocked s"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + " --- |" * len(head))
    for (strag, config), rs in groups(runs).items():
        ok = [r for r in rs if r["summary"]]
        S = lambda k: [num((r["summary"] or {}).get(k)) for r in ok]
        if target:
            reached = [r for r in ok if r["ttt_wall"] is not None]
            if not ok:
                ttt = "n/a"
                ett = "n/a"
            elif not reached:
                ttt = "not reached"
                ett = "not reached"
            else:
                ttt = (mean_std([r["ttt_wall"] for r in reached], 2)
                       + f" ({mean_std([r['ttt_train'] for r in reached], 2)})")
                ett = mean_std([r["ett"] for r in reached], 2)
                if len(reached) < len(ok):
                    ttt += f", {len(reached)}/{len(ok)} reached"
                    ett += f", {len(reached)}/{len(ok)}"
        else:
            ttt = ett = "n/a"
        max_st = [v for v in S("max_staleness") if v is not None]
        gap = [v for v in S("max_clock_gap") if v is not None]
        row = [config, strag, f"{len(ok)}/{len(rs)}", mean_std(S("test_accuracy"), 2, pct=True),
               ttt, ett, mean_std(S("samples_per_sec"), 0), mean_std(S("mean_staleness"), 2),
               str(max(max_st)) if max_st else "n/a", str(max(gap)) if gap else "n/a",
               mean_std(S("blocked_seconds"), 2)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if failures:
        lines.append(f"**{len(failures)} run(s) failed:**")
        lines.append("")
        for run, message in failures:
            first = message.strip().splitlines()[0] if message.strip() else "failed"
            lines.append(f"- `{run['id']}`: {first} (log: logs/{run['id']}.log)")
        lines.append("")
    lines.append(f"tether: `{tether}`; plan options of the first run: `"
                 + " ".join(command_line("tether", runs[0]["options"], "S", "CKPT")[2:]) + "`")
    lines.append("")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines))


def aggregate(rs, xkey):
    """Puts the seeds' curves on one x axis: each is interpolated linearly onto the union
    of all their x values, from the latest first point to the latest last point; a run
    that has ended keeps its last accuracy (it is done). tether evaluates when a progress
    report shows --eval-every was crossed, so the seeds' points do not share x values.
    Returns x, y mean, y min, y max over the seeds."""
    import numpy as np
    curves = []
    for r in rs:
        pts = [(num(p.get(xkey)), num(p.get("test_accuracy"))) for p in r["curve"]]
        pts = sorted((x, y) for x, y in pts if x is not None and y is not None)
        if pts:
            curves.append((np.array([p[0] for p in pts]), np.array([p[1] for p in pts])))
    if not curves:
        return None
    lo = max(c[0][0] for c in curves)
    hi = max(c[0][-1] for c in curves)
    grid = np.unique(np.concatenate([c[0] for c in curves]))
    grid = grid[(grid >= lo) & (grid <= hi)]
    ys = np.array([np.interp(grid, c[0], c[1]) for c in curves])
    return list(grid), list(ys.mean(axis=0)), list(ys.min(axis=0)), list(ys.max(axis=0))


def shrink_png(path):
    """Re-encodes the figure with a 256-colour palette (a third of the size, same look),
    when Pillow is there (it comes with Debian's python3-matplotlib)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def plot(plan, runs, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("run_experiment: matplotlib is missing (Debian: apt-get install "
              "python3-matplotlib); no figures written", file=sys.stderr)
        return False
    target = plan.get("target_accuracy")
    facet = plan.get("facet")
    stragglers = list(dict.fromkeys(r["straggler"] for r in runs))
    all_configs = list(dict.fromkeys(r["config"] for r in runs))
    if facet:
        facet_values = list(dict.fromkeys(r["vary"].get(facet) for r in runs))
        line_keys = list(dict.fromkeys(r["run_name"] for r in runs))
    else:
        facet_values = [None]
        line_keys = all_configs
    cmap = plt.get_cmap("tab10" if len(line_keys) <= 10 else "tab20")
    colors = {k: cmap(i % cmap.N) for i, k in enumerate(line_keys)}
    written = []
    for strag in stragglers:
        nrows = len(facet_values)
        fig, axes = plt.subplots(nrows, 2, figsize=(11, (3.6 if nrows == 1 else 3.0) * nrows + 0.8), squeeze=False,
                                 dpi=80)
        for row, fv in enumerate(facet_values):
            sel = [r for r in runs if r["straggler"] == strag
                   and (fv is None or r["vary"].get(facet) == fv)]
            by_line = {}
            for r in sel:
                by_line.setdefault(r["run_name"] if facet else r["config"], []).append(r)
            for col, (xkey, xlabel) in enumerate((("wall_seconds", "wall-clock seconds"),
                                                  ("epoch", "epochs"))):
                ax = axes[row][col]
                for key in line_keys:
                    if key not in by_line:
                        continue
                    agg = aggregate(by_line[key], xkey)
                    if not agg or not agg[0]:
                        continue
                    xs, ym, ylo, yhi = agg
                    n_ok = sum(1 for r in by_line[key] if r["curve"])
                    ax.plot(xs, ym, color=colors[key], lw=1.6,
                            marker="." if n_ok == 1 else None, ms=3,
                            label=f"{key} (n={n_ok})")
                    if n_ok > 1:
                        ax.fill_between(xs, ylo, yhi, color=colors[key], alpha=0.18, lw=0)
                if target:
                    ax.axhline(target, color="gray", ls="--", lw=0.8)
                ax.set_xlabel(xlabel)
                ax.set_ylabel("test accuracy")
                ax.grid(True, alpha=0.3)
                title = f"{facet}={fv}" if fv is not None else ""
                if title:
                    ax.set_title(title, fontsize=10)
                if col == 1:
                    ax.legend(fontsize=7, loc="lower right")
        sup = plan.get("title", "tether")
        if strag == "none" and len(stragglers) > 1:
            sup += " — no straggler"
        elif strag != "none":
            sup += " — straggler " + ", ".join(
                f"worker {w} x{f}" for w, _, f in (p.partition(":") for p in strag.split("+")))
        fig.suptitle(sup + "  (mean over seeds; band: min-max)", fontsize=11)
        fig.tight_layout()
        name = "accuracy.png" if len(stragglers) == 1 else f"accuracy_straggler-{slug(strag)}.png"
        fig.savefig(os.path.join(out, name))
        plt.close(fig)
        shrink_png(os.path.join(out, name))
        written.append(name)
    print("figures: " + ", ".join(os.path.join(out, w) for w in written))
    return True


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="The plan schema is in this script's docstring and in "
                                        "examples/README.md.")
    ap.add_argument("--plan", required=True, help="the plan, a JSON file")
    ap.add_argument("--out", help="output directory (default: results/ beside the plan, "
                                  "results-quick/ with --quick)")
    ap.add_argument("--quick", action="store_true", help="apply the plan's \"quick\" overrides")
    ap.add_argument("--tether", help="the tether binary (default: build-exp/cli/tether, "
                                     "build/cli/tether, then PATH)")
    ap.add_argument("--timeout", type=float, help="seconds after which a run is stopped and "
                                                  "counted as failed (default: the plan's "
                                                  "timeout_seconds, else 900)")
    ap.add_argument("--replot", action="store_true",
                    help="run nothing: rebuild CSV, table and figures from OUT/summaries")
    args = ap.parse_args()

    plan = load_plan(args.plan, args.quick)
    runs = expand(plan)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.plan)),
                                   "results-quick" if args.quick else "results")
    os.makedirs(os.path.join(out, "summaries"), exist_ok=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    if args.replot:
        tether = "(unknown: replotted)"
        log = os.path.join(out, "logs", runs[0]["id"] + ".log")
        if os.path.exists(log):
            with open(log) as f:
                first = f.readline().split()
            if len(first) > 1 and first[0] == "$":
                tether = first[1]
    else:
        tether = find_tether(args.tether)
    timeout = args.timeout or plan["timeout_seconds"]

    failures = []
    if not args.replot:
        print(f"run_experiment: {len(runs)} runs of {args.plan}"
              f"{' (quick)' if args.quick else ''} with {tether}; output in {out}", flush=True)
        t0 = time.monotonic()
        failures = run_all(tether, runs, out, timeout)
        print(f"run_experiment: {len(runs) - len(failures)} of {len(runs)} runs finished in "
              f"{fmt_duration(time.monotonic() - t0)}", flush=True)
    load_results(runs, out, plan.get("target_accuracy"))
    if args.replot:
        failures = [(r, "no summary") for r in runs if not r["summary"]]
    write_csvs(runs, out)
    write_table(plan, runs, out, tether, failures)
    plotted = plot(plan, runs, out)
    print(f"tables: {os.path.join(out, 'results.md')}, {os.path.join(out, 'curves.csv')}, "
          f"{os.path.join(out, 'runs.csv')}")
    if failures:
        print(f"run_experiment: {len(failures)} run(s) failed: "
              + ", ".join(r["id"] for r, _ in failures), file=sys.stderr)
        return 1
    return 0 if plotted else 1


if __name__ == "__main__":
    sys.exit(main())
