"""Reference test: vbpack.Loader / vbpack.torch.Loader (libvbpack through ctypes) against the C loader.

usage: VBP_PYTHON tests/test_python_loader.py VBSAMPLE VBPACK LOADER_DUMP
with VBPACK_LIBRARY naming the build's libvbpack.so (tests/meson.build sets it; in an ASan build
also LD_PRELOAD of the sanitizer runtime, so the library runs instrumented in the interpreter).
- The ctypes structs have the C compiler's offsets and sizes (loader_dump --layout).
- Batches equal, bit for bit, the C loader's (tests/loader_dump.c: vbp_loader_next with the same
  options), with their sample ids, flips and augmentations: epochs served one after the other,
  set_epoch, resuming at a batch, gray raw and RGB lz4 packs, threads 0 and 2, disk and preload,
  shuffle, locality and sequential orders, binary targets, brightness/contrast/shift, drop_last.
- Sequential unaugmented batches equal the numpy reader's windows (vbpack.Windows): a second,
  independent implementation.
- part/parts: the slices of every batch, concatenated, equal the whole batch (also with a part
  left empty); one part equals the C loader's part.
- Lifetimes: a batch outlives close() and the loader itself and stays readable; the C loader is
  freed when the last batch goes; copy=True batches survive later batches; a closed loader, an
  older iterator, a forked child and pickling are refused clearly.
- Bad input: a missing pack, a channel mismatch, bad options and a library that cannot be found
  give one clear error naming what is wrong; a preload that does not fit in memory_limit or
  beside reserve_bytes reads from disk and says so.
Exit 77 (SKIPPED) without numpy/torch only with VBP_SKIP_REFERENCE=1.
"""
import ctypes
import gc
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import weakref

from _reference import CHILD_ENV, run, skip_or_fail, small_packs

try:
    import numpy as np
    import torch
except ImportError as e:
    skip_or_fail(f"numpy and torch (python3-numpy, python3-torch) needed in {sys.executable}: {e}")

sys.path.insert(0, os.path.join(os.environ.get("VBP_SOURCE_DIR", "."), "python"))
import vbpack  # noqa: E402
import vbpack.torch  # noqa: E402
from vbpack import _lib  # noqa: E402

def check_layout(dump):
    out = subprocess.run([dump, "--layout"], check=True, capture_output=True, text=True,
                         env=CHILD_ENV).stdout
    structs = {"vbp_loader_opts": _lib.Opts, "vbp_loader_shape": _lib.Shape,
               "vbp_augment": _lib.Augment, "vbp_sample": _lib.Sample, "vbp_batch": _lib.Batch,
               "vbp_error": _lib.Error}
    checked = 0
    for line in out.splitlines():
        name, value = line.split()
        if "." in name:
            s, f = name.split(".")
            got = getattr(structs[s], f).offset
        else:
            s, got = name, ctypes.sizeof(structs[name])
        assert got == int(value), f"{name}: ctypes says {got}, the C compiler {value}"
        checked += 1
    for s, cls in structs.items():  # every C field is mirrored, no more, no less
        assert sum(line.startswith(s + ".") for line in out.splitlines()) == len(cls._fields_), s
    return checked


def c_batches(dump, pack, tmp, **kv):
    """The C loader's batches: list of (meta, samples, x, y) in serving order."""
    out = tempfile.mkdtemp(dir=tmp)
    run(dump, pack, out, *[f"{k}={v}" for k, v in kv.items()])
    x = np.fromfile(os.path.join(out, "x.f32"), np.float32)
    y = np.fromfile(os.path.join(out, "y.f32"), np.float32)
    lines = [ln.split() for ln in open(os.path.join(out, "batches.txt"))]
    batches, i, xo, yo = [], 0, 0, 0
    while i < len(lines):
        meta = tuple(int(v) for v in lines[i])
        n = meta[2]
        rows = [tuple(int(v) for v in r[:5]) + (float.fromhex(r[5]), float.fromhex(r[6]),
                                                 int(r[7]), int(r[8])) for r in lines[i + 1:i + 1 + n]]
        batches.append([meta, rows, x, y])
        i += 1 + n
    xs = len(x) // max(1, sum(b[0][2] for b in batches))
    ys = len(y) // max(1, sum(b[0][2] for b in batches))
    for b in batches:
        n = b[0][2]
        b[2], b[3] = x[xo:xo + n * xs].reshape(n, xs), y[yo:yo + n * ys].reshape(n, ys)
        xo, yo = xo + n * xs, yo + n * ys
    shutil.rmtree(out)
    return batches


