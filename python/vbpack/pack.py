"""vbpack.pack - the numpy-only reader of vbpack 1.x files (formats/vbpack.md).

A second, independent implementation of the format, for Python trainers and
for checking the C library. It maps the file and checks the structure the
spec's "Validation" section lists (magic, version, sizes, geometry, sections,
clip partition, every record's codec, size, alignment and bounds) but NOT the
XXH3-64 checksums: Debian's python has no xxhash module and XXH3 is not
reimplemented here. Run `vbdump verify PACK` to check checksums.

    with Pack("train.vbp") as p:
        p.height, p.width, p.channels      # geometry
        p.clips                            # list of Clip (.source: Source or None, format 1.1)
        p.frame(f)                         # uint8 (C, H, W); raw records are views of the map
        p.heatmap(f)                       # uint8 (H, W)
        p.label(f)                         # (visibility, x, y); visibility 255 = no label
        p.window(clip, start, seq)         # uint8 (seq*C, H, W): frames start..start+seq-1
        p.find_clip("matchA/rally2")       # clip index by name (vbpack.names: the tools' rule)
        p.resolve("matchA")                # indices of the clips a clip or match name picks

Clip names are str; bytes of the file that are not UTF-8 are kept as surrogate escapes (PEP 383),
and messages quote names escaped (vbpack.names.escape).
lz4 records need the `lz4` module (Debian: python3-lz4); without it reading
one raises PackError saying so.  A Pack pickles as its path (a DataLoader
worker started with spawn maps the file again; with fork it inherits the map):
either way every process reads the one copy in the page cache.
"""
import mmap
import struct
from collections import namedtuple

import numpy as np

from . import names

MAGIC = b"\x89VBPACK\n"
MAJOR, MINOR = 1, 1
HEADER = struct.Struct("<8sHHIIIIIII QQQ IIII QQQ QQQ QQQ 96x Q")
CLIP = np.dtype([("name", "S64"), ("group", "S64"), ("split", "<u4"), ("fps_num", "<u2"),
                 ("fps_den", "<u2"), ("first", "<u8"), ("count", "<u8")])
REC = np.dtype([("offset", "<u8"), ("stored", "<u8"), ("raw", "<u8"), ("checksum", "<u8"),
                ("codec", "<u4"), ("_r", "<u4")])
ENTRY = np.dtype([("frame", REC), ("heatmap", REC), ("vis", "u1"), ("_r1", "V3"),
                  ("x", "<f4"), ("y", "<f4"), ("src_w", "<u2"), ("src_h", "<u2")])
SPLITS = ("train", "val", "test")
# Where a clip's frames were scaled from (1.1): the video's size and frame rate (0/0: unknown).
Source = namedtuple("Source", "width height fps_num fps_den")
Clip = namedtuple("Clip", "name group split first_frame frame_count source")


class PackError(Exception):
    pass


