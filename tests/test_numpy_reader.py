"""Reference test: python/vbpack/pack.py (vbpack.Pack, numpy) reads exactly what the C reader reads.

usage: VBP_PYTHON tests/test_numpy_reader.py PACK_EXPECT_EXE
For raw and lz4 packs, gray and RGB, compares every decoded frame and heatmap
byte for byte, every clip and every label; and checks that a truncated and a
re-versioned pack are refused.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile


from _reference import skip_or_fail  # noqa: E402


try:
    import numpy as np
except ImportError as e:
    skip_or_fail(f"numpy not importable in {sys.executable}: {e}")
try:
    import lz4.block  # noqa: F401
except ImportError as e:
    skip_or_fail(f"lz4 (python3-lz4) not importable in {sys.executable}: {e}")

sys.path.insert(0, os.path.join(os.environ.get("VBP_SOURCE_DIR", "."), "python"))
from vbpack import Pack, PackError  # noqa: E402


def check(exe, tmp, codec, channels, sourced=False):
    pack, out = os.path.join(tmp, f"{codec}{channels}.vbp"), os.path.join(tmp, f"{codec}{channels}")
    subprocess.run([exe, pack, codec, str(channels), out] + (["sourced"] if sourced else []),
                   check=True)
    expect = open(out + ".bin", "rb").read()
    lines = [ln.split() for ln in open(out + ".txt")]
    with Pack(pack) as p:
        assert (p.height, p.width, p.channels) == (48, 64, channels), (p.height, p.width, p.channels)
        got = b"".join(p.frame(f).tobytes() + p.heatmap(f).tobytes() for f in range(len(p)))
        assert got == expect, f"{pack}: decoded records differ from the C reader's"
        assert p.version == (1, 1 if sourced else 0), p.version
        clips = [ln[1:] for ln in lines if ln[0] == "clip"]
        assert len(clips) == len(p.clips)
        for c, (name, group, split, first, count, *src) in zip(p.clips, clips):
            assert (c.name, c.group or "-", c.split, c.first_frame, c.frame_count) == \
                (name, group, split, int(first), int(count)), (c, name)
            src = tuple(int(v) for v in src)
            assert c.source == (src if src[0] else None), (c, src)
        if sourced:  # the fixture's clip sources (tests/pack_fixture.c, fix_source)
            assert [c.source for c in p.clips] == [(1280, 720, 30000, 1001), None, (640, 360, 0, 0)]
        for ln in (ln for ln in lines if ln[0] == "label"):
            vis, x, y = p.label(int(ln[1]))
            assert (vis, np.float32(x), np.float32(y)) == \
                (int(ln[2]), np.float32(ln[3]), np.float32(ln[4])), (ln, vis, x, y)
        w = p.window(1, 0, 3)
        assert w.shape == (3 * channels, 48, 64)
        assert (w[channels:2 * channels] == p.frame(p.clips[1].first_frame + 1)).all()
    return pack


def refused(path, data, words):
    open(path, "wb").write(data)
    try:
        Pack(path).close()
    except PackError as e:
        assert path in str(e) and words in str(e), str(e)
        return
    raise AssertionError(f"{path}: damaged pack accepted")


def main():
    exe = sys.argv[1]
    tmp = tempfile.mkdtemp()
    try:
        for codec in ("raw", "lz4"):
            for channels in (1, 3):
                # format 1.1 (clip sources) for the RGB packs, 1.0 for the gray ones
                pack = check(exe, tmp, codec, channels, sourced=channels == 3)
        data = open(pack, "rb").read()
        bad = os.path.join(tmp, "bad.vbp")
        refused(bad, data[:len(data) - 1], "truncated")
        refused(bad, data[:100], "truncated")
        refused(bad, data[:8] + b"\x02" + data[9:], "version 2.1")
        refused(bad, b"hello world", "bad magic")
        # 1.1: a clip's frames from two source sizes (entry bytes 92..95 of its second frame)
        at = struct.unpack_from("<Q", data, 104)[0] + 96 * 1 + 92  # frame index offset, frame 1
        refused(bad, data[:at] + b"\x01\x02" + data[at + 2:], "several source sizes")
    finally:
        shutil.rmtree(tmp)
    print("numpy reader matches the C reader on 4 packs (two of format 1.0, two of 1.1)")


main()
