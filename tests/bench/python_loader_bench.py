"""Benchmark: feeding PyTorch from PNGs, from vbpack.torch.WindowDataset and from vbpack.torch.Loader.

usage: VBPACK_LIBRARY=build/src/libvbpack.so /usr/bin/python3 tests/bench/python_loader_bench.py \\
           DATA_ROOT PACK [--gray] [--rounds R] [--seconds S] [--vbbench build/tools/vbbench]
           [--train-steps N] [--train-batch B]
DATA_ROOT is a TrackNetV4 tree (<match>/inputs/<clip>/<N>.png, <match>/heatmaps/<clip>/<N>.png),
PACK the same data packed by vbpack without --val (--grayscale for --gray).  The PNG dataset is
what public trainers do: cv2.imread of every frame and heatmap of a window, float32 / 255,
channels first.  Same windows (seq 3, stride 1), warm page cache.

1. Loading (batch 4, shuffled): a torch DataLoader over the PNG dataset and over WindowDataset
   with 0 and 2 workers (persistent, warmed by one epoch), vbpack.torch.Loader (2 C threads,
   preload, flip 0.5; also with copy=True) and the C loader itself (`vbbench loader`, same pack and options, in a
   child process).  Each round runs every configuration for --seconds of whole epochs, one
   after the other, so that whatever else the machine does weighs on all of them alike;
   the median windows/s over rounds is printed, with the load average of each round.
2. Training (--train-steps > 0): the reference VballNetFastV1 (tests/torch_parity.py, Adam,
   weighted BCE, torch threads = cores) fed by each DataLoader configuration and by the
   Loader (1 C thread, drop_last) at --train-batch; each round runs --train-steps steps per
   feeder, feeders alternating; reports training samples/s and the share of the time spent
   waiting for the next batch.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
sys.path.insert(0, os.path.join(here, ".."))
from torch_parity import VballNetFastV1, wbce  # noqa: E402
from vbpack.torch import Loader, WindowDataset  # noqa: E402

SEQ = 3


class PngWindows(Dataset):
    def __init__(self, root, gray):
        self.gray, self.items = gray, []
        for clip_dir in sorted(glob.glob(os.path.join(root, "*", "inputs", "*"))):
            frames = sorted(glob.glob(os.path.join(clip_dir, "*.png")),
                            key=lambda p: int(os.path.splitext(os.path.basename(p))[0]))
            heat = [p.replace(os.sep + "inputs" + os.sep, os.sep + "heatmaps" + os.sep) for p in frames]
            for s in range(len(frames) - SEQ + 1):
                self.items.append((frames[s:s + SEQ], heat[s:s + SEQ]))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        frames, heat = self.items[i]
        xs = []
        for f in frames:
            if self.gray:
                xs.append(cv2.imread(f, cv2.IMREAD_GRAYSCALE)[None])
            else:
                xs.append(cv2.cvtColor(cv2.imread(f, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).transpose(2, 0, 1))
        x = np.concatenate(xs).astype(np.float32) / 255
        y = np.stack([cv2.imread(h, cv2.IMREAD_GRAYSCALE) for h in heat]).astype(np.float32) / 255
        return torch.from_numpy(x), torch.from_numpy(y)


def data_loader(ds, workers, batch, drop_last=False):
    g = torch.Generator()
    g.manual_seed(0)
    return DataLoader(ds, batch_size=batch, shuffle=True, generator=g, num_workers=workers,
                      persistent_workers=workers > 0, drop_last=drop_last)


def rate(dl, seconds):
    """(windows/s, windows per CPU-second of this process) over whole epochs of dl lasting at
    least `seconds` (CPU: this process and its threads; not DataLoader worker processes)."""
    t0, c0, n = time.perf_counter(), time.process_time(), 0
    while True:
        for x, _ in dl:
            n += x.shape[0]
        if time.perf_counter() - t0 >= seconds:
            break
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9)


def c_loader_rate(vbbench, pack, seconds):
    """`vbbench loader` with the Loader's options: (windows/s, windows per CPU-second)."""
    out = subprocess.run([vbbench, "loader", pack, "--threads", "2", "--batch", "4", "--mode",
                          "preload", "--flip", "0.5", "--target", "soft", "--seconds",
                          str(seconds), "--json"], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)["loader"]
    return r["samples_per_s"], r["per_cpu_s"]


def endless(dl):
    while True:
        yield from dl


def train_feeders(png, pack_ds, pack, batch):
    feeders = {}
    for w in (0, 2):
        feeders[f"PNG DataLoader, {w} workers"] = data_loader(png, w, batch, drop_last=True)
        feeders[f"WindowDataset, {w} workers"] = data_loader(pack_ds, w, batch, drop_last=True)
    feeders["vbpack.torch.Loader"] = Loader(pack, batch=batch, seq=SEQ, flip=0.5, threads=1,
                                            drop_last=True, mode="preload")
    return {k: endless(v) for k, v in feeders.items()}


