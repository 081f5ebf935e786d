"""vbpack.torch - PyTorch over a pack (needs PyTorch): the C loader, or a Dataset.

    from vbpack.torch import Loader
    ld = Loader("data.vbp", batch=8, seq=3, flip=0.5, seed=1)   # libvbpack's loader
    for epoch in range(30):
        ld.set_epoch(epoch)
        for x, y in ld:     # x: (8, seq*C, H, W) float32 in [0,1], y: (8, seq, H, W)
            ...             # valid until the next batch (copy=True: kept forever)

    from torch.utils.data import DataLoader
    from vbpack.torch import WindowDataset  # random access: any sampler, any collate
    for x, y in DataLoader(WindowDataset("data.vbp", seq=3), batch_size=4, shuffle=True):
        ...

Loader is vbpack.Loader (python/vbpack/loader.py) handing out torch tensors over the C
loader's batch buffers (torch.from_numpy: no copy).  WindowDataset reads windows with the
numpy reader; every DataLoader worker reads the same read-only mapping of the pack
(inherited with fork, mapped again from the path with spawn): no copy of the pack per worker.
docs/python.md says when to use which.
"""
import torch
from torch.utils.data import Dataset

from . import loader as _loader
from .windows import Windows


class Loader(_loader.Loader):
    __doc__ = _loader.Loader.__doc__ + \
        "    Batches are torch tensors over the loader's buffers (torch.from_numpy).\n"
    _wrap = staticmethod(torch.from_numpy)
    _copy = staticmethod(torch.clone)


class WindowDataset(Dataset):
    """Windows of `seq` frames of the clips of `split` (see vbpack.Windows), as
    torch tensors.  grayscale: True / False insists on gray / RGB frames (the
    pack stores one or the other; a mismatch raises PackError), None takes the
    pack's.  flip=True mirrors every window (augmentation stays the caller's
    choice; the C loader draws flips from its seed)."""

    def __init__(self, pack, seq=3, split="train", grayscale=None, stride=1, flip=False):
        channels = None if grayscale is None else (1 if grayscale else 3)
        self.windows = Windows(pack, seq=seq, split=split, stride=stride, channels=channels)
        self.flip = bool(flip)

    def __len__(self):
        return len(self.windows)

    def __getitem__(self, i):
        x, y = self.windows.get(i, flip=self.flip)
        return torch.from_numpy(x), torch.from_numpy(y)
