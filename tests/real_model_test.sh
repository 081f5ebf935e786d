#!/bin/sh
# Real-model test (suite 'slow'): each shipped model, evaluated on the six real
# badminton val clips of docs/model.md (never trained on: 00009 and 00013 of
# ../shared/data/tracknetv3-raw2, 00014, 00017, 00022 and 00023 of
# tracknetv3-raw; 1,339 frames), must keep the metrics its model card states,
# at tolerance 4 px and 10 px, and report every clip.
# usage: real_model_test.sh CONVERTER DATA_DIR VBPACK VBTRAIN MODEL F1_TOL4 F1_TOL10
#                           [MODEL F1_TOL4 F1_TOL10]...
# The floors are the model card's figures minus 0.02 (float rounding differs
# between the ISA paths and compilers; a regression is larger than that).
set -eu
conv=$1; data=$2; vbpack=$3; vbtrain=$4; shift 4
[ $# -ge 3 ] && [ $(($# % 3)) -eq 0 ] || { echo "FAIL: usage: MODEL F1_TOL4 F1_TOL10 ..."; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
py=${VBP_PYTHON:-/usr/bin/python3}
if [ "${VBP_SKIP_REFERENCE:-0}" = 1 ]; then
  echo "SKIPPED: VBP_SKIP_REFERENCE=1 (the real-model test needs python3-opencv)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The converter takes a directory of videos: give it only the val clips, one
# directory per source folder (its match name, as in the model card).
convert() { # folder match clips...
  src=$data/$1 match=$2; shift 2
  mkdir "$tmp/$match"
  for c in "$@"; do
    [ -f "$src/$c.mp4" ] || fail "$src/$c.mp4: the shared real clips are missing"
    ln -s "$src/$c.mp4" "$tmp/$match/$c.mp4"
    ln -s "$src/$c.csv" "$tmp/$match/$c.csv"
  done
  "$py" "$conv" "$tmp/$match" "$tmp/v4" --gray --match "$match" >> "$tmp/convert.log" 2>&1 ||
    { cat "$tmp/convert.log"; fail "converting the val clips of $src"; }
}
convert tracknetv3-raw2 match_raw2 00009 00013
convert tracknetv3-raw match_raw 00014 00017 00022 00023
"$vbpack" "$tmp/v4" -o "$tmp/val.vbp" --grayscale --val match_raw2 --val match_raw --quiet

check() { # model tol floor
  model=$1; shift
  line=$("$vbtrain" eval "$tmp/val.vbp" --weights "$model" --split val --tol "$1" --per-clip --json)
  echo "tol $1: $line"
  total=${line%%,\"clips\":*}
  f1=$(echo "$total" | sed -n 's/.*"f1":\([0-9.]*\).*/\1/p')
  frames=$(echo "$total" | sed -n 's/.*"frames":\([0-9]*\).*/\1/p')
  [ -n "$f1" ] || fail "no F1 in: $line"
  [ "$frames" = 1339 ] || fail "$frames val frames evaluated, the card's val set has 1339"
  for c in match_raw2/00009:502 match_raw2/00013:81 match_raw/00014:138 match_raw/00017:162 \
           match_raw/00022:304 match_raw/00023:152; do
    echo "$line" | grep -q "{\"clip\":\"${c%:*}\",\"split\":\"val\",\"frames\":${c#*:}," ||
      fail "clip ${c%:*} (${c#*:} frames) missing from the per-clip metrics"
  done
  awk -v f="$f1" -v m="$2" 'BEGIN { exit !(f >= m) }' ||
    fail "$model: val F1 $f1 < $2 at tol $1 px"
}
while [ $# -gt 0 ]; do
  [ -f "$1" ] || fail "$1: the shipped model is missing"
  echo "== $1"
  check "$1" 4 "$2"
  check "$1" 10 "$3"
  shift 3
done
echo "ok"
