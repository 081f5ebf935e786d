"""vbpack.loader - the C loader (include/vbp_loader.h) from Python: whole batches, no copy.

    from vbpack import Loader                       # numpy arrays; vbpack.torch.Loader: tensors
    ld = Loader("data.vbp", batch=8, seq=3, flip=0.5, seed=1, threads=1)
    for epoch in range(30):
        ld.set_epoch(epoch)                         # optional: iter() goes on to the next epoch
        for x, y in ld:                             # x (N, seq*C, H, W), y (N, seq, H, W) float32
            ...

Batches are assembled by libvbpack's worker threads (vbp_loader_next) into buffers the
loader owns, ahead of use, and handed out as arrays over those buffers: no copy, no worker
processes, no collate.  A batch is valid until the next one is requested: the buffer is
refilled then.  To keep a batch longer, copy it (copy=True does it for every batch).
Memory is never freed under a live array: close() (or dropping the loader) releases the
C loader at once when no batch array is alive, else when the last one is garbage.
Everything else (windows, order, flips, augmentations, part/parts) is the C loader's,
bit for bit: docs/python.md and docs/loading.md.
"""
import ctypes
import os
import threading

import numpy as np

from . import _lib
from .pack import SPLITS, Pack, PackError

# vbp_errcode -> Python exception (others: PackError)
_ERRORS = {-1: OSError, -2: MemoryError, -3: ValueError}

SAMPLE_DTYPE = np.dtype({
    "names": ["sample", "clip", "first_frame", "clip_frame", "flip", "gain", "bias", "dx", "dy"],
    "formats": ["<u8", "<u8", "<u8", "<u8", "<i4", "<f4", "<f4", "<i4", "<i4"],
    "offsets": [_lib.Sample.sample.offset, _lib.Sample.clip.offset, _lib.Sample.first_frame.offset,
                _lib.Sample.clip_frame.offset, _lib.Sample.flip.offset,
                _lib.Sample.aug.offset + _lib.Augment.gain.offset,
                _lib.Sample.aug.offset + _lib.Augment.bias.offset,
                _lib.Sample.aug.offset + _lib.Augment.dx.offset,
                _lib.Sample.aug.offset + _lib.Augment.dy.offset],
    "itemsize": ctypes.sizeof(_lib.Sample)})


def _fail(rc, err):
    raise _ERRORS.get(rc, PackError)(_lib.message(err))


class _Handle:
    """Owns one vbp_loader: closed when the last reference goes (the Loader's and each batch
    array's), never in a forked child (the workers live in the parent only)."""

    def __init__(self, lib, ptr):
        self.lib, self.ptr, self.pid = lib, ptr, os.getpid()

    def __del__(self):
        if self.ptr and os.getpid() == self.pid:
            self.lib.vbp_loader_close(self.ptr)
        self.ptr = None


class _Buffer:
    """A batch buffer of the C loader seen by numpy (the arrays' base): keeps the loader alive."""

    def __init__(self, handle, addr, shape):
        self.handle = handle
        self.__array_interface__ = {"data": (addr, False), "shape": shape, "typestr": "<f4",
                                    "version": 3}


