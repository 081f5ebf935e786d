#!/bin/sh
# vbtrain track against vbtrain predict on the same real clip packed from the video
# (tracknetv3-raw2/00013, 81 frames of 1280x720, the shipped model): the same frames reach the
# network, so the detections must agree: same visibility on every frame, positions within 1 px
# once track's video pixels are scaled back to the pack's 512x288.  Then the overlay video holds
# every frame, and a video track cannot read leaves no CSV; the same for a model that takes a
# background frame.  SKIPPED without the real data or
# without FFmpeg.  About 20 s on a quiet machine (longer under ASan): three network passes over
# 81 frames of 720p (predict, track, track of the overlay), the shortest real clip there is.
# usage: track_test.sh VBPACK VBTRAIN MODEL REAL_DATA
set -eu
vbpack=$1 vbtrain=$2 model=$3 clip=$4/tracknetv3-raw2/00013
[ -f "$clip.mp4" ] || { echo "SKIPPED: $clip.mp4 not found (real data)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/raw"
ln -s "$clip.mp4" "$clip.csv" "$tmp/raw/"
if ! "$vbpack" --quiet --grayscale "$tmp/raw" -o "$tmp/p.vbp" 2> "$tmp/err"; then
  if grep -q "without FFmpeg" "$tmp/err"; then echo "SKIPPED: $(cat "$tmp/err")"; exit 77; fi
  cat "$tmp/err"; exit 1
fi
"$vbtrain" predict "$tmp/p.vbp" --weights "$model" --out "$tmp/pred" --quiet > /dev/null
"$vbtrain" track "$clip.mp4" --weights "$model" --out "$tmp/track.csv" --overlay "$tmp/o.mp4" \
  --quiet
# agree PREDICT.csv TRACK.csv: same visibility, positions within 1 px, 20 or more balls
agree() {
  paste -d, "$1" "$2" | awk -F, '
    NR == 1 { next }
    { n++
      if ($1 != $5 || $2 != $6) { print "frame " $1 ": predict " $2 " track " $6; bad++; next }
      if ($2 == 1) {
        dx = $7 * 512 / 1280 - $3; dy = $8 * 288 / 720 - $4
        if (dx < 0) dx = -dx; if (dy < 0) dy = -dy
        if (dx > 1 || dy > 1) { print "frame " $1 ": " $3 "," $4 " vs " $7 "," $8; bad++ }
        if (dx > m) m = dx; if (dy > m) m = dy; v++ } }
    END { printf "%d frames, %d with a ball, max |track - predict| %.2f px (pack pixels)\n", n, v, m
          exit (bad > 0 || n != 81 || v < 20) }'
}
agree "$tmp/pred/raw/00013_ball.csv" "$tmp/track.csv"
# A model that takes the background frame (the shipped one with a background input added,
# tests/bg_model.py): track finds the video's in a first pass, predict the pack's clip's; the
# same frames make the same median, so the detections agree as above.
"${VBP_PYTHON:-python3}" "$(dirname "$0")/bg_model.py" "$model" "$tmp/bg.safetensors" 0.03
"$vbtrain" predict "$tmp/p.vbp" --weights "$tmp/bg.safetensors" --out "$tmp/pbg" --quiet > /dev/null
"$vbtrain" track "$clip.mp4" --weights "$tmp/bg.safetensors" --out "$tmp/tbg.csv" --quiet
agree "$tmp/pbg/raw/00013_ball.csv" "$tmp/tbg.csv"
if cmp -s "$tmp/pbg/raw/00013_ball.csv" "$tmp/pred/raw/00013_ball.csv"; then
  echo "the background frame changed no detection"; exit 1
fi
# the overlay: a video of the same 81 frames (track reads it back)
"$vbtrain" track "$tmp/o.mp4" --weights "$model" --out "$tmp/o.csv" --json > "$tmp/o.json"
grep -q '"frames": 81,' "$tmp/o.json"
grep -q '"width": 1280, "height": 720' "$tmp/o.json"
# an empty video: an error naming it, exit 1, no CSV
: > "$tmp/empty.mp4"
if "$vbtrain" track "$tmp/empty.mp4" --weights "$model" --out "$tmp/e.csv" 2> "$tmp/err"; then
  echo "track accepted an empty video"; exit 1
fi
grep -q "empty.mp4: empty file" "$tmp/err"
[ ! -e "$tmp/e.csv" ]
echo "track agrees with predict on $clip.mp4"
