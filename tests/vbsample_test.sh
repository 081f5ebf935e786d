#!/bin/sh
# vbsample: same seed -> byte-identical trees; another seed -> different
# frames; both layouts complete; bad flags fail with one line.
# usage: vbsample_test.sh PATH/TO/vbsample
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" --help | grep -q -- '--seed' || fail "--help"
for args in "--seed 7" "--seed 7 --gray --width 96 --height 64"; do
  "$bin" --out "$tmp/a" --matches 2 --clips 2 --frames 12 $args 2>/dev/null
  "$bin" --out "$tmp/b" --matches 2 --clips 2 --frames 12 $args 2>/dev/null
  diff -r "$tmp/a" "$tmp/b" >/dev/null || fail "same seed, different bytes ($args)"
  rm -rf "$tmp/a" "$tmp/b"
done

"$bin" --out "$tmp/a" --matches 2 --clips 2 --frames 12 --seed 7 2>/dev/null
"$bin" --out "$tmp/c" --matches 2 --clips 2 --frames 12 --seed 8 2>/dev/null
cmp -s "$tmp/a/vballnet/match1_clip1/5.png" "$tmp/c/vballnet/match1_clip1/5.png" &&
  fail "different seeds gave the same frame"

t=$tmp/a/tracknetv4; v=$tmp/a/vballnet
for m in match1 match2; do for c in clip1 clip2; do
  [ "$(ls "$t/$m/inputs/$c" | wc -l)" -eq 12 ] || fail "$m/$c inputs"
  [ "$(ls "$t/$m/heatmaps/$c" | wc -l)" -eq 12 ] || fail "$m/$c heatmaps"
  [ -f "$t/$m/inputs/$c/11.png" ] || fail "$m/$c frame numbering"
  [ "$(ls "$v/${m}_$c" | wc -l)" -eq 12 ] || fail "vballnet ${m}_$c"
  cmp -s "$t/$m/csv/${c}_ball.csv" "$v/${m}_${c}_ball.csv" || fail "layouts disagree on labels"
  cmp -s "$t/$m/inputs/$c/3.png" "$v/${m}_$c/3.png" || fail "layouts disagree on frames"
  csv=$v/${m}_${c}_ball.csv
  [ "$(head -n 1 "$csv")" = "Frame,Visibility,X,Y" ] || fail "csv header"
  [ "$(wc -l < "$csv")" -eq 13 ] || fail "csv rows"
  awk -F, 'NR > 1 && !(($2 == 1 && $3 >= 0 && $4 >= 0) || ($2 == 0 && $3 == -1 && $4 == -1)) \
    { bad = 1 } END { exit bad }' "$csv" || fail "csv values in $csv"
done; done
ls "$tmp/a/vballnet" | grep -q tmp && fail "temporary files left"

# over all 48 frames some must be hidden and most visible
vis=$(cat "$v"/*_ball.csv | awk -F, '$2 == 1' | wc -l)
[ "$vis" -ge 24 ] && [ "$vis" -lt 48 ] || fail "visible frames: $vis of 48"

# errors: non-zero exit, one line naming the problem
if "$bin" --out "$tmp/x" --frames 0 2>"$tmp/err"; then fail "--frames 0 accepted"; fi
[ "$(wc -l < "$tmp/err")" -ge 1 ] && grep -q -- '--frames' "$tmp/err" || fail "--frames message"
if "$bin" --out /proc/vbsample_nope 2>"$tmp/err"; then fail "unwritable --out accepted"; fi
[ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q /proc/vbsample_nope "$tmp/err" || fail "io message"
if "$bin" 2>/dev/null; then fail "missing --out accepted"; fi
echo "vbsample: ok"
