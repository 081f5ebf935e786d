#!/bin/sh
# vbdump end to end: every command on the fixture pack, JSON that parses,
# exit codes 0/1/2, one-line errors naming the pack, verify naming a bad record, CLIP names.
# usage: test_vbdump.sh VBDUMP PACK_EXPECT
set -u
vbdump=$1; expect=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # description, then a command that must succeed
  d=$1; shift
  if ! "$@"; then echo "FAIL: $d"; fails=$((fails + 1)); fi
}
"$expect" "$tmp/p.vbp" lz4 1 "$tmp/e" || exit 1

check "info" sh -c "'$vbdump' info '$tmp/p.vbp' > '$tmp/info' && grep -q 'frames       12 (train 5, val 3, test 4)' '$tmp/info'"
check "info memory table" grep -q 'preload every window (6)' "$tmp/info"
check "info memory limit" grep -q '^  this process may use  *[0-9.]* [kMGT]*B  (\(MemAvailable\|cgroup v[12] memory\)' "$tmp/info"
check "info preload fits" grep -q '^  --preload  *fits' "$tmp/info"
check "info --seq" sh -c "'$vbdump' info '$tmp/p.vbp' --seq 4 | grep -q 'preload every window (3)'"
check "clips" sh -c "'$vbdump' clips '$tmp/p.vbp' | grep -q 'matchA  *rally2  *val  *5  *3'"
check "frames by group/name" sh -c "'$vbdump' frames '$tmp/p.vbp' matchA/rally2 | wc -l | grep -qx 4"
check "verify" sh -c "'$vbdump' verify '$tmp/p.vbp' | grep -q ': ok, 12 frames'"
py=${VBP_PYTHON:-/usr/bin/python3}
parses() { "$vbdump" "$@" --json | "$py" -c 'import json, sys; json.load(sys.stdin)'; }
check "info --json parses" parses info "$tmp/p.vbp"
check "info --json memory limit" sh -c "'$vbdump' info '$tmp/p.vbp' --json | '${VBP_PYTHON:-/usr/bin/python3}' -c 'import json, sys; l = json.load(sys.stdin)[\"memory\"][\"limit\"]; assert l[\"bytes\"] > 0 and l[\"preload_fits\"] and l[\"source\"], l'"
check "clips --json parses" parses clips "$tmp/p.vbp"
check "frames --json parses" parses frames "$tmp/p.vbp" serve
check "verify --json parses" parses verify "$tmp/p.vbp"
check "--help exits 0" sh -c "'$vbdump' --help | grep -q usage"
"$vbdump" frobnicate "$tmp/p.vbp" 2>/dev/null; check "unknown command exits 2" test $? -eq 2
"$vbdump" info 2>/dev/null; check "missing PACK exits 2" test $? -eq 2
"$vbdump" info "$tmp/none.vbp" 2> "$tmp/err"; check "missing file exits 1" test $? -eq 1
check "one-line error naming the file" sh -c "test \$(wc -l < '$tmp/err') -eq 1 && grep -q '^vbdump: $tmp/none.vbp: cannot open' '$tmp/err'"
# CLIP names (vbp_names.h): a name that fits no clip or several is a usage error (exit 2) naming them
"$vbdump" frames "$tmp/p.vbp" nope 2> "$tmp/err"; check "unknown clip exits 2" test $? -eq 2
check "unknown clip message" test "$(cat "$tmp/err")" = "vbdump: $tmp/p.vbp: no clip or match is named 'nope'"
"$vbdump" frames "$tmp/p.vbp" matchA 2> "$tmp/err"; check "match of 2 clips exits 2" test $? -eq 2
check "match of 2 clips message" test "$(cat "$tmp/err")" = \
  "vbdump: $tmp/p.vbp: 'matchA' is a match of 2 clips: matchA/rally1, matchA/rally2 (name one of them)"
check "frames by /clip" sh -c "'$vbdump' frames '$tmp/p.vbp' /serve | wc -l | grep -qx 5"
"$vbdump" frames "$tmp/p.vbp" /rally2 2> /dev/null; check "/clip of a clip in a match exits 2" test $? -eq 2
head -c 5000 "$tmp/p.vbp" > "$tmp/t.vbp"
"$vbdump" info "$tmp/t.vbp" 2> "$tmp/err"; check "truncated exits 1" test $? -eq 1
check "truncated message" grep -q "t.vbp: truncated" "$tmp/err"
# Damage the middle of rally2's second frame (an lz4 record): verify names it.
off=$("$vbdump" frames "$tmp/p.vbp" rally2 --json | "$py" -c \
  'import json,sys; r=json.load(sys.stdin)[1]["frame_record"]; print(r["offset"] + r["stored_size"] // 2)')
cp "$tmp/p.vbp" "$tmp/bad.vbp"
printf '\377' | dd of="$tmp/bad.vbp" bs=1 seek="$off" conv=notrunc 2>/dev/null
"$vbdump" verify "$tmp/bad.vbp" > /dev/null 2> "$tmp/err"; check "verify of damaged pack exits 1" test $? -eq 1
check "verify names the record" grep -q "clip 'matchA/rally2' frame 1 frame: checksum mismatch" "$tmp/err"
# export: three PNGs of the pack's size (IHDR width/height and colour type), errors leave nothing.
check "export" sh -c "'$vbdump' export '$tmp/p.vbp' matchA/rally2 2 -o '$tmp/x' | wc -l | grep -qx 3"
ihdr() { od -An -tu1 -j16 -N10 "$1" | tr -s ' ' | sed 's/^ //'; }
check "export frame.png is 64x48 gray" test "$(ihdr "$tmp/x_frame.png")" = "0 0 0 64 0 0 0 48 8 0"
check "export heatmap.png is 64x48 gray" test "$(ihdr "$tmp/x_heatmap.png")" = "0 0 0 64 0 0 0 48 8 0"
check "export overlay.png is 64x48 RGB" test "$(ihdr "$tmp/x_overlay.png")" = "0 0 0 64 0 0 0 48 8 2"
"$vbdump" export "$tmp/p.vbp" rally2 3 -o "$tmp/y" 2> "$tmp/err"; check "export past the clip exits 1" test $? -eq 1
check "export past the clip message" grep -q "clip 'rally2' has frames 0..2, not '3'" "$tmp/err"
"$vbdump" export "$tmp/p.vbp" rally2 0 -o "$tmp/nodir/z" 2> /dev/null; check "export to a missing dir exits 1" test $? -eq 1
"$vbdump" export "$tmp/p.vbp" rally2 0 2> /dev/null; check "export without -o exits 2" test $? -eq 2
check "failed exports leave no files" test "$(ls "$tmp" | grep -c '^[yz]')" -eq 0

[ "$fails" -eq 0 ] && echo "vbdump: all checks passed"
exit "$fails"
