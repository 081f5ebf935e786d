"""Shared by the reference tests (tests/*.py run by meson): how a missing reference package
is reported, running the project's programs, and the two small packs of the Python tests.
A missing package fails the test, naming the Debian package to install; with
VBP_SKIP_REFERENCE=1 (users who opt out) it is a visible skip (exit 77, meson's SKIP)."""
import os
import subprocess
import sys

# The programs are linked with their own sanitizer runtime: not the one an ASan build preloads
# into the interpreter (tests/meson.build, python_loader).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, stderr=subprocess.DEVNULL, env=CHILD_ENV)


def small_packs(vbsample, vbpack_exe, tmp, frames):
    """128x72 synthetic packs of 2 matches x 2 clips of `frames` frames, clip match2_clip1 in
    val: (gray raw, RGB lz4) paths in tmp."""
    gray, rgb = f"{tmp}/gray.vbp", f"{tmp}/rgb.vbp"
    for sub, seed, extra, pack, kind in (("g", 4, ["--gray"], gray, ["--grayscale"]),
                                         ("c", 5, [], rgb, ["--rgb", "--codec", "lz4"])):
        run(vbsample, "--out", f"{tmp}/{sub}", "--layout", "vballnet", "--width", "128",
            "--height", "72", *extra, "--seed", seed, "--matches", "2", "--clips", "2",
            "--frames", frames)
        run(vbpack_exe, f"{tmp}/{sub}/vballnet", "-o", pack, *kind, "--size", "128x72", "--val",
            "match2_clip1", "--quiet")
    return gray, rgb


def skip_or_fail(why):
    if os.environ.get("VBP_SKIP_REFERENCE") == "1":
        print(f"SKIPPED: {why}")
        sys.exit(77)
    print(f"FAIL: {why} (run tools/install-deps.sh, or set VBP_SKIP_REFERENCE=1 to skip)")
    sys.exit(1)
