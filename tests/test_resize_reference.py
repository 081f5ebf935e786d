"""Reference test: src/image/resize_area.c is cv2.resize(..., interpolation=cv2.INTER_AREA), bit for bit.

usage: VBP_PYTHON tests/test_resize_reference.py RESIZE_DUMP_EXE
For shrink factors that take each of OpenCV's paths (same size: a copy; integer factors: block
means, 2x2 rounding its own way; anything else: the area-weighted float path, including factors
above 5 that need two loads per output pixel and sizes that divide nothing), a pseudo-random BGR
image is shrunk by the C code and by cv2 (python3-opencv), and every byte must agree.
"""
import os
import subprocess
import sys
import tempfile

from _reference import skip_or_fail

try:
    import numpy as np
    import cv2
except ImportError as e:
    skip_or_fail(f"numpy or cv2 (python3-opencv) not importable in {sys.executable}: {e}")

CASES = [  # (sw, sh, dw, dh)
    (1280, 720, 512, 288),   # the shared clips: 2.5 x 2.5
    (1920, 1080, 512, 288),  # 3.75
    (3840, 2160, 512, 288),  # 7.5: two 16-byte loads per output pixel
    (640, 360, 512, 288),    # 1.25
    (854, 480, 512, 288),    # factors that divide nothing
    (1281, 721, 512, 288),
    (333, 177, 100, 50),
    (1280, 720, 640, 360),   # 2 x 2 blocks: (sum + 2) >> 2
    (1536, 864, 512, 288),   # 3 x 3 blocks
    (2048, 1152, 512, 288),  # 4 x 4 blocks
    (1280, 720, 640, 288),   # integer in x only: the float path
    (512, 288, 512, 288),    # same size: a copy
    (7, 5, 3, 2),
]


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (sw, sh, dw, dh) in enumerate(CASES):
            prefix = os.path.join(tmp, f"case{i}")
            subprocess.run([exe, str(sw), str(sh), str(dw), str(dh), str(i + 1), prefix], check=True)
            bgr = np.fromfile(prefix + ".bgr", np.uint8).reshape(sh, sw, 3)
            got = np.fromfile(prefix + ".rgb", np.uint8).reshape(3, dh, dw)
            want = cv2.resize(bgr, (dw, dh), interpolation=cv2.INTER_AREA)[:, :, ::-1].transpose(2, 0, 1)
            diff = np.abs(got.astype(int) - want.astype(int))
            if diff.max():
                bad = np.argwhere(diff)[0]
                raise SystemExit(f"FAIL: {sw}x{sh} -> {dw}x{dh}: {int((diff > 0).sum())} bytes differ, "
                                 f"max {int(diff.max())}, first at (plane, y, x) = {tuple(bad)}: "
                                 f"{int(got[tuple(bad)])} != cv2's {int(want[tuple(bad)])}")
    print(f"resize_area.c equals cv2.resize(INTER_AREA) on {len(CASES)} shrinks")


main()
