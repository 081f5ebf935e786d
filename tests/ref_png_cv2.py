"""Compare vbpack's PNG decoding with OpenCV (reference test, run by test_png_reference).

usage: ref_png_cv2.py LIST
LIST has one line per PNG: path, width, height, rgb_raw, gray_raw (tab separated); the raw
files hold what src/image/png_read.c decoded (planar C,H,W uint8).  Expected: cv2.imread(IMREAD_COLOR)
converted BGR->RGB, and cv2.cvtColor(rgb, COLOR_RGB2GRAY).  Exit 0 when all equal.
"""
import os
import sys

try:
    import cv2
    import numpy as np
except ImportError as exc:
    if os.environ.get("VBP_SKIP_REFERENCE") == "1":
        print(f"SKIPPED: OpenCV reference unavailable ({exc}); install python3-opencv")
        sys.exit(77)
    print(f"FAIL: cannot import OpenCV/numpy ({exc}); install python3-opencv", file=sys.stderr)
    sys.exit(1)

bad = 0
count = 0
with open(sys.argv[1]) as f:
    for line in f:
        path, w, h, rgb_raw, gray_raw = line.rstrip("\n").split("\t")
        w, h = int(w), int(h)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            print(f"{path}: OpenCV cannot read it", file=sys.stderr)
            bad += 1
            continue
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        ours_rgb = np.fromfile(rgb_raw, dtype=np.uint8).reshape(3, h, w).transpose(1, 2, 0)
        ours_gray = np.fromfile(gray_raw, dtype=np.uint8).reshape(h, w)
        for what, a, b in (("RGB", ours_rgb, rgb), ("gray", ours_gray, gray)):
            if a.shape != b.shape or not np.array_equal(a, b):
                diff = np.argwhere(a != b) if a.shape == b.shape else "shape"
                print(f"{path}: {what} differs from OpenCV at {diff[:3] if len(diff) else diff}",
                      file=sys.stderr)
                bad += 1
        count += 1
print(f"{count} PNGs compared with OpenCV {cv2.__version__}, {bad} mismatches")
sys.exit(1 if bad or count == 0 else 0)
