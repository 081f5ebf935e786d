"""Benchmark: vbpack.torch.WindowDataset against a PNG-directory Dataset, both in a torch DataLoader.

usage: /usr/bin/python3 tests/bench/python_loader_bench.py DATA_ROOT PACK [--gray] [--rounds R]
DATA_ROOT is a TrackNetV4 tree (<match>/inputs/<clip>/<N>.png, <match>/heatmaps/<clip>/<N>.png),
PACK the same data packed by vbpack (--grayscale for --gray).  The PNG dataset is what public
trainers do: cv2.imread of every frame and heatmap of a window, float32 / 255, channels first.
Same windows (seq 3, stride 1), batch 4, shuffled with the same seed, warm page cache; each round
runs every (dataset, workers) loader for --epochs epochs, interleaved (workers are persistent and
warmed by one epoch first); the median windows/s over rounds is printed.
"""
import argparse
import glob
import os
import statistics
import sys
import time

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from vbpack.torch import WindowDataset  # noqa: E402

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


def loader(ds, workers):
    g = torch.Generator()
    g.manual_seed(0)
    return DataLoader(ds, batch_size=4, shuffle=True, generator=g, num_workers=workers,
                      persistent_workers=workers > 0)


def rate(dl, epochs):
    """Windows per second over `epochs` epochs of dl."""
    t0 = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for x, _ in dl:
            n += x.shape[0]
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("pack")
    ap.add_argument("--gray", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3, help="epochs per measurement")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    png, pack = PngWindows(a.root, a.gray), WindowDataset(a.pack, seq=SEQ, split="all")
    assert len(png) == len(pack), (len(png), len(pack))
    assert png[0][0].shape == pack[0][0].shape, (png[0][0].shape, pack[0][0].shape)
    loaders = {(name, w): loader(ds, w) for w in (0, 2) for name, ds in (("png", png), ("pack", pack))}
    for dl in loaders.values():  # start the workers, warm the page cache and their mappings
        rate(dl, 1)
    rates = {}
    for _ in range(a.rounds):
        for key, dl in loaders.items():
            rates.setdefault(key, []).append(rate(dl, a.epochs))
    kind = "gray" if a.gray else "RGB"
    print(f"{len(pack)} windows, seq {SEQ}, {kind}, {pack[0][0].shape[2]}x{pack[0][0].shape[1]}, "
          f"batch 4, median of {a.rounds} rounds of {a.epochs} epochs (windows/s):")
    for workers in (0, 2):
        p, v = (statistics.median(rates[(n, workers)]) for n in ("png", "pack"))
        print(f"  workers {workers}: PNG (cv2.imread) {p:8.1f}   pack {v:8.1f}   {v / p:5.1f}x")


if __name__ == "__main__":
    main()
