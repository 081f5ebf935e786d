#!/bin/sh
# Two trainers and a `vbdump verify` on one pack at the same time: all three
# succeed, and each trainer ends with the weights it gets alone.
# usage: shared_pack.sh VBSAMPLE VBPACK VBDUMP VBTRAIN
set -eu
vbsample=$1; vbpack=$2; vbdump=$3; vbtrain=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$vbsample" --out "$tmp/src" --matches 1 --clips 3 --frames 20 --width 192 --height 128 --seed 8 \
  >/dev/null 2>&1
"$vbpack" --quiet --size 192x128 --grayscale --val clip3 "$tmp/src/tracknetv4" -o "$tmp/p.vbp"
args="--epochs 2 --seed 3 --threads 1 --quiet"
# shellcheck disable=SC2086
"$vbtrain" train "$tmp/p.vbp" --out "$tmp/alone" $args >/dev/null 2>"$tmp/err" || fail "alone: $(cat "$tmp/err")"
# shellcheck disable=SC2086
"$vbtrain" train "$tmp/p.vbp" --out "$tmp/a" $args >/dev/null 2>"$tmp/err.a" &
pa=$!
# shellcheck disable=SC2086
"$vbtrain" train "$tmp/p.vbp" --out "$tmp/b" $args --preload >/dev/null 2>"$tmp/err.b" &
pb=$!
verified=0
while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
  "$vbdump" verify "$tmp/p.vbp" >/dev/null 2>"$tmp/err.v" || fail "vbdump verify: $(cat "$tmp/err.v")"
  verified=$((verified + 1))
  sleep 0.05
done
wait "$pa" || fail "trainer a: $(cat "$tmp/err.a")"
wait "$pb" || fail "trainer b: $(cat "$tmp/err.b")"
[ "$verified" -ge 1 ] || fail "no verify ran alongside the trainers"
for r in a b; do
  cmp -s "$tmp/alone/last.safetensors" "$tmp/$r/last.safetensors" || fail "trainer $r: different weights"
done
echo "shared_pack: 2 trainers (disk and preload) and $verified vbdump verify runs on one pack at once;" \
  "all succeeded, both trainers' weights identical to a run alone"
