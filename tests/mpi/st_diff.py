"""Relative difference of two safetensors state dicts (stdlib + numpy).

usage: st_diff.py A B [TOL]
Prints max |a-b| / max(|b|, 1e-3) over every float tensor (parameters and
BatchNorm running statistics) and the relative L2 norm of the difference of
the parameters; exits 1 when the first exceeds TOL (default: only print)."""
import json
import struct
import sys

import numpy as np


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for key, v in header.items():
        if key == "__metadata__":
            continue
        start, end = v["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[key] = np.frombuffer(data[start:end], dtype=dtype).astype(np.float64)
    return out


a, b = load(sys.argv[1]), load(sys.argv[2])
if sorted(a) != sorted(b):
    sys.exit("different tensors")
rel = max(float(np.max(np.abs(a[k] - b[k]) / np.maximum(np.abs(b[k]), 1e-3))) for k in a)
params = [k for k in a if "running" not in k and "num_batches" not in k]
l2 = float(np.sqrt(sum(np.sum((a[k] - b[k]) ** 2) for k in params) /
                   sum(np.sum(b[k] ** 2) for k in params)))
counters = all(np.array_equal(a[k], b[k]) for k in a if "num_batches" in k)
print(f"max_rel {rel:.3g} params_rel_l2 {l2:.3g} counters_equal {counters}")
if len(sys.argv) > 3 and (rel > float(sys.argv[3]) or not counters):
    sys.exit(1)
