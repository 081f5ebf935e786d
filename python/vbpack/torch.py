"""vbpack.torch - a torch.utils.data.Dataset over a pack (needs PyTorch).

    from torch.utils.data import DataLoader
    from vbpack.torch import WindowDataset
    ds = WindowDataset("data.vbp", seq=3, split="train", grayscale=True)
    for x, y in DataLoader(ds, batch_size=4, shuffle=True, num_workers=2):
        ...   # x: (4, seq*C, H, W) float32 in [0,1], y: (4, seq, H, W): the C loader's batches

Every worker reads the same read-only mapping of the pack (inherited with
fork, mapped again from the path with spawn): no copy of the pack per worker.
"""
import torch
from torch.utils.data import Dataset

from .windows import Windows


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