class Pack:
    def __init__(self, path):
        self.path = str(path)
        with open(self.path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if f.seek(0, 2) else b""
        try:
            self._parse()
        except Exception:
            self.close()
            raise

    def _fail(self, msg):
        raise PackError(f"{self.path}: {msg}")

    def _parse(self):
        m, size = self._map, len(self._map)
        if m[:8] != MAGIC[:min(size, 8)]:
            self._fail("not a vbpack file (bad magic)")
        if size < HEADER.size:
            self._fail(f"truncated: {size} bytes, shorter than the header")
        h = HEADER.unpack_from(m, 0)
        (_, major, minor, hsize, self.flags, H, W, C, HC, self.codec, nclips, nframes, fsize,
         csize, fesize, ralign, lalign) = h[:17]
        secs = [h[17 + 3 * i:20 + 3 * i] for i in range(3)]
        if major != MAJOR:
            self._fail(f"format version {major}.{minor}; this reader reads {MAJOR}.x")
        if (hsize, csize, fesize, ralign, lalign) != (256, CLIP.itemsize, ENTRY.itemsize, 4096, 8):
            self._fail("unexpected header, entry or alignment sizes")
        if size != fsize:
            self._fail(f"{'truncated: ' if size < fsize else ''}file is {size} bytes, header says {fsize}")
        if not (1 <= H <= 16384 and 1 <= W <= 16384 and C in (1, 3) and HC == 1):
            self._fail(f"bad geometry {W}x{H}, {C}/{HC} channels")
        if self.codec not in (0, 1) or not (1 <= nclips <= nframes < 2**32):
            self._fail("bad default codec or counts")
        for i, (off, length, _) in enumerate(secs):
            if off < 256 or off > fsize or length > fsize - off:
                self._fail(f"section {i} not inside the file")
            for off2, len2, _ in secs[:i]:
                if off < off2 + len2 and off2 < off + length:
                    self._fail(f"section {i} overlaps another")
        if secs[0][1] != nclips * CLIP.itemsize or secs[1][1] != nframes * ENTRY.itemsize:
            self._fail("section lengths disagree with the counts")
        self.height, self.width, self.channels = H, W, C
        self.version = (major, minor)
        self.fingerprint = h[-1]
        clips = np.frombuffer(m, CLIP, nclips, secs[0][0])
        self.index = np.frombuffer(m, ENTRY, nframes, secs[1][0])
        self.clips, nxt = [], 0
        for i, c in enumerate(clips):
            raw = bytes(m[secs[0][0] + i * CLIP.itemsize:][:128])
            if b"\0" not in raw[:64] or b"\0" not in raw[64:128] or not c["name"]:
                self._fail(f"clip table entry {i}: name not NUL-terminated or empty")
            if c["split"] > 2 or c["first"] != nxt or not 1 <= c["count"] <= nframes - nxt:
                self._fail(f"clip table entry {i}: bad split or frame range")
            name, group = (c[k].decode("utf-8", "surrogateescape") for k in ("name", "group"))
            if "/" in name or "/" in group:
                self._fail(f"clip table entry {i}: '/' in a clip or group name")
            self.clips.append(Clip(name, group, SPLITS[c["split"]], int(c["first"]), int(c["count"]),
                                   self._source(i, c, nxt)))
            nxt += int(c["count"])
        if nxt != nframes:
            self._fail(f"clips cover {nxt} of {nframes} frames")
        dbeg, dend = secs[2][0], secs[2][0] + secs[2][1]
        for kind, raw in (("frame", C * H * W), ("heatmap", H * W)):
            r = self.index[kind]
            lz4 = r["codec"] == 1
            bound = raw + raw // 255 + 16  # LZ4_compressBound
            bad = ((r["codec"] > 1) | (r["raw"] != raw)
                   | (~lz4 & ((r["stored"] != raw) | (r["offset"] % 4096 != 0)))
                   | (lz4 & ((r["stored"] < 1) | (r["stored"] > bound) | (r["stored"] * 255 < raw)
                            | (r["offset"] % 8 != 0)))
                   | (r["offset"] < dbeg) | (r["offset"] > dend) | (r["stored"] > dend - np.minimum(r["offset"], dend)))
            if bad.any():
                self._fail(f"frame index entry {int(np.argmax(bad))}: bad {kind} record")
        if not np.isin(self.index["vis"], (0, 1, 255)).all():
            self._fail("bad visibility in the frame index")

    def _source(self, i, c, first):
        """Clip i's Source, or None (1.0 packs, clips from PNGs); checks the 1.1 rules."""
        if self.version[1] < 1:
            return None
        fps = int(c["fps_num"]), int(c["fps_den"])
        if (fps[0] == 0) != (fps[1] == 0):
            self._fail(f"clip table entry {i}: source frame rate {fps[0]}/{fps[1]}")
        e = self.index[first:first + int(c["count"])]
        w, h = int(e["src_w"][0]), int(e["src_h"][0])
        if (w == 0) != (h == 0) or (e["src_w"] != w).any() or (e["src_h"] != h).any():
            self._fail(f"clip table entry {i}: frames of several source sizes")
        return Source(w, h, *fps) if w else None

    def _record(self, f, kind, shape):
        r = self.index[f][kind]
        off, n = int(r["offset"]), int(r["stored"])
        if r["codec"] == 0:
            return np.frombuffer(self._map, np.uint8, n, off).reshape(shape)
        try:
            import lz4.block
        except ImportError:
            self._fail("lz4 record but the lz4 module is missing (Debian: apt install python3-lz4)")
        try:
            out = lz4.block.decompress(self._map[off:off + n], uncompressed_size=int(r["raw"]))
        except Exception as e:
            self._fail(f"frame {f}: {kind} does not decode: {e}")
        if len(out) != int(r["raw"]):
            self._fail(f"frame {f}: {kind} decodes to {len(out)} bytes")
        return np.frombuffer(out, np.uint8).reshape(shape)

    def frame(self, f):
        return self._record(f, "frame", (self.channels, self.height, self.width))

    def heatmap(self, f):
        return self._record(f, "heatmap", (self.height, self.width))

    def label(self, f):
        e = self.index[f]
        return int(e["vis"]), float(e["x"]), float(e["y"])

    def resolve(self, name):
        """Indices of the clips `name` picks: a clip, or every clip of a match (vbpack.names;
        ValueError naming the candidates when it fits none or several)."""
        return names.resolve(self.clips, name)

    def find_clip(self, name):
        """Index of the one clip `name` names (as vbdump's CLIP: a match must have one clip)."""
        return names.resolve(self.clips, name, one_clip=True)[0]

    def window(self, clip, start, seq):
        """Frames start..start+seq-1 of clip (an index, or a name as find_clip takes)."""
        c = self.clips[self.find_clip(clip) if isinstance(clip, str) else clip]
        if start < 0 or start + seq > c.frame_count:
            raise IndexError(f"window {start}+{seq} outside clip "
                             f"'{names.escape(names.qualified(c))}' ({c.frame_count} frames)")
        return np.concatenate([self.frame(c.first_frame + start + i) for i in range(seq)])

    def __len__(self):
        return len(self.index)

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])

    def close(self):
        self.index = None
        if isinstance(self._map, mmap.mmap):
            try:
                self._map.close()
            except BufferError:  # views handed out still reference the map
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
