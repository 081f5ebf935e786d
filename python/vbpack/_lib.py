"""vbpack._lib - libvbpack (the C library) through ctypes, for vbpack.Loader.

Where the library is looked for, in this order (library() says which one it took):
  1. the file named by the environment variable VBPACK_LIBRARY (a build tree:
     VBPACK_LIBRARY=build/src/libvbpack.so); if it does not load, that is the error;
  2. next to this package as `meson install` put them: vbpack/_install.py, written at
     install time, holds the library's path relative to the package directory;
  3. libvbpack.so.0 on the system's library path (ld.so.cache, LD_LIBRARY_PATH),
     where `meson install` to /usr or /usr/local puts it (run ldconfig after).
The structs below mirror include/vbp_loader.h and vbp_error.h field for field;
tests/test_python_loader.py compares their offsets with the C compiler's.
"""
import ctypes
import os
from ctypes import POINTER, c_char, c_char_p, c_double, c_float, c_int, c_int32, c_size_t
from ctypes import c_uint32, c_uint64, c_void_p

SONAME = "libvbpack.so.0"


class Error(ctypes.Structure):
    _fields_ = [("code", c_int), ("detail", c_char * 512)]


class Opts(ctypes.Structure):
    _fields_ = [("seq", c_uint32), ("stride", c_uint32), ("channels", c_uint32),
                ("height", c_uint32), ("width", c_uint32), ("splits", c_uint32),
                ("mode", c_int), ("order", c_int), ("seed", c_uint64), ("flip_prob", c_float),
                ("target", c_int), ("target_cut", c_uint32), ("brightness", c_float),
                ("contrast", c_float), ("shift", c_uint32), ("batch", c_uint32),
                ("drop_last", c_int), ("threads", c_uint32), ("prefetch", c_uint32),
                ("memory_limit", c_uint64), ("block_samples", c_uint32),
                ("open_blocks", c_uint32), ("part", c_uint32), ("parts", c_uint32),
                ("reserve_bytes", c_uint64), ("limit", c_void_p), ("background", c_uint32)]


class OptsBuffer(ctypes.Structure):
    """Opts followed by room for fields a newer library adds at the end of vbp_loader_opts:
    vbp_loader_opts_default fills them and vbp_loader_open reads them back unchanged."""
    _fields_ = [("o", Opts), ("_newer_fields", ctypes.c_uint8 * 512)]


class Shape(ctypes.Structure):
    _fields_ = [("seq", c_uint32), ("channels", c_uint32), ("height", c_uint32),
                ("width", c_uint32), ("batch", c_uint32), ("samples", c_uint64),
                ("batches", c_uint64), ("x_floats", c_size_t), ("y_floats", c_size_t),
                ("order", c_int), ("mode", c_int), ("data_bytes", c_uint64),
                ("memory_limit", c_uint64), ("memory_source", c_int), ("background", c_uint32)]


class Augment(ctypes.Structure):
    _fields_ = [("gain", c_float), ("bias", c_float), ("dx", c_int32), ("dy", c_int32)]


class Sample(ctypes.Structure):
    _fields_ = [("sample", c_uint64), ("clip", c_uint64), ("first_frame", c_uint64),
                ("clip_frame", c_uint64), ("flip", c_int), ("aug", Augment)]


class Batch(ctypes.Structure):
    _fields_ = [("epoch", c_uint64), ("index", c_uint64), ("n", c_size_t),
                ("batch_n", c_size_t), ("first", c_size_t), ("x", c_void_p), ("y", c_void_p),
                ("samples", POINTER(Sample))]


_SIGNATURES = {
    "vbp_loader_opts_default": (None, [c_void_p]),
    "vbp_loader_open_path": (c_int, [c_char_p, c_void_p, POINTER(c_void_p), POINTER(Error)]),
    "vbp_loader_close": (None, [c_void_p]),
    "vbp_loader_get_shape": (POINTER(Shape), [c_void_p]),
    "vbp_loader_begin_epoch": (c_int, [c_void_p, c_uint64, c_uint64, POINTER(Error)]),
    "vbp_loader_next": (c_int, [c_void_p, POINTER(Batch), POINTER(Error)]),
    "vbp_loader_epoch_order": (c_int, [c_void_p, c_uint64, c_void_p, POINTER(Error)]),
    "vbp_loader_wait_seconds": (c_double, [c_void_p]),
    "vbp_loader_note": (c_char_p, [c_void_p]),
    "vbp_order_parse": (c_int, [c_char_p, POINTER(c_int)]),
    "vbp_load_mode_parse": (c_int, [c_char_p, POINTER(c_int)]),
    "vbp_target_parse": (c_int, [c_char_p, POINTER(c_int)]),
    "vbp_order_name": (c_char_p, [c_int]),
    "vbp_error_message": (c_char_p, [POINTER(Error)]),
}

_lib = None
_path = None


def _candidates():
    """(description, path or name) in the order library() tries them."""
    env = os.environ.get("VBPACK_LIBRARY")
    if env:
        return [("VBPACK_LIBRARY", env)]
    out = []
    try:
        from . import _install
        here = os.path.dirname(os.path.abspath(__file__))
        out.append(("installed next to the package", os.path.normpath(os.path.join(here, _install.LIBRARY))))
    except ImportError:
        pass
    out.append(("the system's library path", SONAME))
    return out


def library():
    """The loaded libvbpack (ctypes.CDLL, which releases the GIL during each call).
    Raises OSError naming every place it looked."""
    global _lib, _path
    if _lib is not None:
        return _lib
    tried = []
    for where, name in _candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{where}: {e}")
            continue
        missing = [f for f in _SIGNATURES if not hasattr(lib, f)]
        if missing:
            tried.append(f"{where}: {name} lacks {', '.join(missing)} (an older libvbpack)")
            continue
        for fname, (res, args) in _SIGNATURES.items():
            fn = getattr(lib, fname)
            fn.restype, fn.argtypes = res, args
        _lib, _path = lib, name
        return lib
    raise OSError("vbpack: cannot load the C library libvbpack, which vbpack.Loader runs on; "
                  "tried " + "; ".join(tried) + ". Install it with `meson install -C build` "
                  "(then `ldconfig`), or set VBPACK_LIBRARY=/path/to/build/src/libvbpack.so")


def library_path():
    """Path or name the library was loaded from (loads it first)."""
    library()
    return _path


def message(err):
    return library().vbp_error_message(ctypes.byref(err)).decode(errors="replace")


def parse(kind, name):
    """C enum value of `name` through vbp_<kind>_parse (kind: order, load_mode, target)."""
    v = c_int()
    if getattr(library(), "vbp_" + kind + "_parse")(str(name).encode(), ctypes.byref(v)):
        raise ValueError(f"unknown {kind.replace('load_', '')} {name!r}")
    return v.value