def train_round(model, opt, it, steps):
    """`steps` training steps fed by it: (seconds, seconds waiting in next(), samples)."""
    wait = samples = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        w0 = time.perf_counter()
        x, y = next(it)
        wait += time.perf_counter() - w0
        opt.zero_grad()
        loss = wbce(model(x), y)
        loss.backward()
        opt.step()
        samples += x.shape[0]
    return time.perf_counter() - t0, wait, samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("pack")
    ap.add_argument("--gray", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3, help="per configuration and round")
    ap.add_argument("--vbbench", default=os.path.join(here, "..", "..", "build", "tools", "vbbench"))
    ap.add_argument("--train-steps", type=int, default=0, help="per feeder and round (0: no training)")
    ap.add_argument("--train-batch", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    png, pack_ds = PngWindows(a.root, a.gray), WindowDataset(a.pack, seq=SEQ, split="all")
    assert len(png) == len(pack_ds), (len(png), len(pack_ds))
    assert png[0][0].shape == pack_ds[0][0].shape, (png[0][0].shape, pack_ds[0][0].shape)
    loaders = {}
    for w in (0, 2):
        loaders[f"PNG DataLoader, {w} workers"] = data_loader(png, w, 4)
        loaders[f"WindowDataset, {w} workers"] = data_loader(pack_ds, w, 4)
    ld = Loader(a.pack, batch=4, seq=SEQ, flip=0.5, threads=2, mode="preload")
    assert ld.samples == len(png), (ld.samples, len(png))
    loaders["vbpack.torch.Loader"] = ld
    loaders["vbpack.torch.Loader, copy=True"] = Loader(a.pack, batch=4, seq=SEQ, flip=0.5,
                                                       threads=2, mode="preload", copy=True)
    for dl in loaders.values():  # start the workers, warm the page cache and their mappings
        rate(dl, 0)
    rates, loads = {}, []
    for _ in range(a.rounds):
        load = os.getloadavg()[0]
        for key, dl in loaders.items():
            rates.setdefault(key, []).append(rate(dl, a.seconds))
        rates.setdefault("C loader (vbbench loader)", []).append(c_loader_rate(a.vbbench, a.pack, a.seconds))
        loads.append((load, os.getloadavg()[0]))
    kind = "gray" if a.gray else "RGB"
    h, w = pack_ds[0][0].shape[1:]
    print(f"{len(png)} windows, seq {SEQ}, {kind}, {w}x{h}, batch 4, median of {a.rounds} rounds "
          f"of {a.seconds:g} s each; load average at the start/end of each round: "
          + ", ".join(f"{s:.1f}/{e:.1f}" for s, e in loads))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
           for k, v in rates.items()}
    best_png = max(v[0] for k, v in med.items() if k.startswith("PNG"))
    c = med["C loader (vbbench loader)"]
    print(f"  {'configuration':36s} {'windows/s':>10s} {'x best PNG':>10s} {'of C loader':>11s}"
          f"   rounds")
    for k, (r, _) in med.items():
        print(f"  {k:36s} {r:10.1f} {r / best_png:9.1f}x {100 * r / c[0]:10.0f}%   "
              + " ".join(f"{x[0]:.0f}" for x in rates[k]))
    lc = med["vbpack.torch.Loader"][1]
    print(f"  per CPU-second: Loader {lc:.0f}, C loader {c[1]:.0f} windows ({100 * lc / c[1]:.0f}%)")

    if a.train_steps <= 0:
        return
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = VballNetFastV1(SEQ * (1 if a.gray else 3), SEQ)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    feeders = train_feeders(png, pack_ds, a.pack, a.train_batch)
    for it in feeders.values():  # workers started, model warmed
        train_round(model, opt, it, 1)
    res, loads = {}, []
    for _ in range(a.rounds):
        load = os.getloadavg()[0]
        for key, it in feeders.items():
            res.setdefault(key, []).append(train_round(model, opt, it, a.train_steps))
        loads.append((load, os.getloadavg()[0]))
    print(f"training VballNetFastV1, batch {a.train_batch}, {torch.get_num_threads()} torch threads, "
          f"{a.rounds} rounds of {a.train_steps} steps per feeder; load average at the start/end "
          "of each round: " + ", ".join(f"{s:.1f}/{e:.1f}" for s, e in loads))
    print(f"  {'feeder':34s} {'samples/s':>10s} {'waiting':>8s}   (per round: samples/s, waiting)")
    for k, v in res.items():
        secs, wait, n = (sum(r[i] for r in v) for i in range(3))
        print(f"  {k:34s} {n / secs:10.2f} {100 * wait / secs:7.1f}%   "
              + " ".join(f"{r[2] / r[0]:.2f}/{100 * r[1] / r[0]:.1f}%" for r in v))


if __name__ == "__main__":
    main()
