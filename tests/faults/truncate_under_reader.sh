#!/bin/sh
# A pack truncated while vbdump verify (and vbtrain, when given) reads it:
# the program must end with exit status 1 and one line naming the pack,
# never a SIGBUS crash.  truncate_shim.so truncates the file from inside the
# reader right after a chosen record (deterministic): after record 128 of
# vbdump verify (3 index checksums at open, then 2 per frame) the next step
# is the re-check every 64 frames; after the others it is a record past the
# new end, caught by the SIGBUS guard.  Both paths must give the same result.
# usage: truncate_under_reader.sh VBSAMPLE VBPACK VBDUMP SHIM [VBTRAIN]
set -eu
vbsample=$1; vbpack=$2; vbdump=$3; shim=$4; vbtrain=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$vbsample" --out "$tmp/src" --matches 1 --clips 2 --frames 40 --width 128 --height 96 --seed 4 \
  >/dev/null 2>&1
"$vbpack" --quiet --size 128x96 "$tmp/src/tracknetv4" -o "$tmp/raw.vbp"
"$vbpack" --quiet --size 128x96 --codec lz4 "$tmp/src/tracknetv4" -o "$tmp/lz4.vbp"

cases=0
expect_error() { # pack, at-call, truncate-to, command...
  pack=$1; at=$2; to=$3; shift 3
  cp "$tmp/$pack" "$tmp/p.vbp"
  status=0
  VBP_SHIM_PATH="$tmp/p.vbp" VBP_SHIM_AT=$at VBP_SHIM_SIZE=$to LD_PRELOAD="$shim" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    "$@" "$tmp/p.vbp" >/dev/null 2>"$tmp/err" || status=$?
  what="$pack, truncated to $to bytes at record read $at: $*"
  [ "$(wc -c < "$tmp/p.vbp")" -eq "$to" ] || fail "$what: the shim did not truncate"
  [ "$status" -eq 1 ] || fail "$what: exit $status: $(cat "$tmp/err")"
  grep -q "$tmp/p.vbp: .*truncated" "$tmp/err" || fail "$what: message: $(cat "$tmp/err")"
  [ "$(grep -c . "$tmp/err")" -eq 1 ] || fail "$what: more than one line: $(cat "$tmp/err")"
  cases=$((cases + 1))
  echo "truncate: $what -> exit 1: $(cat "$tmp/err")"
}

for pack in raw.vbp lz4.vbp; do
  size=$(wc -c < "$tmp/$pack")
  for at in 5 40 131; do
    for to in 4096 $((size / 2)); do
      expect_error "$pack" "$at" "$to" "$vbdump" verify
    done
  done
done
if [ -n "$vbtrain" ]; then
  # the trainer's loader decodes every lz4 record through LZ4_decompress_safe
  size=$(wc -c < "$tmp/lz4.vbp")
  for at in 3 50; do
    for to in 4096 $((size / 2)); do
      expect_error lz4.vbp "$at" "$to" "$vbtrain" train --out "$tmp/run.$at.$to" --epochs 1 \
        --threads 1 --quiet
    done
  done
fi
echo "truncate_under_reader: $cases truncations under a running reader, all reported"
