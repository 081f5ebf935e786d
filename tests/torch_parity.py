#!/usr/bin/env python3
"""PyTorch parity of the C VballNetFastV1 (suite 'reference').

usage: torch_parity.py PARITY_DUMP_EXE

For each configuration the C program (tests/parity_dump.c) writes its initial
weights as safetensors plus the input, target, output, loss, every parameter
gradient, the BatchNorm running statistics after a training forward, the
parameters after one Adam/AdamW step and an eval-mode output.  This script
builds the same network in PyTorch, loads the C weights with a strict
load_state_dict, repeats the step in float32 training mode and requires
    max|c - torch| / max(max|torch|, 1e-12) < 1e-4
for every compared tensor.  Exit 77 (SKIPPED) without torch only when
VBP_SKIP_REFERENCE=1.

The module below is also the PyTorch side of `vbbench train --torch`
(tests/bench/torch_train_bench.py imports it).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - depends on the machine
    if __name__ == "__main__" and os.environ.get("VBP_SKIP_REFERENCE") == "1":
        print(f"SKIPPED: torch_parity needs numpy and torch ({e})")
        sys.exit(77)
    raise


class Sep(nn.Module):
    """depthwise 3x3 (pad 1, no bias) -> pointwise 1x1 (no bias) -> BatchNorm -> ReLU"""

    def __init__(self, cin, cout):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.pw(self.dw(x))))


def up2x(t):
    return F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)


class VballNetFastV1(nn.Module):
    def __init__(self, in_channels, seq):
        super().__init__()
        self.enc1 = Sep(in_channels, 8)
        self.enc2 = Sep(8, 16)
        self.enc3 = Sep(16, 32)
        self.bottleneck = Sep(32, 64)
        self.dec1 = Sep(96, 32)
        self.dec2 = Sep(48, 16)
        self.dec3 = Sep(24, 8)
        self.head = nn.Conv2d(8, seq, 1)

    def forward(self, x):
        x1 = self.enc1(x)
        x2 = self.enc2(F.max_pool2d(x1, 2))
        x3 = self.enc3(F.max_pool2d(x2, 2))
        b = self.bottleneck(F.max_pool2d(x3, 2))
        u1 = self.dec1(torch.cat([up2x(b), x3], 1))
        u2 = self.dec2(torch.cat([up2x(u1), x2], 1))
        u3 = self.dec3(torch.cat([up2x(u2), x1], 1))
        return torch.sigmoid(self.head(u3))


def wbce(p, y, eps=1e-7):
    """TrackNet weighted binary cross-entropy, mean over all elements."""
    p = torch.clamp(p, eps, 1 - eps)
    return -((1 - p) ** 2 * y * torch.log(p) + p ** 2 * (1 - y) * torch.log(1 - p)).mean()


def read_safetensors(path):
    """Minimal reader (F32, I64) -> dict of torch tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen])
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[base + b:base + e], dtype=dtype).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def rel(a, b):
    a = a.detach().double()
    b = b.detach().double()
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-12)


def run_case(exe, cin, seq, h, w, batch, wd, tol=1e-4):
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([exe, d, str(cin), str(seq), str(h), str(w), str(batch), str(wd)],
                       check=True)
        weights = read_safetensors(os.path.join(d, "weights.safetensors"))
        c = read_safetensors(os.path.join(d, "result.safetensors"))
    model = VballNetFastV1(cin, seq)
    model.load_state_dict(weights, strict=True)
    model.train()
    out = model(c["x"])
    loss = wbce(out, c["y"])
    loss.backward()
    checks = [("probs", out, c["probs"]), ("loss", loss.reshape(1), c["loss"])]
    sd = dict(model.named_parameters())
    for name, p in sd.items():
        checks.append(("grad." + name, p.grad, c["grad." + name]))
    for name, buf in model.named_buffers():
        if name.endswith("num_batches_tracked"):
            assert buf.item() == 1, name
        else:
            checks.append(("stats." + name, buf, c["stats." + name]))
    # One optimizer step from the C gradients, so that it tests the optimizer alone.
    before = {k: v.detach().clone() for k, v in sd.items()}
    for name, p in sd.items():
        p.grad = c["grad." + name].clone()
    if wd:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=wd)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt.step()
    for name, p in sd.items():
        checks.append(("adam." + name, p, c["adam." + name], tol))
        # The update itself (~lr), not only the parameter it was added to.  Both sides round
        # p + delta to float: one ulp of a parameter near 1 is 1.2e-4 of lr = 1e-3, hence 1e-3.
        checks.append(("adam-delta." + name, p.double() - before[name].double(),
                       c["adam." + name].double() - before[name].double(), 1e-3))
    model.eval()
    with torch.no_grad():
        checks.append(("probs_eval", model(c["x"]), c["probs_eval"]))
    checks = [t if len(t) == 4 else t + (tol,) for t in checks]
    worst = max(checks, key=lambda t: rel(t[2], t[1]) / t[3])
    label = f"in={cin} seq={seq} {batch}x{h}x{w} wd={wd}"
    failed = [(n, rel(b, a), t) for n, a, b, t in checks if rel(b, a) >= t]
    print(f"{label}: {len(checks)} tensors, worst {worst[0]} rel {rel(worst[2], worst[1]):.2e}"
          f" (limit {worst[3]:g})")
    for n, e, t in failed:
        print(f"  FAIL {n}: relative error {e:.3e} >= {t:g}")
    return not failed


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    exe = sys.argv[1]
    torch.set_num_threads(2)
    ok = run_case(exe, 3, 3, 32, 64, 2, 0.0)       # seq 3 grayscale, Adam
    ok &= run_case(exe, 9, 3, 32, 64, 2, 0.01)     # seq 3 RGB, AdamW
    ok &= run_case(exe, 3, 1, 24, 40, 1, 0.0)      # one RGB frame, batch 1, odd-ish shape
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
