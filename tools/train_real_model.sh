#!/bin/sh
# Reproduce the shipped model (docs/model.md) from the real badminton clips:
# convert ../shared/data/tracknetv3-raw2 to the TrackNetV4 layout (gray,
# 512x288), pack it (val: clips 00009 and 00013, train: the other 7), train
# with the model card's two-stage recipe, evaluate the best epoch at tol 4
# and 10, and draw the learning curves.  About 3 h on 2 cores.
# usage: tools/train_real_model.sh [WORK_DIR]   (default: work-real; needs the
#        build in build/ and /usr/bin/python3 with python3-opencv)
set -eu
cd "$(dirname "$0")/.."
work=${1:-work-real}
raw=../shared/data/tracknetv3-raw2
bin=build/tools
mkdir -p "$work"
if [ ! -d "$work/v4/match_raw2" ]; then
  /usr/bin/python3 ../shared/tools/videos_to_tracknetv4.py "$raw" "$work/v4" --gray
fi
[ -f "$work/raw2.vbp" ] ||
  "$bin/vbpack" "$work/v4" --grayscale --val 00009 --val 00013 -o "$work/raw2.vbp"
# The recipe (docs/model.md explains each choice), in two stages.
# 1. From random weights: binary disc targets (cut 64), lr 5e-3, 40 epochs.
"$bin/vbtrain" train "$work/raw2.vbp" --out "$work/run" --seq 3 --grayscale --batch 8 \
  --lr 5e-3 --lr-decay 0.9 --lr-decay-epochs 3 --epochs 40 --target binary --target-cut 64 --seed 0
# 2. Fine-tuning from stage 1's best epoch with shift, brightness and contrast augmentation.
"$bin/vbtrain" train "$work/raw2.vbp" --out "$work/ft" --init "$work/run/best.safetensors" \
  --seq 3 --grayscale --batch 8 --lr 1e-3 --lr-decay 0.9 --lr-decay-epochs 3 --epochs 20 \
  --target binary --target-cut 64 --shift 16 --brightness 0.1 --contrast 0.1 --seed 1
for tol in 4 10; do
  "$bin/vbtrain" eval "$work/raw2.vbp" --weights "$work/ft/best.safetensors" --tol $tol
done
"$bin/vbtrain" plot "$work/run"
"$bin/vbtrain" plot "$work/ft"
echo "model: $work/ft/best.safetensors  curves: $work/run/curve.png $work/ft/curve.png"
