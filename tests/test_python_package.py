"""Reference test: the Python package python/vbpack against the C loader.

usage: VBP_PYTHON tests/test_python_package.py VBSAMPLE VBPACK WINDOW_DUMP VBDUMP
- vbpack.Windows / vbpack.torch.WindowDataset windows equal, bit for bit, the
  C loader's (tests/window_dump.c: vbp_loader_assemble) for the same sample
  ids: gray raw and RGB lz4 packs, train / val / all, seq 3 and 5, stride 1,
  clip boundaries, flipped samples; sample counts and (clip, frame) mapping.
- A torch DataLoader batch equals the C batch of the same ids.
- Channel mismatch and a split without windows are refused, naming the pack.
- A pickled dataset (what spawn workers receive) carries the pack's path, not its bytes.
- Clip names: Pack.resolve / find_clip pick what vbpack --val and vbdump pick, and refuse
  what they refuse with the same message (an ambiguous bare name lists its candidates);
  vbpack.escape escapes as the C vbp_escape does.
- DataLoader with 2 workers (fork): each worker reads the pack through the shared
  mapping (raw frames are views of the mmap; the pack's pages are in the
  worker's smaps with Pss well under Rss: shared, not copied).
Exit 77 (SKIPPED) without numpy/torch/lz4 only with VBP_SKIP_REFERENCE=1.
"""
import os
import pickle
import shutil
import subprocess
import sys
import tempfile


from _reference import skip_or_fail  # noqa: E402


try:
    import lz4.block  # noqa: F401
    import numpy as np
    import torch
    from torch.utils.data import DataLoader
except ImportError as e:
    skip_or_fail(f"numpy, torch and lz4 (python3-torch, python3-lz4) needed in {sys.executable}: {e}")

sys.path.insert(0, os.path.join(os.environ.get("VBP_SOURCE_DIR", "."), "python"))
import vbpack  # noqa: E402
from vbpack.torch import WindowDataset  # noqa: E402


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, stderr=subprocess.DEVNULL)


def c_windows(dump, pack, seq, channels, split, ids, tmp):
    """The C loader's windows for ids ("7f" = flipped): x, y, samples lines, sample count."""
    out = os.path.join(tmp, "dump")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    run(dump, pack, seq, channels, split, out, "-", *ids)
    lines = open(os.path.join(out, "samples.txt")).read().split("\n")
    count = int(lines[0].split()[1])
    rows = [list(map(int, ln.split())) for ln in lines[1:] if ln]
    x = np.fromfile(os.path.join(out, "x.f32"), np.float32)
    y = np.fromfile(os.path.join(out, "y.f32"), np.float32)
    return x.reshape(len(ids), -1), y.reshape(len(ids), -1), rows, count


def check_parity(dump, pack, channels, tmp):
    checked = 0
    for split, seq in (("train", 3), ("val", 3), ("all", 5)):
        w = vbpack.Windows(pack, seq=seq, split=split, channels=channels)
        n = len(w)
        # every clip boundary and both ends, a few flipped
        ids = sorted({0, 1, n - 1} | {int(s) - d for s in w._first_sample[1:] for d in (0, 1)})
        ids = [f"{i}f" if k % 3 == 1 else str(i) for k, i in enumerate(ids)]
        x, y, rows, count = c_windows(dump, pack, seq, channels, split, ids, tmp)
        assert count == n, (pack, split, count, n)
        for k, tok in enumerate(ids):
            i, flip = int(tok.rstrip("f")), tok.endswith("f")
            clip, first, start = w.sample(i)
            assert rows[k] == [i, clip, first, start, int(flip)], (rows[k], i, clip, first, start)
            px, py = w.get(i, flip=flip)
            assert px.shape == (seq * channels, 72, 128) and py.shape == (seq, 72, 128)
            assert np.array_equal(px.ravel(), x[k]) and np.array_equal(py.ravel(), y[k]), \
                f"{pack} {split} seq {seq}: window {tok} differs from the C loader's"
            checked += 1
        # the torch Dataset and a DataLoader batch: the C batch of the same ids
        ds = WindowDataset(pack, seq=seq, split=split, grayscale=channels == 1)
        first3 = [str(i) for i in range(3)]
        x3, y3, _, _ = c_windows(dump, pack, seq, channels, split, first3, tmp)
        bx, by = next(iter(DataLoader(ds, batch_size=3, shuffle=False)))
        assert bx.dtype == torch.float32 and bx.shape == (3, seq * channels, 72, 128)
        assert np.array_equal(bx.numpy().reshape(3, -1), x3)
        assert np.array_equal(by.numpy().reshape(3, -1), y3)
        dsf = WindowDataset(pack, seq=seq, split=split, flip=True)
        xf, yf, _, _ = c_windows(dump, pack, seq, channels, split, ["2f"], tmp)
        assert np.array_equal(dsf[2][0].numpy().ravel(), xf[0])
        assert np.array_equal(dsf[2][1].numpy().ravel(), yf[0])
    return checked


