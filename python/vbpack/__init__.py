"""vbpack - read vbpack training packs from Python (numpy only; torch optional).

    import vbpack
    p = vbpack.Pack("data.vbp")                 # memory-mapped reader (formats/vbpack.md)
    p.frame(f), p.heatmap(f)                    # uint8 views of the map for raw records
    p.find_clip("matchA/rally2")                # clip names as every vbpack tool takes them
    w = vbpack.Windows(p, seq=3, split="train") # the C loader's samples
    x, y = w[i]                                 # float32 (seq*C,H,W) and (seq,H,W), v / 255

    from vbpack.torch import WindowDataset      # a torch.utils.data.Dataset of the same windows

docs/python.md describes the package; tests/test_python_package.py checks it
against the C loader.
"""
from .names import escape
from .pack import SPLITS, Clip, Pack, PackError
from .windows import Windows

__all__ = ["Pack", "PackError", "Clip", "SPLITS", "Windows", "escape"]
