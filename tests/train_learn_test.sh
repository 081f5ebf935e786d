#!/bin/sh
# Learning test (suite 'slow'): vbtrain must reach F1 >= 0.9 on the val split
# of the synthetic samples within a bounded number of steps.
# The data is generated at 128x72 (not 512x288) to fit a few minutes on 2
# cores; the ball keeps its 3.5 px radius, so the task is not easier per
# pixel, only the frame is smaller (docs/training.md, "Learning test").
# usage: train_learn_test.sh VBSAMPLE VBPACK VBTRAIN
set -eu
vbsample=$1; vbpack=$2; vbtrain=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 8 clips of 80 frames: 7 train (546 windows), 1 val (80 frames).
"$vbsample" --out "$tmp/s" --layout vballnet --width 128 --height 72 --gray --seed 1 \
  --matches 2 --clips 4 --frames 80 2>/dev/null
"$vbpack" "$tmp/s/vballnet" -o "$tmp/s.vbp" --grayscale --size 128x72 --val match2_clip4 --quiet
# At most 40 epochs of 69 steps (batch 8): 2760 steps; F1 first crosses 0.9 near epoch 24.
# The run goes in stretches (--resume continues bit for bit: test_train) and stops at the
# first stretch whose best val F1 reaches 0.9, so a healthy trainer costs ~24 epochs, not 40.
: > "$tmp/epochs.jsonl"
resume=
for e in 20 24 28 32 36 40; do
  "$vbtrain" train "$tmp/s.vbp" --out "$tmp/run" --epochs $e --lr 5e-3 --batch 8 --seed 1 \
    --threads 2 --quiet --json $resume >> "$tmp/epochs.jsonl"
  resume=--resume
  best=$(sed -n 's/.*"val":{[^}]*"f1":\([0-9.e+-]*\).*/\1/p' "$tmp/epochs.jsonl" | sort -g | tail -n 1)
  [ -n "$best" ] || fail "no val F1 in the epoch lines"
  awk -v f="$best" 'BEGIN { exit !(f >= 0.9) }' && break
done
cat "$tmp/epochs.jsonl"
line=$("$vbtrain" eval "$tmp/s.vbp" --weights "$tmp/run/best.safetensors" --split val --json)
echo "best on val: $line"
f1=$(echo "$line" | sed -n 's/.*"f1":\([0-9.]*\).*/\1/p')
[ -n "$f1" ] || fail "no F1 in: $line"
awk -v f="$f1" 'BEGIN { exit !(f >= 0.9) }' || fail "best val F1 $f1 < 0.9 after $e epochs"
echo "ok: val F1 $f1 after $e epochs"
