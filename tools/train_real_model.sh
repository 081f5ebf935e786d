#!/bin/sh
# Reproduce the shipped model (docs/model.md) from the shared real badminton
# videos, end to end: convert ../shared/data/tracknetv3-raw2 (9 clips) and
# tracknetv3-raw (26 clips) to the TrackNetV4 layout (gray, 512x288), pack
# them (val: the six clips of the model card, train: the other 29), train
# with the card's two-stage recipe, choose the detection threshold on the
# training clips, evaluate the best epoch per clip at tol 4 and 10, and draw
# the learning curves.  Each step is skipped when its output is already
# there (rerun after an interruption: a training resumes with --resume).
# Prints the wall time of each step.
# usage: tools/train_real_model.sh [WORK_DIR] [THREADS] [SEQ] [MODEL] [BACKGROUND]
#        (default: work-real, all cores, 5: the seq 5 model; 3 makes the seq 3 one; MODEL
#        VballNetFastV1, the shipped architecture, or VballNetV1; BACKGROUND none, or median:
#        the network also takes each clip's median frame; the last two for the card's
#        comparison rows; needs the build in build/ and /usr/bin/python3 with python3-opencv)
set -eu
cd "$(dirname "$0")/.."
work=${1:-work-real}
threads=${2:-$(nproc)}
seq=${3:-5}
case $seq in 3|5) ;; *) echo "SEQ must be 3 or 5 (the shipped models' windows)" >&2; exit 2 ;; esac
arch=${4:-VballNetFastV1}
case $arch in
  VballNetFastV1) tag= ;;  # the shipped files' names, unchanged
  VballNetV1) tag=-v1 ;;
  *) echo "MODEL must be VballNetFastV1 or VballNetV1" >&2; exit 2 ;;
esac
bg=${5:-none}
case $bg in
  none) ;;
  median) tag=$tag-bg ;;
  *) echo "BACKGROUND must be none or median" >&2; exit 2 ;;
esac
data=../shared/data
conv=../shared/tools/videos_to_tracknetv4.py
bin=build/tools
mkdir -p "$work"
t0=$(date +%s)
step() { echo "[$(( $(date +%s) - t0 )) s] $*"; }

# 1. Convert: one match per source folder (clip names are unique across both).
for m in raw2:match_raw2 raw:match_raw; do
  if [ ! -f "$work/${m#*:}.done" ]; then
    step "converting $data/tracknetv3-${m%:*}"
    /usr/bin/python3 "$conv" "$data/tracknetv3-${m%:*}" "$work/v4" --gray --match "${m#*:}" > /dev/null
    touch "$work/${m#*:}.done"
  fi
done
# 2. Pack.  Val clips, chosen before any training: 00009 (Osaka), 00013 (Odense) of raw2;
#    00014 (Odense), 00017 (Tokyo), 00022 (Bangkok), 00023 (Jakarta) of raw.
pack=$work/gray.vbp
if [ ! -f "$pack" ]; then
  step "packing"
  "$bin/vbpack" "$work/v4" --grayscale --quiet -o "$pack" \
    --val 00009 --val 00013 --val 00014 --val 00017 --val 00022 --val 00023
fi
# train OUT_DIR EPOCHS ARGS...: a stage, resumed if it was interrupted, skipped when done.
train() {
  out=$1 epochs=$2; shift 2
  if [ -f "$out/last.state" ] && [ "$(grep -c . "$out/metrics.jsonl" 2>/dev/null)" = "$epochs" ]; then
    return 0
  fi
  resume=
  [ -f "$out/last.state" ] && resume=--resume
  step "training $out ($epochs epochs)"
  "$bin/vbtrain" train "$pack" --out "$out" --epochs "$epochs" --threads "$threads" --quiet \
    $resume "$@"
}
# 3. The recipe (docs/model.md measures each choice), both stages with the augmentations on.
#    Stage 1, from random weights: lr 5e-3 decaying x0.9 every epoch (877 steps of 8).
train "$work/stage1$tag-seq$seq" 10 --model $arch --background $bg --seq $seq --grayscale \
  --batch 8 --lr 5e-3 --lr-decay 0.9 --lr-decay-epochs 1 --target binary --target-cut 64 \
  --shift 16 --brightness 0.1 --contrast 0.1 --seed 0
#    Stage 2, fine-tuning stage 1's best epoch at lr 1e-3 for 5 epochs.
train "$work/stage2$tag-seq$seq" 5 --init "$work/stage1$tag-seq$seq/best.safetensors" --seq $seq \
  --background $bg --grayscale --batch 8 --lr 1e-3 --lr-decay 0.9 --lr-decay-epochs 1 \
  --target binary --target-cut 64 --shift 16 --brightness 0.1 --contrast 0.1 --seed 1
#    The model is stage 2's last epoch (a fixed schedule: no epoch picked on val), with the
#    detection threshold chosen on the training clips in its metadata.
model=$work/model$tag-seq$seq.safetensors
if [ ! -f "$model" ]; then
  step "choosing the detection threshold on the training clips"
  cp "$work/stage2$tag-seq$seq/last.safetensors" "$model.part"
  sh tools/choose_threshold.sh "$pack" "$model.part" "$threads"
  mv "$model.part" "$model"
fi
step "evaluating"
for tol in 4 10; do
  "$bin/vbtrain" eval "$pack" --weights "$model" --tol $tol --per-clip --threads "$threads"
done
"$bin/vbtrain" plot "$work/stage1$tag-seq$seq"
"$bin/vbtrain" plot "$work/stage2$tag-seq$seq"
step "done"
echo "model: $model"
echo "curves: $work/stage1$tag-seq$seq/curve.png $work/stage2$tag-seq$seq/curve.png"
