#!/bin/sh
# The main job, end to end on built-in synthetic data: install what is
# missing, build, generate samples, pack them, inspect the pack.
set -eu
cd "$(dirname "$0")/.."
VBP_SKIP_REFERENCE=1 sh tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
out=out/demo
mkdir -p "$out"
echo "demo: built; outputs go to $out" >&2
