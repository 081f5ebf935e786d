"""Reference test: a pack compiled from a real H.264 clip holds exactly the frames the OpenCV route
(cv2.VideoCapture, cv2.resize INTER_AREA, cv2.cvtColor BGR2GRAY: ../shared/tools/videos_to_tracknetv4.py)
makes of it, RGB and gray, and the labels are its CSV's fractions times the pack's size (within
float32 rounding).

usage: VBP_PYTHON tests/test_video_reference.py VBPACK_EXE
Uses the shortest shared clip, tracknetv3-raw2/00013 (81 frames of 1280x720); skipped when the
real data or FFmpeg is missing (a visible SKIP, exit 77).
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
sys.path.insert(0, os.path.join(os.environ.get("VBP_SOURCE_DIR", "."), "python"))
import vbpack  # noqa: E402


def main():
    vbpack_exe = sys.argv[1]
    clip = os.path.join(os.environ.get("VBP_REAL_DATA", ""), "tracknetv3-raw2", "00013")
    if not os.path.exists(clip + ".mp4"):
        print(f"SKIPPED: {clip}.mp4 not found (real data)")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "raw")
        os.mkdir(root)
        for ext in (".mp4", ".csv"):
            os.symlink(clip + ext, os.path.join(root, "00013" + ext))
        packs = {}
        for kind, args in (("rgb", []), ("gray", ["--grayscale"])):
            packs[kind] = os.path.join(tmp, kind + ".vbp")
            r = subprocess.run([vbpack_exe, "--quiet", *args, root, "-o", packs[kind]],
                               capture_output=True, text=True)
            if r.returncode == 1 and "without FFmpeg" in r.stderr:
                print(f"SKIPPED: {r.stderr.strip()}")
                sys.exit(77)
            assert r.returncode == 0, r.stderr
        rows = [ln.split(",") for ln in open(clip + ".csv").read().split()[1:]]
        with vbpack.Pack(packs["rgb"]) as rgb, vbpack.Pack(packs["gray"]) as gray:
            assert rgb.clips[0].source == (1280, 720, 30, 1), rgb.clips[0]
            cap = cv2.VideoCapture(clip + ".mp4")
            n = 0
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                small = cv2.resize(frame, (512, 288), interpolation=cv2.INTER_AREA)
                want = small[:, :, ::-1].transpose(2, 0, 1)
                assert (rgb.frame(n) == want).all(), f"frame {n}: RGB differs from OpenCV's"
                assert (gray.frame(n)[0] == cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)).all(), \
                    f"frame {n}: gray differs from OpenCV's"
                vis, x, y = rgb.label(n)
                assert vis == int(rows[n][1]), (n, vis, rows[n])
                if vis:  # the fraction is kept as a float32 before scaling: 1e-5 px off at most
                    assert abs(x - float(rows[n][2]) * 512) < 1e-3 and \
                        abs(y - float(rows[n][3]) * 288) < 1e-3, (n, x, y, rows[n])
                n += 1
            assert n == len(rgb) == len(rows) == 81, (n, len(rgb), len(rows))
    print(f"{clip}.mp4: {n} frames packed equal OpenCV's, RGB and gray; labels as its CSV")


main()
