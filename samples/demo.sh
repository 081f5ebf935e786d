#!/bin/sh
# The main job, end to end on built-in synthetic data: install what is
# missing, build, generate samples, pack them, inspect the pack, train
# briefly, predict every clip and say where the CSVs are.
# The samples are small (128x72 gray, 8 clips of 80 frames) so that 30 epochs
# take a few minutes on 2 cores and reach a val F1 near 0.9: the same
# data and settings as the learning test (tests/train_learn_test.sh).
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
build/samples/vbsample --out "$out/samples" --width 128 --height 72 --gray --matches 2 --clips 4 \
  --frames 80 --seed 1
echo "== vbpack: the vballnet layout, clip match2_clip4 as the val split" >&2
build/tools/vbpack "$out/samples/vballnet" -o "$out/samples.vbp" --grayscale --size 128x72 \
  --val match2_clip4
echo "== vbdump: what is in the pack, and every checksum" >&2
build/tools/vbdump info "$out/samples.vbp"
build/tools/vbdump verify "$out/samples.vbp"
echo "== vbtrain train: 30 short epochs (metrics per epoch, checkpoints in $out/run)" >&2
build/tools/vbtrain train "$out/samples.vbp" --grayscale --seq 3 --epochs 30 --batch 8 --lr 5e-3 \
  --seed 1 --out "$out/run"
echo "== vbtrain predict: one CSV per clip (train and val), metrics of the val clip" >&2
build/tools/vbtrain predict "$out/samples.vbp" --weights "$out/run/best.safetensors" \
  --out "$out/predictions"
build/tools/vbtrain eval "$out/samples.vbp" --weights "$out/run/best.safetensors" --split val
echo "demo: predictions in $out/predictions/ ($(find "$out/predictions" -name '*_ball.csv' | wc -l) CSV files: Frame,Visibility,X,Y)" >&2
echo "demo: weights in $out/run/best.safetensors, per-epoch metrics in $out/run/metrics.jsonl" >&2
