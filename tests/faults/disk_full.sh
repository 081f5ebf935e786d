#!/bin/sh
# Disk full while packing: RLIMIT_FSIZE (a file-size limit: write fails with
# EFBIG) at several points of the file, and, when this user may mount, a
# small tmpfs (ENOSPC).  Each run must exit 1 with one line naming the pack
# and the cause, and leave nothing at the target nor a temporary file (with
# --force over an existing pack: that pack, unchanged).
# With VBTRAIN: a checkpoint that cannot be written stops training with one
# line, the previous checkpoint stays as it was, and --resume without the
# limit ends with the weights of an uninterrupted run.
# usage: disk_full.sh VBSAMPLE VBPACK [VBTRAIN]
set -eu
vbsample=$1; vbpack=$2; vbtrain=${3:-}
tmp=$(mktemp -d)
mnt=""
cleanup() { [ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$vbsample" --out "$tmp/src" --matches 1 --clips 2 --frames 20 --seed 5 >/dev/null 2>&1
"$vbpack" --quiet "$tmp/src/tracknetv4" -o "$tmp/full.vbp" || fail "reference pack"
size=$(wc -c < "$tmp/full.vbp")
mkdir "$tmp/out"

expect_refused() { # label, expected text, command...
  label=$1; want=$2; shift 2
  status=0
  "$@" "$tmp/src/tracknetv4" -o "$tmp/out/p.vbp" 2>"$tmp/err" || status=$?
  [ "$status" -eq 1 ] || fail "$label: exit $status: $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$label: not one line: $(cat "$tmp/err")"
  grep -q "p.vbp.*$want" "$tmp/err" || fail "$label: message: $(cat "$tmp/err")"
  [ -z "$(ls "$tmp/out")" ] || fail "$label: left $(ls "$tmp/out")"
  echo "disk_full: $label -> exit 1: $(cat "$tmp/err")"
}

# limits: inside the header page, mid-records, one byte short (the index write)
for limit in 1000 $((size / 2)) $((size - 1)); do
  expect_refused "RLIMIT_FSIZE $limit of $size bytes" "File too large" \
    prlimit --fsize="$limit" "$vbpack" --quiet
done

# --force over an existing pack: the failed run leaves the old pack as it was
cp "$tmp/full.vbp" "$tmp/out/p.vbp"
status=0
prlimit --fsize=$((size / 2)) "$vbpack" --quiet --force --grayscale "$tmp/src/tracknetv4" \
  -o "$tmp/out/p.vbp" 2>"$tmp/err" || status=$?
[ "$status" -eq 1 ] || fail "--force: exit $status"
cmp -s "$tmp/full.vbp" "$tmp/out/p.vbp" || fail "--force: the old pack changed"
[ "$(ls "$tmp/out")" = "p.vbp" ] || fail "--force: left $(ls "$tmp/out")"
echo "disk_full: --force over an existing pack, RLIMIT_FSIZE $((size / 2)) -> exit 1, old pack intact"
rm "$tmp/out/p.vbp"

if [ "$(id -u)" -eq 0 ] && mkdir "$tmp/small" && mount -t tmpfs -o size=1m tmpfs "$tmp/small" 2>/dev/null; then
  mnt=$tmp/small
  status=0
  "$vbpack" --quiet "$tmp/src/tracknetv4" -o "$mnt/p.vbp" 2>"$tmp/err" || status=$?
  [ "$status" -eq 1 ] || fail "tmpfs: exit $status"
  grep -q "p.vbp.*No space left on device" "$tmp/err" || fail "tmpfs: message: $(cat "$tmp/err")"
  [ -z "$(ls "$mnt")" ] || fail "tmpfs: left $(ls "$mnt")"
  echo "disk_full: 1 MiB tmpfs -> exit 1: $(cat "$tmp/err")"
else
  echo "disk_full: 1 MiB tmpfs variant not run (cannot mount here)"
fi

if [ -n "$vbtrain" ]; then
  "$vbsample" --out "$tmp/tiny" --matches 1 --clips 2 --frames 16 --width 96 --height 64 --seed 5 \
    >/dev/null 2>&1
  "$vbpack" --quiet --size 96x64 --grayscale --val clip2 "$tmp/tiny/tracknetv4" -o "$tmp/g.vbp" ||
    fail "small pack"
  args="--batch 2 --threads 1 --seed 2 --quiet"
  # shellcheck disable=SC2086
  "$vbtrain" train "$tmp/g.vbp" --out "$tmp/ref" --epochs 2 $args >/dev/null || fail "vbtrain reference"
  # shellcheck disable=SC2086
  "$vbtrain" train "$tmp/g.vbp" --out "$tmp/run" --epochs 1 $args >/dev/null || fail "vbtrain epoch 1"
  cp "$tmp/run/last.state" "$tmp/state.before"
  limit=$(($(wc -c < "$tmp/run/last.state") - 1))
  status=0
  # shellcheck disable=SC2086
  prlimit --fsize="$limit" "$vbtrain" train "$tmp/g.vbp" --out "$tmp/run" --epochs 2 $args --resume \
    >/dev/null 2>"$tmp/err" || status=$?
  [ "$status" -eq 1 ] || fail "vbtrain under RLIMIT_FSIZE: exit $status: $(cat "$tmp/err")"
  [ "$(grep -c . "$tmp/err")" -eq 1 ] || fail "vbtrain: not one line: $(cat "$tmp/err")"
  grep -q "File too large" "$tmp/err" || fail "vbtrain: message: $(cat "$tmp/err")"
  cmp -s "$tmp/state.before" "$tmp/run/last.state" || fail "vbtrain: last.state changed"
  ! ls "$tmp/run" | grep -q '\.tmp\.' || fail "vbtrain: left $(ls "$tmp/run")"
  echo "disk_full: vbtrain --resume under RLIMIT_FSIZE $limit -> exit 1: $(cat "$tmp/err");" \
    "last.state unchanged"
  # shellcheck disable=SC2086
  "$vbtrain" train "$tmp/g.vbp" --out "$tmp/run" --epochs 2 $args --resume >/dev/null ||
    fail "vbtrain --resume after the disk-full failure"
  cmp -s "$tmp/ref/last.safetensors" "$tmp/run/last.safetensors" ||
    fail "vbtrain: weights after the failure differ from an uninterrupted run's"
  echo "disk_full: vbtrain --resume without the limit -> weights identical to an uninterrupted run"
fi
