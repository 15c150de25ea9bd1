#!/usr/bin/env python3
"""The peers a GPU user would pick instead of Qnn.Edge, measured on the same machine and data as the device check.

1. A float MLP of the trainer's shape (784 -> W -> W -> W -> 10, batch norm after every layer, squared hinge loss,
   Adam with the trainer's exponential decay 0.003 -> 0.0003, batch 100), and the same network binarized the way the
   paper trains it (BinaryNet): sign weights and sign activations in the forward pass, the straight-through
   estimator (gradient of hardtanh, cancelled where |x| > 1) in the backward pass, latent float weights clipped to
   [-1, 1]. Trained for the same epochs; samples per second over the epochs' wall time, test accuracy after them.
2. torch.mm float32 (TF32 off: the float baseline of the paper, not a tensor-core format) on N x N x N shapes,
   milliseconds per product, to set beside `qnn bench gpu --gemm` on the same shapes.

Runs on CUDA when torch sees a GPU, else on the CPU (then the figures are CPU figures and say so). Reads MNIST as
the four IDX files, plain or gzipped, from --mnist. Prints lines starting with "pytorch" and writes --json.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_IDX_BYTES = 64 << 20  # the largest MNIST file is 47 MB


def read_idx(folder, name):
    path = os.path.join(folder, name)
    opener = open
    if not os.path.isfile(path):
        path += ".gz"
        opener = gzip.open
    with opener(path, "rb") as f:
        data = f.read(MAX_IDX_BYTES + 1)
    if len(data) > MAX_IDX_BYTES:
        sys.exit(f"{path}: over {MAX_IDX_BYTES} bytes, not an MNIST file")
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or rank not in (1, 3):
        sys.exit(f"{path}: not an IDX file of bytes")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        sys.exit(f"{path}: {body.size} bytes of data, the header says {int(np.prod(dims))}")
    return body.reshape(dims)


def load(folder, limit):
    x = read_idx(folder, "train-images-idx3-ubyte")
    y = read_idx(folder, "train-labels-idx1-ubyte")
    tx = read_idx(folder, "t10k-images-idx3-ubyte")
    ty = read_idx(folder, "t10k-labels-idx1-ubyte")
    if limit:
        x, y = x[:limit], y[:limit]

    def images(a):  # pixels to [-1, 1], as the trainer's first layer sees them
        return torch.from_numpy(a.reshape(len(a), -1).astype(np.float32) / 127.5 - 1.0)

    return images(x), torch.from_numpy(y.astype(np.int64)), images(tx), torch.from_numpy(ty.astype(np.int64))


class SignSTE(torch.autograd.Function):
    """sign(x) forward; the gradient of hardtanh backward (1 where |x| <= 1, else 0): the paper's estimator."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class BinaryLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, SignSTE.apply(self.weight))


def mlp(width, binary):
    layers, fan_in = [], 784
    for _ in range(3):
        layers += [(BinaryLinear if binary else nn.Linear)(fan_in, width, bias=not binary), nn.BatchNorm1d(width)]
        layers.append(Sign() if binary else nn.ReLU())
        fan_in = width
    layers += [(BinaryLinear if binary else nn.Linear)(fan_in, 10, bias=not binary), nn.BatchNorm1d(10)]
    return nn.Sequential(*layers)


class Sign(nn.Module):
    def forward(self, x):
        return SignSTE.apply(x)


def squared_hinge(scores, labels):
    target = -torch.ones_like(scores)
    target[torch.arange(len(labels)), labels] = 1
    return torch.clamp(1 - target * scores, min=0).pow(2).mean()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train(name, net, data, epochs, batch, device, seed):
    x, y, tx, ty = data
    net = net.to(device)
    x, y, tx, ty = x.to(device), y.to(device), tx.to(device), ty.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=0.003)
    decay = (0.0003 / 0.003) ** (1.0 / max(1, epochs - 1))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, decay)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    seconds = 0.0
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen).to(device)
        sync(device)
        t0 = time.perf_counter()
        for i in range(0, len(x) - batch + 1, batch):
            idx = order[i:i + batch]
            loss = squared_hinge(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for m in net.modules():  # BinaryNet keeps the latent weights in [-1, 1]
                if isinstance(m, BinaryLinear):
                    m.weight.data.clamp_(-1, 1)
        sync(device)
        seconds += time.perf_counter() - t0
        sched.step()
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum()) for i in range(0, len(tx), 1000))
    steps = len(x) // batch
    return {"name": name, "epochs": epochs, "samples_per_second": steps * batch * epochs / seconds,
            "train_seconds": seconds, "test_accuracy": correct / len(tx)}


def time_mm(n, device, min_seconds=0.3):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)
    sync(device)
    reps, elapsed = 0, 0.0
    t0 = time.perf_counter()
    while elapsed < min_seconds:
        torch.mm(a, b)
        reps += 1
        sync(device)
        elapsed = time.perf_counter() - t0
    ms = 1000 * elapsed / reps
    return {"n": n, "ms": ms, "tflops": 2 * n ** 3 / (ms / 1000) / 1e12}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mnist", required=True, help="folder with the four MNIST IDX files, plain or .gz")
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training samples (0: all)")
    p.add_argument("--gemm", default="1024,4096,8192", help="N for N x N x N float32 products, comma-separated")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="write the results here")
    a = p.parse_args()
    if a.width < 1 or a.epochs < 1 or a.batch < 1 or a.train_limit < 0:
        sys.exit("baseline.py: --width, --epochs and --batch must be at least 1, --train-limit at least 0")
    torch.manual_seed(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    where = torch.cuda.get_device_name(0) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads (no GPU: not GPU figures)"
    data = load(a.mnist, a.train_limit)
    result = {"torch": torch.__version__, "device": where, "width": a.width, "batch": a.batch, "train_samples": len(data[0]),
              "runs": [], "gemm": []}
    for name, binary in (("float", False), ("binarized-ste", True)):
        torch.manual_seed(a.seed)
        r = train(name, mlp(a.width, binary), data, a.epochs, a.batch, device, a.seed)
        result["runs"].append(r)
        print(f"pytorch {torch.__version__} {name} MLP 3x{a.width} on {where}: {r['epochs']} epochs, "
              f"{r['samples_per_second']:.0f} samples/s, test accuracy {100 * r['test_accuracy']:.2f} %", flush=True)
    for n in [int(s) for s in a.gemm.split(",") if s.strip()]:
        g = time_mm(n, device)
        result["gemm"].append(g)
        print(f"pytorch torch.mm float32 {n}x{n}x{n} on {where}: {g['ms']:.3f} ms, {1000 * g['tflops']:.1f} GFLOP/s", flush=True)
    if a.json:
        tmp = a.json + f".{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
