#!/usr/bin/python3
"""Compare the lz4 records of packs with what Python's lz4.block writes for the same pixels.

usage: PYTHONPATH=python /usr/bin/python3 tools/lz4_compare.py PACK...

For every lz4 record: decode it, compress the pixels again with
lz4.block.compress(pixels, store_size=False) (python3-lz4, mode "default") and count the
records whose bytes are identical, per record kind and size.  formats/vbpack.md ("Which lz4
bytes") and docs/packing.md state the result for Debian 12's liblz4 1.9.4.
"""
import sys

import lz4
import lz4.block

import vbpack


def main():
    print(f"python3-lz4 {lz4.__version__} on liblz4 {lz4.library_version_string()}")
    for path in sys.argv[1:]:
        p = vbpack.Pack(path)
        rows = {}
        for f in range(len(p)):
            for kind in ("frame", "heatmap"):
                r = p.index[f][kind]
                if r["codec"] != 1:
                    continue
                off, n, raw = int(r["offset"]), int(r["stored"]), int(r["raw"])
                stored = bytes(p._map[off:off + n])
                again = lz4.block.compress(lz4.block.decompress(stored, uncompressed_size=raw),
                                           store_size=False)
                row = rows.setdefault((kind, raw), [0, 0, 0, 0])
                row[0] += 1
                row[1] += again == stored
                row[2] += n
                row[3] += len(again)
        for (kind, raw), (count, same, c_bytes, py_bytes) in sorted(rows.items()):
            print(f"{path}: {kind}s of {raw} B: {same} of {count} lz4 records identical; "
                  f"C {c_bytes} B, lz4.block {py_bytes} B")
        p.close()


if __name__ == "__main__":
    main()
