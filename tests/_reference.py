"""Shared by the reference tests (tests/*.py run by meson): how a missing reference package
is reported.  A missing package fails the test, naming the Debian package to install; with
VBP_SKIP_REFERENCE=1 (users who opt out) it is a visible skip (exit 77, meson's SKIP)."""
import os
import sys


def skip_or_fail(why):
    if os.environ.get("VBP_SKIP_REFERENCE") == "1":
        print(f"SKIPPED: {why}")
        sys.exit(77)
    print(f"FAIL: {why} (run tools/install-deps.sh, or set VBP_SKIP_REFERENCE=1 to skip)")
    sys.exit(1)
