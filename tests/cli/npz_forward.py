#!/usr/bin/env python3
"""Loads a `tether export --format=npz` file with numpy alone, runs the forward pass of
the model (dense layers, ReLU between them, argmax of the last layer's output) on the
whole Fashion-MNIST test set and prints the accuracy as one number.

usage: npz_forward.py WEIGHTS.npz DATA_DIR
DATA_DIR holds t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the files
without .gz). Pixels are scaled to [0, 1] by /255, as tether does.
"""
import gzip
import os
import sys

import numpy as np


def read_idx(data_dir, name):
    path = os.path.join(data_dir, name)
    opener = open
    if not os.path.exists(path):
        path += ".gz"
        opener = gzip.open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    weights_path, data_dir = sys.argv[1], sys.argv[2]
    images = read_idx(data_dir, "t10k-images-idx3-ubyte")
    labels = read_idx(data_dir, "t10k-labels-idx1-ubyte")
    x = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255)

    weights = np.load(weights_path)
    layers = 0
    while f"layer{layers}.weight" in weights.files:
        layers += 1
    assert layers > 0 and len(weights.files) == 2 * layers, weights.files
    h = x
    for k in range(layers):
        w = weights[f"layer{k}.weight"]  # {fan_out, fan_in}
        b = weights[f"layer{k}.bias"]    # {fan_out}
        assert w.dtype == np.float32 and b.dtype == np.float32
        h = h @ w.T + b
        if k + 1 < layers:
            h = np.maximum(h, 0)
    accuracy = float(np.mean(np.argmax(h, axis=1) == labels))
    print(f"{accuracy:.6f}")


if __name__ == "__main__":
    main()
