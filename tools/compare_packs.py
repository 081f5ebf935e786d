#!/usr/bin/python3
"""Compare two packs of the same clips record by record (numpy reader, python/vbpack):
frames and heatmaps (max and mean absolute difference, bytes that differ) and labels.
usage: tools/compare_packs.py A.vbp B.vbp   (docs/packing.md, "Videos")"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vbpack  # noqa: E402


def main():
    a, b = vbpack.Pack(sys.argv[1]), vbpack.Pack(sys.argv[2])
    if (len(a), a.height, a.width, a.channels) != (len(b), b.height, b.width, b.channels):
        sys.exit(f"the packs differ in frames or geometry: {len(a)} {a.width}x{a.height}x{a.channels}"
                 f" vs {len(b)} {b.width}x{b.height}x{b.channels}")
    stats = {k: [0, 0, 0, 0] for k in ("frames", "heatmaps")}  # max, sum, differing, total
    vis_mismatch, label_d = 0, []
    for f in range(len(a)):
        for k, get in (("frames", "frame"), ("heatmaps", "heatmap")):
            d = np.abs(getattr(a, get)(f).astype(np.int16) - getattr(b, get)(f).astype(np.int16))
            s = stats[k]
            s[0] = max(s[0], int(d.max()))
            s[1] += int(d.sum())
            s[2] += int(np.count_nonzero(d))
            s[3] += d.size
        la, lb = a.label(f), b.label(f)
        if la[0] != lb[0]:
            vis_mismatch += 1
        elif la[0] == 1:
            label_d.append(max(abs(la[1] - lb[1]), abs(la[2] - lb[2])))
    for k, (mx, sm, nd, tot) in stats.items():
        print(f"{k}: max {mx}, mean {sm / tot:.6f}, {nd} of {tot} bytes differ")
    print(f"labels: {vis_mismatch} visibility mismatches; {len(label_d)} visible: "
          f"max |d| {max(label_d, default=0):.3f} px, mean {np.mean(label_d) if label_d else 0:.3f} px")


main()
