#!/usr/bin/env python3
"""PyTorch peer baselines for bench/throughput (bench/run.sh runs both and prints ratios).

Same task as tether's bench: MLP 784-256-128-10 (ReLU), softmax cross-entropy, batch 64
per process, SGD lr 0.1, Fashion-MNIST read from the same .gz IDX files, pixels / 255.

  one-core   one process, torch.set_num_threads(1): samples / training-loop seconds
  hogwild    2 processes (torch.multiprocessing, fork), model.share_memory(), one thread
             each, lock-free updates to the shared parameters; each process takes its half
             of every epoch: total samples / (last end - first start)
  ddp        DistributedDataParallel, gloo on 127.0.0.1, 2 processes, one thread each,
             batch 64 per process (gradients averaged each step): total samples / seconds

Only the training loops are timed (batch indexing, forward, backward, optimizer step);
loading, process start and process-group set-up are not. Measuring tool, not product:
needs torch (PyPI or Debian's python3-torch) and numpy.

Usage: pytorch_baseline.py [--quick] [--epochs N] [--data-dir DIR] [--json FILE]
"""
import argparse
import gzip
import json
import os
import socket
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

BATCH = 64
LR = 0.1


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir, limit):
    x = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    if limit:
        x, y = x[:limit], y[:limit]
    x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(y.astype(np.int64))
    return x, y


def make_model(seed=1):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def train_loop(model, opt, x, y, epochs, rank, world, seed):
    """Trains on this rank's slice of every epoch's permutation; returns samples seen."""
    loss_fn = nn.CrossEntropyLoss()
    n = len(x)
    steps = n // (world * BATCH)
    samples = 0
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for k in range(steps):
            start = (k * world + rank) * BATCH
            idx = perm[start:start + BATCH]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            samples += BATCH
    return samples


def one_core(x, y, epochs):
    torch.set_num_threads(1)
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    train_loop(model, opt, x[:BATCH * 20], y[:BATCH * 20], 1, 0, 1, 0)  # warm-up
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    t0 = time.perf_counter()
    samples = train_loop(model, opt, x, y, epochs, 0, 1, 1)
    return samples / (time.perf_counter() - t0)


def _hogwild_worker(rank, model, x, y, epochs, barrier, results):
    torch.set_num_threads(1)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    barrier.wait()
    t0 = time.time()
    samples = train_loop(model, opt, x, y, epochs, rank, 2, 1)
    results.put((rank, t0, time.time(), samples))


def hogwild(x, y, epochs):
    ctx = mp.get_context("fork")
    model = make_model()
    model.share_memory()
    x.share_memory_()
    y.share_memory_()
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_hogwild_worker, args=(r, model, x, y, epochs, barrier, results))
             for r in range(2)]
    for p in procs:
        p.start()
    got = [results.get() for _ in procs]
    for p in procs:
        p.join()
    start = min(g[1] for g in got)
    end = max(g[2] for g in got)
    return sum(g[3] for g in got) / (end - start)


def _ddp_worker(rank, port, x, y, epochs, results):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    model = nn.parallel.DistributedDataParallel(make_model())
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    train_loop(model, opt, x[:BATCH * 40], y[:BATCH * 40], 1, rank, 2, 0)  # warm-up
    dist.barrier()
    t0 = time.time()
    samples = train_loop(model, opt, x, y, epochs, rank, 2, 1)
    t1 = time.time()
    dist.barrier()
    results.put((rank, t0, t1, samples))
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ddp(x, y, epochs):
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_ddp_worker, args=(r, port, x, y, epochs, results))
             for r in range(2)]
    for p in procs:
        p.start()
    got = [results.get() for _ in procs]
    for p in procs:
        p.join()
    start = min(g[1] for g in got)
    end = max(g[2] for g in got)
    return sum(g[3] for g in got) / (end - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--epochs", type=int, default=None, help="default 2 (quick: 1)")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    ap.add_argument("--only", choices=["one-core", "hogwild", "ddp"], default=None)
    a = ap.parse_args()
    epochs = a.epochs or (1 if a.quick else 2)
    x, y = load(a.data_dir, 12800 if a.quick else 0)

    print(f"pytorch baselines: torch {torch.__version__} ({os.path.dirname(torch.__file__)}),"
          f" python {sys.version.split()[0]}, {len(x)} samples x {epochs} epoch(s), batch {BATCH}")
    figures = {"torch_version": torch.__version__}
    runs = [("one-core", "torch_1core", one_core), ("hogwild", "torch_hogwild_2p", hogwild),
            ("ddp", "torch_ddp_2p", ddp)]
    labels = {"one-core": "1 process, 1 thread", "hogwild": "Hogwild, 2 processes, shared memory",
              "ddp": "DDP gloo, 2 processes, loopback"}
    for name, key, fn in runs:
        if a.only and a.only != name:
            continue
        sps = fn(x, y, epochs)
        figures[key] = sps
        print(f"  {labels[name]:<44} {sps:12.2f} samples/s", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
