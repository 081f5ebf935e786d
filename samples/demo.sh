#!/bin/sh
# The main job, end to end on built-in synthetic data: install what is
# missing, build, generate samples, pack them, inspect the pack, train
# briefly, predict the val clips and say where the CSVs are.
# The samples are 256x144 gray (not 512x288) so that training takes about a
# minute on 2 cores; a few epochs only start to learn (docs/training.md).
set -eu
cd "$(dirname "$0")/.."
VBP_SKIP_REFERENCE=1 sh tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
out=out/demo
rm -rf "$out"
mkdir -p "$out"
echo "demo: built; outputs go to $out" >&2

echo "== vbsample: synthetic clips in both layouts" >&2
build/samples/vbsample --out "$out/samples" --width 256 --height 144 --gray
echo "== vbpack: the tracknetv4 layout, match2 as the val split" >&2
build/tools/vbpack "$out/samples/tracknetv4" -o "$out/samples.vbp" --grayscale --size 256x144 \
  --val match2
echo "== vbdump: what is in the pack, and every checksum" >&2
build/tools/vbdump info "$out/samples.vbp"
build/tools/vbdump verify "$out/samples.vbp"
echo "== vbtrain train: 4 short epochs (metrics per epoch, checkpoints in $out/run)" >&2
build/tools/vbtrain train "$out/samples.vbp" --grayscale --seq 3 --epochs 4 --batch 4 --lr 5e-3 \
  --seed 1 --out "$out/run"
echo "== vbtrain predict: one CSV per val clip" >&2
build/tools/vbtrain predict "$out/samples.vbp" --weights "$out/run/best.safetensors" --split val \
  --out "$out/predictions"
echo "demo: predictions in $out/predictions/ ($(find "$out/predictions" -name '*_ball.csv' | wc -l) CSV files: Frame,Visibility,X,Y)" >&2
echo "demo: weights in $out/run/best.safetensors, per-epoch metrics in $out/run/metrics.jsonl" >&2