def as_numpy(t):
    return t.numpy() if isinstance(t, torch.Tensor) else t


def py_batches(ld, epochs, start=0, auto=False):
    """The same from a Loader; auto: no set_epoch, each iter() goes on to the next epoch."""
    out = []
    for k, e in enumerate(epochs):
        if not auto:
            ld.set_epoch(e, start if k == 0 else 0)
        assert ld.epoch == e, (ld.epoch, e)
        for x, y in ld:
            x, y = as_numpy(x), as_numpy(y)
            epoch, index, first, batch_n = ld.last_batch
            meta = (epoch, index, len(x), batch_n, first)
            rows = [(int(s["sample"]), int(s["clip"]), int(s["first_frame"]), int(s["clip_frame"]),
                     int(s["flip"]), float(s["gain"]), float(s["bias"]), int(s["dx"]), int(s["dy"]))
                    for s in ld.last_samples]
            out.append([meta, rows, x.reshape(len(x), int(np.prod(x.shape[1:]))).copy(),
                        y.reshape(len(y), int(np.prod(y.shape[1:]))).copy()])
    return out


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def assert_equal(c, p, what):
    assert len(c) == len(p), f"{what}: C served {len(c)} batches, Python {len(p)}"
    for k, (cb, pb) in enumerate(zip(c, p)):
        assert cb[0] == pb[0], f"{what}: batch {k}: C {cb[0]} Python {pb[0]} (epoch index n batch_n first)"
        assert cb[1] == pb[1], f"{what}: batch {k}: samples differ: C {cb[1]} Python {pb[1]}"
        assert same_bits(cb[2], pb[2]) and same_bits(cb[3], pb[3]), f"{what}: batch {k}: x or y differs"
    return sum(b[0][2] for b in c)


