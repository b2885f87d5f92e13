#!/usr/bin/env python3
"""Loads a `tether export --format=npz` file of a GPT with numpy alone, runs its forward
pass on a validation text and prints the mean loss in nats per byte (docs/export.md).

usage: gpt_npz_forward.py WEIGHTS.npz TEXT_FILE HEADS
The text is cut into windows of context + 1 bytes starting at multiples of context, as
tether's evaluation does; every window is used (tether takes all of them up to 600).
"""
import sys

import numpy as np


def layer_norm(x, g, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * g + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def forward_loss(w, tokens, heads):
    """tokens: [B, T + 1] bytes; returns the mean cross-entropy of bytes 1..T."""
    x_tok, y = tokens[:, :-1], tokens[:, 1:]
    batch, t = x_tok.shape
    wte = w["wte.weight"]
    x = wte[x_tok] + w["wpe.weight"][:t]
    c = x.shape[-1]
    d = c // heads
    mask = np.triu(np.ones((t, t), dtype=bool), 1)
    layers = sum(1 for name in w if name.endswith(".ln_1.weight"))
    for l in range(layers):
        p = f"h.{l}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        q, k, v = np.split(h @ w[p + "attn.c_attn.weight"].T, 3, axis=-1)
        q, k, v = (m.reshape(batch, t, heads, d).transpose(0, 2, 1, 3) for m in (q, k, v))
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
        att[:, :, mask] = -np.inf
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        out = (att @ v).transpose(0, 2, 1, 3).reshape(batch, t, c)
        x = x + out @ w[p + "attn.c_proj.weight"].T
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        x = x + gelu(h @ w[p + "mlp.c_fc.weight"].T) @ w[p + "mlp.c_proj.weight"].T
    logits = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"]) @ wte.T  # tied head
    logits -= logits.max(-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.take_along_axis(logp, y[..., None], -1).mean()


def main():
    npz = np.load(sys.argv[1])
    w = {name: npz[name].astype(np.float64) for name in npz.files}
    heads = int(sys.argv[3])
    text = np.frombuffer(open(sys.argv[2], "rb").read(), np.uint8)
    context = w["wpe.weight"].shape[0]
    n = (len(text) - 1) // context
    tokens = np.stack([text[j * context:j * context + context + 1] for j in range(n)])
    print(f"{forward_loss(w, tokens.astype(np.int64), heads):.8f}")


if __name__ == "__main__":
    main()
