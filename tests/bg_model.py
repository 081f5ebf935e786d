"""bg_model.py - a model that takes a background frame, made from one that does not (tests).

usage: bg_model.py IN.safetensors OUT.safetensors FACTOR
The first block's depthwise kernels get one more channel (a copy of the last frame's) and its
pointwise weights one more column (FACTOR times the last frame's): a VballNetFastV1 of
(seq + 1) * 1 inputs whose output depends on the background frame.  Plain Python (struct,
array): safetensors as docs/network.md writes it, F32 and I64 tensors.
"""
import array
import json
import struct
import sys


def main():
    src, dst, factor = sys.argv[1], sys.argv[2], float(sys.argv[3])
    blob = open(src, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    head = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = head.pop("__metadata__", {})
    tensors = {}
    for name, t in head.items():
        s, e = t["data_offsets"]
        a = array.array("f" if t["dtype"] == "F32" else "q", data[s:e])
        tensors[name] = [t["dtype"], list(t["shape"]), a]
    dw, pw = tensors["enc1.dw.weight"], tensors["enc1.pw.weight"]
    cin = dw[1][0]
    dw[2].extend(dw[2][(cin - 1) * 9:cin * 9])  # [cin, 1, 3, 3] -> [cin + 1, ...]
    dw[1][0] = cin + 1
    cout = pw[1][0]
    rows = []
    for o in range(cout):  # [cout, cin, 1, 1] -> [cout, cin + 1, 1, 1]
        row = pw[2][o * cin:(o + 1) * cin]
        rows.extend(row)
        rows.append(factor * row[-1])
    pw[2] = array.array("f", rows)
    pw[1][1] = cin + 1
    out, off, blobs = {}, 0, []
    for name, (dtype, shape, a) in tensors.items():
        b = a.tobytes()
        out[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    out["__metadata__"] = meta
    text = json.dumps(out, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


main()
