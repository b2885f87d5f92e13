#!/usr/bin/env python3
"""PyTorch peer of bench/lm_compute and bench/lm_train: the same byte-level GPT (layers 4,
heads 4, embd 128, context 64: token + position embeddings, pre-LayerNorm blocks with
causal self-attention and a tanh-GELU MLP of 4x width, LayerNorm with bias, linear layers
without, output head tied to the token embedding, N(0, 0.02) init, no dropout), on the
same corpus (every regular file of /usr/share/games/fortunes but the .dat files, sorted,
concatenated; first 90% train, last 10% validate), one thread.

  --mode speed   tokens per second of the thread's CPU time of one worker's step: a batch of 12 windows of 65 bytes, forward,
                 backward, AdamW step (lr 1e-3, betas 0.9/0.99, weight decay 0.1); also
                 forward+backward alone. Median of --trials trials of --seconds each.
  --mode train   the issue's reference run: 2000 steps of batch 12 x 64 (random windows),
                 AdamW lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on every parameter,
                 constant lr, no clipping; validation loss = mean over 50 random validation
                 batches (drawn once, seed 1234) at steps 250, 1000 and 2000.

Measuring tool, not product: needs torch (PyPI or Debian's python3-torch) and numpy.
Usage: lm_pytorch.py [--mode speed|train] [--trials N] [--seconds S] [--steps N] [--json FILE]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS, HEADS, EMBD, CONTEXT, BATCH, VOCAB = 4, 4, 128, 64, 12, 256
CORPUS = "/usr/share/games/fortunes"


def load_corpus():
    names = sorted(n for n in os.listdir(CORPUS) if not n.endswith(".dat") and
                   os.path.isfile(os.path.join(CORPUS, n)) and
                   not os.path.islink(os.path.join(CORPUS, n)))
    data = b"".join(open(os.path.join(CORPUS, n), "rb").read() for n in names)
    cut = len(data) // 10 * 9 + len(data) % 10 * 9 // 10
    arr = np.frombuffer(data, dtype=np.uint8)
    return torch.from_numpy(arr[:cut].astype(np.int64)), torch.from_numpy(arr[cut:].astype(np.int64))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(EMBD)
        self.c_attn = nn.Linear(EMBD, 3 * EMBD, bias=False)
        self.c_proj = nn.Linear(EMBD, EMBD, bias=False)
        self.ln_2 = nn.LayerNorm(EMBD)
        self.c_fc = nn.Linear(EMBD, 4 * EMBD, bias=False)
        self.mlp_proj = nn.Linear(4 * EMBD, EMBD, bias=False)
        self.register_buffer("mask", torch.ones(CONTEXT, CONTEXT, dtype=torch.bool).tril())

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: fused kernel
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(c // HEADS)
            att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
            y = att @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, EMBD)
        self.wpe = nn.Embedding(CONTEXT, EMBD)
        self.h = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(EMBD)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe.weight[: idx.shape[1]]
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.T  # tied head
        return F.cross_entropy(logits.view(-1, VOCAB), targets.reshape(-1))


def make_optimizer(model):
    return torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)


def speed(args, train):
    model = GPT()
    opt = make_optimizer(model)
    windows = (len(train) - 1) // CONTEXT
    order = torch.randperm(windows, generator=torch.Generator().manual_seed(1))
    offsets = torch.arange(CONTEXT + 1)
    pos = [0]

    def batch():
        i = pos[0] % (windows // BATCH)
        pos[0] += 1
        starts = order[i * BATCH:(i + 1) * BATCH] * CONTEXT
        w = train[starts[:, None] + offsets]
        return w[:, :-1], w[:, 1:]

    def step():
        x, y = batch()
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    x0, y0 = batch()

    def fwd_bwd():
        loss = model(x0, y0)
        model.zero_grad(set_to_none=True)
        loss.backward()

    def rate(body, seconds):
        # calls per second of this thread's CPU time (torch runs on the calling thread
        # with set_num_threads(1)); wall time only bounds the trial
        t0, c0 = time.perf_counter(), time.thread_time()
        calls = 0
        while True:
            body()
            calls += 1
            if time.perf_counter() - t0 >= seconds:
                return calls / (time.thread_time() - c0)

    tokens = BATCH * CONTEXT
    for body in (step, fwd_bwd):
        rate(body, 0.5)
    rates = {"step": [], "fwd_bwd": []}
    for _ in range(args.trials):
        rates["step"].append(rate(step, args.seconds) * tokens)
        rates["fwd_bwd"].append(rate(fwd_bwd, args.seconds) * tokens)
    out = {k: float(np.median(v)) for k, v in rates.items()}
    print(f"lm_pytorch speed: torch {torch.__version__}, 1 thread, "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    for k, v in rates.items():
        print(f"  {k:<8} {out[k]:10.1f} tokens/s  (trials: {' '.join(f'{r:.0f}' for r in v)})")
    return out


def train_run(args, train, valid):
    torch.manual_seed(1)
    model = GPT()
    opt = make_optimizer(model)
    g = torch.Generator().manual_seed(1234)
    offsets = torch.arange(CONTEXT + 1)
    val_batches = [valid[torch.randint(len(valid) - CONTEXT - 1, (BATCH,), generator=g)[:, None]
                         + offsets] for _ in range(50)]
    gt = torch.Generator().manual_seed(1)
    curve = {}
    t_train = 0.0
    for step in range(1, args.steps + 1):
        t0 = time.perf_counter()
        w = train[torch.randint(len(train) - CONTEXT - 1, (BATCH,), generator=gt)[:, None] + offsets]
        loss = model(w[:, :-1], w[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t_train += time.perf_counter() - t0
        if step in (250, 1000, 2000) or step == args.steps:
            with torch.no_grad():
                v = float(np.mean([model(b[:, :-1], b[:, 1:]).item() for b in val_batches]))
            curve[step] = v
            print(f"  step {step:5d}  train loss {loss.item():.4f}  valid {v:.4f} nats/byte "
                  f"({v / math.log(2):.3f} bits)  {step * BATCH * CONTEXT / t_train:,.0f} tokens/s "
                  f"[{t_train:.1f} s training]", flush=True)
    return {"curve": curve, "tokens_per_s": args.steps * BATCH * CONTEXT / t_train,
            "train_seconds": t_train}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["speed", "train"], default="speed")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, valid = load_corpus()
    out = speed(args, train) if args.mode == "speed" else train_run(args, train, valid)
    out["torch_version"] = torch.__version__
    if args.json:
        json.dump(out, open(args.json, "w"))


if __name__ == "__main__":
    main()