def refused(fn, words):
    try:
        fn()
    except vbpack.PackError as e:
        assert all(w in str(e) for w in words), str(e)
        return
    raise AssertionError(f"accepted, expected an error with {words}")


def smaps_of(path):
    """(Rss, Pss) in bytes of this process's mappings of path, and their address ranges."""
    rss = pss = 0
    ranges, inside = [], False
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                inside = len(parts) >= 6 and parts[5] == path
                if inside:
                    ranges.append(tuple(int(a, 16) for a in parts[0].split("-")))
            elif inside and parts[0] == "Rss:":
                rss += int(parts[1]) * 1024
            elif inside and parts[0] == "Pss:":
                pss += int(parts[1]) * 1024
    return rss, pss, ranges


class Probe(WindowDataset):
    """Each item also carries (pid, Rss, Pss of the pack mapping, a raw frame lies in it)."""

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        p = self.windows.pack
        rss, pss, ranges = smaps_of(os.path.realpath(p.path))
        addr = p.frame(self.windows.sample(i)[1]).__array_interface__["data"][0]
        in_map = any(lo <= addr < hi for lo, hi in ranges)
        return x, y, torch.tensor([os.getpid(), rss, pss, int(in_map)], dtype=torch.int64)


def check_workers(vbsample, vbpack_exe, tmp):
    run(vbsample, "--out", f"{tmp}/big", "--layout", "vballnet", "--gray", "--seed", "2",
        "--matches", "1", "--clips", "2", "--frames", "30")
    pack = f"{tmp}/big.vbp"
    run(vbpack_exe, f"{tmp}/big/vballnet", "-o", pack, "--grayscale", "--quiet")
    size = os.path.getsize(pack)
    ds = Probe(pack, seq=3, split="train")
    p = ds.windows.pack
    for f in range(len(p)):  # the parent maps every page too, as a trainer that reads it would
        int(p.frame(f)[0, 0, 0]) + int(p.heatmap(f).sum())
    # spawn (and forkserver) workers get the dataset pickled: the Pack goes as its path
    blob = pickle.dumps(ds)
    assert len(blob) < size // 100, f"a pickled dataset is {len(blob)} bytes"
    again = pickle.loads(blob).windows.pack
    assert again.path == p.path and again._map is not p._map and np.array_equal(again.frame(5), p.frame(5))
    for ctx in ("fork",):
        last = {}
        for _, _, info in DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context=ctx):
            for pid, rss, pss, is_view in info.tolist():
                last[pid] = (rss, pss, is_view)
        assert len(last) == 2 and os.getpid() not in last, last
        check_shared(last, size, ctx)


def check_shared(last, size, ctx):
    for pid, (rss, pss, is_view) in last.items():
        print(f"{ctx} worker {pid}: pack {size >> 20} MiB, mapping Rss {rss >> 20} MiB, "
              f"Pss {pss >> 20} MiB")
        assert is_view, "raw frames in the worker are not views of the mapping"
        assert rss >= size // 2, f"worker {pid} read {rss} bytes through the mapping of {size}"
        assert pss <= 0.7 * rss, f"worker {pid}: Pss {pss} of Rss {rss}: pages not shared"


def tool_error(*cmd):
    """Exit status 2 and the one stderr line of a tool refusing a name, without its prefix."""
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    assert r.returncode == 2, (cmd, r.returncode, r.stderr)
    return r.stderr.rstrip("\n").split(": ", 2)[-1]