def check_bitwise(dump, gray, rgb, tmp):
    windows = 0
    # gray raw, torch tensors, 2 threads, disk: two epochs served one after the other, a jump
    # with set_epoch, then a resume inside an epoch
    o = dict(batch=3, seq=3, flip=0.5, seed=7, threads=2)
    ld = vbpack.torch.Loader(gray, **o)
    assert isinstance(next(iter(ld))[0], torch.Tensor)
    ld.set_epoch(0)
    windows += assert_equal(c_batches(dump, gray, tmp, epochs="0,1", **o),
                            py_batches(ld, [0, 1], auto=True), "gray, epochs 0 and 1")
    windows += assert_equal(c_batches(dump, gray, tmp, epochs="5", **o), py_batches(ld, [5]),
                            "gray, set_epoch(5)")
    windows += assert_equal(c_batches(dump, gray, tmp, epochs="1", start=2, **o),
                            py_batches(ld, [1], start=2), "gray, resumed at epoch 1 batch 2")
    assert len(ld) == -(-ld.samples // 3) and ld.order == "shuffle" and ld.mode == "disk"
    assert list(ld.epoch_order(5)) == [r[0] for b in c_batches(dump, gray, tmp, epochs="5", **o)
                                       for r in b[1]]
    ld.close()
    # RGB lz4, numpy arrays, inside next() (threads 0), preload, every augmentation, binary
    # targets, the locality order, drop_last, seq 5 over all splits, the background frame
    o = dict(batch=4, seq=5, flip=0.5, seed=3, threads=0, mode="preload", target="binary", cut=100,
             brightness=0.2, contrast=0.3, shift=4, order="locality", drop_last=1, split="all",
             background=1)
    ld = vbpack.Loader(rgb, batch=4, seq=5, flip=0.5, seed=3, threads=0, mode="preload",
                       target="binary", target_cut=100, brightness=0.2, contrast=0.3, shift=4,
                       order="locality", drop_last=True, split="all", grayscale=False,
                       background=True)
    p = py_batches(ld, [0, 2])
    assert p[0][2].shape[1] == 6 * 3 * ld.height * ld.width  # 5 frames and the background
    windows += assert_equal(c_batches(dump, rgb, tmp, epochs="0,2", **o), p, "RGB lz4 augmented")
    assert len(ld) == ld.samples // 4 and all(b[0][2] == 4 for b in p)
    assert any(r[7] or r[8] for b in p for r in b[1]) and any(r[5] != 1 for b in p for r in b[1])
    ld.close()
    # sequential, every window flipped, soft targets: the numpy reader's windows
    w = vbpack.Windows(gray, seq=3, split="val")
    ld = vbpack.torch.Loader(gray, batch=2, split="val", shuffle=False, flip=1.0, threads=1)
    got = py_batches(ld, [0])
    ids = [r[0] for b in got for r in b[1]]
    assert ids == list(range(len(w))), ids
    for b in got:
        for k, r in enumerate(b[1]):
            x, y = w.get(r[0], flip=True)
            assert same_bits(b[2][k], x.ravel()) and same_bits(b[3][k], y.ravel()), \
                f"window {r[0]} differs from vbpack.Windows"
    windows += len(ids)
    return windows


def check_parts(dump, gray, tmp):
    for batch, parts in ((4, 3), (2, 3), (5, 2)):
        o = dict(batch=batch, seq=3, flip=0.5, seed=11, threads=1, shift=2)
        whole = py_batches(vbpack.Loader(gray, **o), [0, 1])
        slices = [py_batches(vbpack.Loader(gray, part=p, parts=parts, **o), [0, 1])
                  for p in range(parts)]
        for k, b in enumerate(whole):
            got = [s[k] for s in slices]
            assert [g[0][4] for g in got] == [p * b[0][2] // parts for p in range(parts)]
            assert all(g[0][3] == b[0][2] for g in got)  # batch_n: the whole batch's size
            assert sum(len(g[1]) for g in got) == b[0][2]
            assert [r for g in got for r in g[1]] == b[1]
            assert same_bits(np.concatenate([g[2] for g in got]), b[2])
            assert same_bits(np.concatenate([g[3] for g in got]), b[3])
        if batch < parts:
            assert any(g[0][2] == 0 for s in slices for g in s), "expected an empty slice"
        assert_equal(c_batches(dump, gray, tmp, epochs="0,1", part=1, parts=parts, **o), slices[1],
                     f"part 1 of {parts}")


def read(t):
    """The bytes of tensor t through libc's memcpy, which ASan checks (torch's own reads are not
    instrumented): reading freed memory is a heap-use-after-free report in the sanitizer build."""
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


def check_lifetimes(gray):
    ld = vbpack.torch.Loader(gray, batch=2, threads=2, seed=1)
    handle = weakref.ref(ld._h)
    it = iter(ld)
    x, y = next(it)
    kept_x, kept_y = x.clone(), y.clone()
    ld.close()                      # a batch is alive: the C loader stays until it goes
    gc.collect()
    assert handle() is not None
    assert read(x) == read(kept_x) and read(y) == read(kept_y)
    for fn, words in ((lambda: next(it), "closed"), (lambda: iter(ld), "closed")):
        try:
            fn()
            raise AssertionError("a closed loader served a batch")
        except ValueError as e:
            assert words in str(e) and gray in str(e), str(e)
    del x, y, it
    gc.collect()
    assert handle() is None, "the C loader outlived its last batch"

    # the loader object dropped while a batch (a view of a view) is alive
    ld = vbpack.torch.Loader(gray, batch=2, threads=2, seed=1)
    handle = weakref.ref(ld._h)
    x = next(iter(ld))[0][1:, 1]
    kept = x.clone()
    del ld
    gc.collect()
    assert handle() is not None and read(x.contiguous()) == read(kept)
    del x
    gc.collect()
    assert handle() is None

    # views are refilled by later batches; copies are not
    views = vbpack.Loader(gray, batch=2, threads=2, seed=1, flip=0.5)
    copies = vbpack.Loader(gray, batch=2, threads=2, seed=1, flip=0.5, copy=True)
    kept = [(x, y) for x, y in copies]
    for k, (x, y) in enumerate(views):
        assert np.array_equal(x, kept[k][0]) and np.array_equal(y, kept[k][1])
        assert x.base is not None and kept[k][0].base is None
    assert len({x.__array_interface__["data"][0] for x, _ in kept}) == len(kept)

    # an ended epoch stays ended (the next one is being assembled already)
    it = iter(views)
    assert len(list(it)) == len(views)
    for _ in range(2):
        try:
            next(it)
            raise AssertionError("an ended epoch served a batch")
        except StopIteration:
            pass
    # an iterator replaced by a newer one
    it = iter(views)
    next(it)
    iter(views)
    try:
        next(it)
        raise AssertionError("an old iterator kept serving")
    except RuntimeError as e:
        assert "superseded" in str(e), str(e)

    try:
        pickle.dumps(views)
        raise AssertionError("a Loader pickled")
    except TypeError as e:
        assert "cannot be pickled" in str(e), str(e)

    # a forked child: refused, and dropping the loader there neither closes nor hangs
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            next(iter(views))
        except RuntimeError as e:
            code = 0 if "fork" in str(e) else 2
        del views
        gc.collect()
        os._exit(code)
    deadline = time.time() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.time() > deadline:
            os.kill(pid, 9)
            raise AssertionError("the forked child hung")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0, f"forked child: {status}"
    x, _ = next(iter(views))  # the parent's loader is untouched
    assert x.shape[0] == 2


def refused(fn, exc, words):
    try:
        fn()
    except exc as e:
        assert all(w in str(e) for w in words), f"{words} not in: {e}"
        return
    raise AssertionError(f"accepted, expected {exc.__name__} with {words}")


def check_errors(gray, tmp):
    L = vbpack.torch.Loader
    missing = os.path.join(tmp, "missing.vbp")
    refused(lambda: L(missing), OSError, [missing, "cannot open"])
    refused(lambda: L(gray, grayscale=False), vbpack.PackError, [gray, "gray (1 channel)", "3 (RGB)"])
    refused(lambda: L(gray, seq=12, split="val"), vbpack.PackError, [gray, "val", "12 frames"])
    refused(lambda: L(gray, flip=2), ValueError, [gray, "flip probability"])
    refused(lambda: L(gray, batch=-1), ValueError, ["batch", "-1"])
    refused(lambda: L(gray, split="dev"), ValueError, ["split", "dev"])
    refused(lambda: L(gray, order="random"), ValueError, ["order", "random"])
    refused(lambda: L(gray, part=3, parts=3), ValueError, [gray, "part 3 of 3"])
    refused(lambda: L(gray).set_epoch(0, batch=10 ** 6), ValueError, ["batch", "outside"])
    refused(lambda: L(gray, reserve_bytes=-1), ValueError, ["reserve_bytes", "-1"])
    # memory: a preload that does not fit in memory_limit, or in what reserve_bytes leaves of
    # the measured limit, reads from disk and says why
    for kv in (dict(memory_limit=12345), dict(reserve_bytes=1 << 62)):
        with L(gray, mode="preload", **kv) as ld:
            assert ld.mode == "disk" and "preload" in ld.note, (kv, ld.mode, ld.note)
            assert ld.memory_limit == kv.get("memory_limit", ld.memory_limit) < 1 << 62, kv
    with L(gray, mode="preload") as ld:
        assert ld.mode == "preload" and 0 < ld.memory_limit < 1 << 62, (ld.mode, ld.note)
    # a library that is not there: one error naming where it looked, at Loader(), not at import
    code = ("import vbpack.torch as t\ntry:\n t.Loader(%r)\nexcept OSError as e:\n print(e)"
            % gray)
    env = dict(CHILD_ENV, VBPACK_LIBRARY=os.path.join(tmp, "nowhere", "libvbpack.so"),
               PYTHONPATH=os.path.join(os.environ.get("VBP_SOURCE_DIR", "."), "python"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "VBPACK_LIBRARY" in out.stdout and "nowhere" in out.stdout \
        and "meson install" in out.stdout, out.stdout + out.stderr


def main():
    vbsample, vbpack_exe, dump = sys.argv[1:4]
    tmp = tempfile.mkdtemp()
    try:
        n = check_layout(dump)
        print(f"{n} struct offsets and sizes agree with the C compiler's")
        gray, rgb = small_packs(vbsample, vbpack_exe, tmp, 11)
        print(f"library: {vbpack.library_path()}")
        n = check_bitwise(dump, gray, rgb, tmp)
        print(f"{n} windows served by vbpack.Loader equal the C loader's bit for bit")
        check_parts(dump, gray, tmp)
        print("part/parts slices concatenate to the whole batches")
        check_lifetimes(gray)
        print("lifetimes: batches outlive close(); copies outlive later batches; fork refused")
        check_errors(gray, tmp)
        print("ok")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
