"""vbpack.windows - the C loader's samples and their float32 conversion, in numpy.

Exactly include/vbp_loader.h: a sample is a window of `seq` consecutive
frames of one clip (never across clips, no padding: a clip of F frames has
(F - seq) // stride + 1 windows, none when F < seq), numbered in pack order
over the clips of the selected splits.  x is (seq*C, H, W): frame 0's C
planes, then frame 1's ...; y is (seq, H, W), the heatmaps of the same
frames; every value is float32(v) / 255 of the stored uint8 (one correctly
rounded division, as the C loader), mirrored left-right when flip is set.
"""
import os

import numpy as np

from .pack import SPLITS, Pack, PackError

_255 = np.float32(255)


def _channel_word(c):
    return "gray (1 channel)" if c == 1 else "RGB (3 channels)"


class Windows:
    """Samples of `pack` (a Pack or a path) for splits `split` ("train", "val",
    "test", "all" or a sequence of them).  channels: 1 or 3 to insist on the
    pack's frame channels (PackError otherwise, as the C loader), None = any."""

    def __init__(self, pack, seq=3, split="train", stride=1, channels=None):
        self.pack = pack if isinstance(pack, Pack) else Pack(os.fspath(pack))
        p = self.pack
        names = SPLITS if split == "all" else (split,) if isinstance(split, str) else tuple(split)
        if not names or any(s not in SPLITS for s in names):
            raise ValueError(f"split must be one of {', '.join(SPLITS)} or 'all', not {split!r}")
        if int(seq) < 1 or int(stride) < 1:
            raise ValueError("seq and stride must be >= 1")
        if channels is not None and channels != p.channels:
            raise PackError(f"{p.path}: pack frames are {_channel_word(p.channels)}, the loader "
                            f"asks for {channels} ({'RGB' if channels == 3 else 'gray'})")
        self.seq, self.stride = int(seq), int(stride)
        clips = [i for i, c in enumerate(p.clips) if c.split in names and c.frame_count >= seq]
        counts = np.array([(p.clips[i].frame_count - seq) // stride + 1 for i in clips], np.int64)
        if not counts.size:
            raise PackError(f"{p.path}: no clip in split {'+'.join(names)} has {seq} frames")
        # O(1) sample -> (clip, first frame): a clip number per sample, as the C index.
        self._clip = np.repeat(np.arange(len(clips), dtype=np.uint32), counts)
        self._first_sample = np.concatenate(([0], np.cumsum(counts)[:-1]))
        self._clip_index = np.array(clips, np.int64)
        self._clip_first = np.array([p.clips[i].first_frame for i in clips], np.int64)
        self.shape_x = (self.seq * p.channels, p.height, p.width)
        self.shape_y = (self.seq, p.height, p.width)

    def __len__(self):
        return len(self._clip)

    def sample(self, i):
        """(clip index in the pack, global first frame, first frame within the clip)."""
        if not 0 <= i < len(self._clip):
            raise IndexError(f"sample {i} out of range ({len(self._clip)} samples)")
        k = int(self._clip[i])
        start = (int(i) - int(self._first_sample[k])) * self.stride
        return int(self._clip_index[k]), int(self._clip_first[k]) + start, start

    def get(self, i, flip=False, out=None):
        """Window i as (x, y) float32; written into out=(x, y) when given."""
        _, first, _ = self.sample(i)
        x, y = out if out is not None else (np.empty(self.shape_x, np.float32),
                                            np.empty(self.shape_y, np.float32))
        c = self.pack.channels
        for t in range(self.seq):
            fr, hm = self.pack.frame(first + t), self.pack.heatmap(first + t)
            if flip:
                fr, hm = fr[..., ::-1], hm[..., ::-1]
            # float32 division, correctly rounded: the C loader's (float)v / 255.0f exactly
            np.divide(fr, _255, out=x[t * c:(t + 1) * c], dtype=np.float32, casting="unsafe")
            np.divide(hm, _255, out=y[t], dtype=np.float32, casting="unsafe")
        return x, y

    def __getitem__(self, i):
        return self.get(i)