def check_names(vbsample, vbpack_exe, vbdump, tmp):
    """Python resolves clip names as the tools do: same picks, same refusals, same text."""
    run(vbsample, "--out", f"{tmp}/n", "--layout", "tracknetv4", "--width", "64", "--height", "32",
        "--gray", "--matches", "2", "--clips", "2", "--frames", "3")
    pack = f"{tmp}/names.vbp"
    run(vbpack_exe, f"{tmp}/n/tracknetv4", "-o", pack, "--size", "64x32", "--grayscale", "--val",
        "match1/clip2", "--test", "match2/", "--quiet")
    p = vbpack.Pack(pack)
    assert [c.split for c in p.clips] == ["train", "val", "test", "test"], p.clips
    assert p.resolve("match1/clip2") == [1] and p.resolve("match2") == [2, 3]
    assert p.resolve("match2/") == [2, 3] and p.find_clip("match2/clip1") == 2
    assert p.window("match1/clip2", 0, 3).shape == (3, 32, 64)
    for name in ("clip2", "nope", "/clip1", "match1/clip3"):
        want = tool_error(vbpack_exe, f"{tmp}/n/tracknetv4", "-o", f"{tmp}/x.vbp", "--size",
                          "64x32", "--val", name, "--quiet")
        try:
            p.resolve(name)
            raise AssertionError(f"{name}: resolved")
        except ValueError as e:
            assert str(e) == want, (str(e), want)
    for name in ("clip1", "match2", "nope"):
        want = tool_error(vbdump, "frames", pack, name)
        try:
            p.find_clip(name)
            raise AssertionError(f"{name}: found")
        except ValueError as e:
            assert str(e) == want, (str(e), want)
    assert not os.path.exists(f"{tmp}/x.vbp")
    # the C tests' cases (tests/test_names.c)
    for raw, esc in ((b"F32\x1f", "F32\\x1f"), (b"\x1b[31mred", "\\x1b[31mred"), (b"a\\b", "a\\\\b"),
                     (b"\xff\xfe", "\\xff\\xfe"), (b"\xc0\xaf", "\\xc0\\xaf"),
                     (b"\xed\xa0\x80", "\\xed\\xa0\\x80"), (b"\xe3\x83Z", "\\xe3\\x83Z"),
                     (b"\xc2\x9b2J", "\\xc2\\x9b2J"), (b"\xef\xbb\xbfF", "\\xef\\xbb\\xbfF"),
                     ("caf\u00e9 \U0001f3d0".encode(), "caf\u00e9 \U0001f3d0")):
        assert vbpack.escape(raw) == esc, (raw, vbpack.escape(raw), esc)
    print("clip names: Python picks and refuses as vbpack and vbdump do")


def main():
    vbsample, vbpack_exe, dump, vbdump = sys.argv[1:5]
    tmp = tempfile.mkdtemp()
    try:
        run(vbsample, "--out", f"{tmp}/g", "--layout", "vballnet", "--width", "128", "--height",
            "72", "--gray", "--seed", "4", "--matches", "2", "--clips", "2", "--frames", "9")
        run(vbsample, "--out", f"{tmp}/c", "--layout", "vballnet", "--width", "128", "--height",
            "72", "--seed", "5", "--matches", "2", "--clips", "2", "--frames", "9")
        gray, rgb = f"{tmp}/gray.vbp", f"{tmp}/rgb.vbp"
        run(vbpack_exe, f"{tmp}/g/vballnet", "-o", gray, "--grayscale", "--size", "128x72",
            "--val", "match2_clip1", "--quiet")
        run(vbpack_exe, f"{tmp}/c/vballnet", "-o", rgb, "--rgb", "--codec", "lz4", "--size",
            "128x72", "--val", "match2_clip1", "--quiet")
        n = check_parity(dump, gray, 1, tmp) + check_parity(dump, rgb, 3, tmp)
        print(f"{n} windows equal to the C loader's (gray raw, RGB lz4; train, val, all)")
        refused(lambda: WindowDataset(gray, grayscale=False), [gray, "gray (1 channel)", "3 (RGB)"])
        refused(lambda: vbpack.Windows(gray, seq=10, split="val"), [gray, "val", "10 frames"])
        check_workers(vbsample, vbpack_exe, tmp)
        check_names(vbsample, vbpack_exe, vbdump, tmp)
        print("ok")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
