#!/usr/bin/env python3
"""PyTorch side of `vbbench train --torch`: the same training step in PyTorch.

usage: torch_train_bench.py --layout nchw|channels_last [--model VballNetFastV1|VballNetV1]
                            [--batch 4] [--seq 3] [--rgb] [--height 288] [--width 512]
                            [--threads 2] [--seconds 10]

Times training steps (zero_grad, forward, weighted BCE, backward, Adam) and
eval-mode inference, then prints one JSON line:
  {"layout": ..., "train_sps": ..., "infer_sps": ..., "peak_rss_mib": ...}
Run one layout per process so that peak RSS belongs to that layout alone.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_parity import MODELS, wbce  # noqa: E402


def timed(fn, seconds, min_iters=2):
    fn()  # warm-up
    n, t0 = 0, time.perf_counter()
    while n < min_iters or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layout", choices=["nchw", "channels_last"], required=True)
    ap.add_argument("--model", choices=sorted(MODELS), default="VballNetFastV1")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=3)
    ap.add_argument("--rgb", action="store_true")
    ap.add_argument("--height", type=int, default=288)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cin = a.seq * (3 if a.rgb else 1)
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    model = MODELS[a.model](cin, a.seq).to(memory_format=fmt)
    x = torch.rand(a.batch, cin, a.height, a.width).contiguous(memory_format=fmt)
    y = (torch.rand(a.batch, a.seq, a.height, a.width) < 0.01).float().contiguous(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        opt.zero_grad()
        loss = wbce(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    n, dt = timed(train_step, a.seconds)
    train_sps = n * a.batch / dt
    model.eval()
    with torch.no_grad():
        n, dt = timed(lambda: model(x), a.seconds / 2)
    infer_sps = n * a.batch / dt
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"model": a.model, "layout": a.layout, "train_sps": train_sps,
                      "infer_sps": infer_sps,
                      "peak_rss_mib": rss}))


if __name__ == "__main__":
    main()