class Loader:
    """Batches of windows of `pack` (a path or a vbpack.Pack) from libvbpack's loader.

    batch, seq, stride: samples per batch, frames per window, step between window starts.
    split: "train", "val", "test", "all" or a sequence of them.
    shuffle: True = the C loader's auto order (a seeded shuffle, or the locality order when
      the split's data exceeds memory), False = sequential; order= names one of "auto",
      "shuffle", "sequential", "locality" and wins over shuffle.
    flip: probability of a horizontal flip per sample; brightness, contrast (0..1) and
      shift (pixels): augmentations; target: None (the loader's: soft), "soft" or "binary"
      with target_cut (1..255, 0 = 64).  All drawn from (seed, epoch, position) as vbtrain.
    threads, prefetch: C worker threads assembling ahead, batches ahead (0 = 2); threads=0
      assembles inside next().  mode: "disk" or "preload".  memory_limit: bytes the pack may
      use; 0 = measured (MemAvailable or the cgroup's limit) minus reserve_bytes (what the
      caller needs besides, e.g. a model it allocates later) and the loader's own buffers.
    drop_last: only full batches.  part, parts: this process's slice of every batch
      (DistributedDataParallel: part=rank, parts=world size; batch is the global batch).
    grayscale: True / False insists on gray / RGB frames, None takes the pack's.
    background: True adds each clip's background frame (the median of its frames, TrackNetV3's
      extra input) after the window's frames: x is batch, (seq + 1) * C, H, W.
    copy: hand out copies (valid forever) instead of views of the loader's buffers.
    """

    _wrap = staticmethod(lambda a: a)   # vbpack.torch.Loader: torch.from_numpy
    _copy = staticmethod(np.copy)

    def __init__(self, pack, batch=4, seq=3, split="train", shuffle=True, order=None, flip=0.0,
                 brightness=0.0, contrast=0.0, shift=0, target=None, target_cut=0, seed=0,
                 threads=1, prefetch=0, drop_last=False, mode="disk", part=0, parts=1, stride=1,
                 grayscale=None, memory_limit=0, reserve_bytes=0, copy=False, background=False):
        lib = _lib.library()
        path = pack.path if isinstance(pack, Pack) else os.fspath(pack)
        names = SPLITS if split == "all" else (split,) if isinstance(split, str) else tuple(split)
        if not names or any(s not in SPLITS for s in names):
            raise ValueError(f"split must be one of {', '.join(SPLITS)} or 'all', not {split!r}")
        ints = dict(batch=batch, seq=seq, stride=stride, shift=shift, target_cut=target_cut,
                    threads=threads, prefetch=prefetch, part=part, parts=parts)
        wide = dict(seed=seed, memory_limit=memory_limit, reserve_bytes=reserve_bytes)
        for name, v in dict(ints, **wide).items():
            bits = 64 if name in wide else 32
            if not isinstance(v, (int, np.integer)) or not 0 <= v < 1 << bits:
                raise ValueError(f"{name} must be an integer in [0, 2^{bits}), not {v!r}")
        buf = _lib.OptsBuffer()
        lib.vbp_loader_opts_default(ctypes.byref(buf))
        o = buf.o
        for name, v in ints.items():
            setattr(o, name, int(v))
        o.seed, o.memory_limit, o.reserve_bytes = int(seed), int(memory_limit), int(reserve_bytes)
        o.splits = sum(1 << SPLITS.index(s) for s in set(names))
        o.channels = 0 if grayscale is None else 1 if grayscale else 3
        o.order = _lib.parse("order", order if order is not None else
                             "auto" if shuffle else "sequential")
        o.mode = _lib.parse("load_mode", mode)
        o.target = _lib.parse("target", target) if target is not None else 0
        o.flip_prob, o.brightness, o.contrast = float(flip), float(brightness), float(contrast)
        o.drop_last = int(bool(drop_last))
        o.background = int(bool(background))
        ptr, err = ctypes.c_void_p(), _lib.Error()
        rc = lib.vbp_loader_open_path(os.fsencode(path), ctypes.byref(buf), ctypes.byref(ptr),
                                      ctypes.byref(err))
        if rc:
            _fail(rc, err)
        self._h = _Handle(lib, ptr.value)
        sh = lib.vbp_loader_get_shape(ptr).contents
        self.path, self.copy = path, bool(copy)
        self.batch_size, self.seq, self.channels = sh.batch, sh.seq, sh.channels
        self.height, self.width = sh.height, sh.width
        self.samples, self.batches = sh.samples, sh.batches  # windows; batches per epoch
        self.order = lib.vbp_order_name(sh.order).decode()   # the order in effect
        self.mode = "preload" if sh.mode == 1 else "disk"    # preload falls back to disk (note)
        self.memory_limit = sh.memory_limit                  # bytes the pack may use, in effect
        self.part, self.parts = int(part), int(parts)
        self._x_shape = (sh.batch, (sh.seq + sh.background) * sh.channels, sh.height, sh.width)
        self._y_shape = (sh.batch, sh.seq, sh.height, sh.width)
        self._lib, self._lock, self._err = lib, threading.Lock(), err
        self._batch = _lib.Batch()
        self._batch_ref, self._err_ref = ctypes.byref(self._batch), ctypes.byref(err)
        self._arrays = {}        # buffer address -> (x, y) over the whole slot
        self._epoch, self._start = 0, 0
        self._primed = (0, 0)    # open began epoch 0 at batch 0; nothing served yet
        self._iteration = 0
        self._current = None     # the last batch served (for last_samples)

    # ------------------------------------------------------------------ epochs

    @property
    def epoch(self):
        """The epoch the next iter() serves."""
        return self._epoch

    def set_epoch(self, epoch, batch=0):
        """Make the next iter() serve epoch `epoch` from batch `batch` (resuming a run: the
        batches an uninterrupted run would serve there).  Without it each iter() serves the
        epoch after the previous one, from 0."""
        if not 0 <= batch <= self.batches:
            raise ValueError(f"batch {batch} is outside the epoch ({self.batches} batches)")
        self._epoch, self._start = int(epoch), int(batch)

    def __len__(self):
        """Batches per epoch (drop_last respected); each part gets a slice of every one."""
        return self.batches

    def __iter__(self):
        h = self._handle()
        e, b = self._epoch, self._start
        if self._primed != (e, b):
            with self._lock:
                rc = self._lib.vbp_loader_begin_epoch(h.ptr, e, b, self._err_ref)
            if rc:
                _fail(rc, self._err)
        self._primed = None
        self._epoch, self._start = e + 1, 0
        self._iteration += 1
        return _Epoch(self, self._iteration)

    def _handle(self):
        h = self._h
        if h is None:
            raise ValueError(f"{self.path}: the loader is closed")
        if h.pid != os.getpid():
            raise RuntimeError(f"{self.path}: a vbpack Loader does not survive fork() (its "
                               f"threads stay in the parent): open one in each process")
        return h

    def _next(self, iteration):
        h = self._handle()
        if iteration != self._iteration:
            raise RuntimeError("this epoch's iterator was superseded: iter(loader) began another")
        with self._lock:
            rc = self._lib.vbp_loader_next(h.ptr, self._batch_ref, self._err_ref)
            if rc == 0:  # the workers start on the next epoch now, while the caller evaluates
                self._current, self._primed = None, (self._epoch, self._start)
                rc = self._lib.vbp_loader_begin_epoch(h.ptr, self._epoch, self._start,
                                                      self._err_ref)
                if rc:
                    self._primed = None
                    _fail(rc, self._err)
                raise StopIteration
        if rc < 0:
            self._current = None
            _fail(rc, self._err)
        b = self._batch
        arrays = self._arrays.get(b.x)
        if arrays is None:
            arrays = self._arrays[b.x] = (self._wrap(np.asarray(_Buffer(h, b.x, self._x_shape))),
                                          self._wrap(np.asarray(_Buffer(h, b.y, self._y_shape))))
        self._current = b
        x, y = arrays
        if b.n != self.batch_size:
            x, y = x[:b.n], y[:b.n]
        if self.copy:
            x, y = self._copy(x), self._copy(y)
        return x, y

    # ------------------------------------------------------------------ facts

    @property
    def last_samples(self):
        """Where each sample of the last batch served comes from (a copy, SAMPLE_DTYPE):
        sample id, clip, first_frame, clip_frame, flip, gain, bias, dx, dy; its `index` and
        `first` (position of this part's slice in the whole batch) via last_batch."""
        b = self._current
        if b is None or self._h is None:
            return np.zeros(0, SAMPLE_DTYPE)
        addr = ctypes.cast(b.samples, ctypes.c_void_p).value
        raw = (ctypes.c_uint8 * (b.n * SAMPLE_DTYPE.itemsize)).from_address(addr)
        return np.frombuffer(raw, SAMPLE_DTYPE).copy()

    @property
    def last_batch(self):
        """(epoch, index, first, batch_n) of the last batch served, None before one."""
        b = self._current
        return None if b is None else (b.epoch, b.index, b.first, b.batch_n)

    def epoch_order(self, epoch):
        """Sample ids of `epoch` in the order they are served (uint64, one per window)."""
        out = np.empty(self.samples, np.uint64)
        rc = self._lib.vbp_loader_epoch_order(self._handle().ptr, int(epoch),
                                              out.ctypes.data, self._err_ref)
        if rc:
            _fail(rc, self._err)
        return out

    @property
    def wait_seconds(self):
        """Seconds next() has blocked waiting for the C workers since open."""
        return self._lib.vbp_loader_wait_seconds(self._handle().ptr)

    @property
    def note(self):
        """One line about the mode ("preload: 31.5 MiB populated ... and locked"), or ""."""
        return self._lib.vbp_loader_note(self._handle().ptr).decode(errors="replace")

    # ------------------------------------------------------------------ lifetime

    def close(self):
        """Stop serving.  The C loader (threads, buffers, the pack's mapping) is released now,
        or when the last batch array still referenced goes."""
        self._h, self._arrays, self._current = None, {}, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        raise TypeError("a vbpack Loader cannot be pickled (it owns C threads): create it in the "
                        "process that iterates it, not inside a DataLoader worker")

    def __repr__(self):
        return (f"{type(self).__name__}({self.path!r}, batch={self.batch_size}, seq={self.seq}, "
                f"{self.samples} windows, {self.batches} batches, order={self.order}, "
                f"mode={self.mode}{', closed' if self._h is None else ''})")


class _Epoch:
    """Iterator over one epoch of a Loader (the newest iter() only)."""

    __slots__ = ("_loader", "_iteration")

    def __init__(self, loader, iteration):
        self._loader, self._iteration = loader, iteration

    def __iter__(self):
        return self

    def __next__(self):
        if self._loader is None:
            raise StopIteration
        try:
            return self._loader._next(self._iteration)
        except StopIteration:
            self._loader = None  # an ended epoch stays ended
            raise
