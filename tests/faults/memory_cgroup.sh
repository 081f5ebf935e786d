#!/bin/sh
# vbtrain and the loader inside a real memory cgroup of 64 MiB with a pack of
# about 3.2 times that (docs/loading.md, "Memory limits"), each run in a
# cgroup of its own, from a cold page cache (the pack dropped from it first,
# so that its pages are charged to the cgroup that reads them):
#   - vbtrain --preload: exit 0, the note says the preload was skipped and
#     names the cgroup's limit, the epoch is trained from disk;
#   - vbtrain --disk: exit 0;
#   - vbbench loader --mode preload: exit 0, the same note;
#   - vbtrain with a batch whose network does not fit: exit 1, one line with
#     the figure, the limit and the --batch that fits; no run directory;
#   - --resume of a finished run under a 16 MiB limit: exit 1, one line, the
#     checkpoint files unchanged (bytes and modification times);
#   - vbpack from the shared videos in 80 MB (decoding ahead sized to the limit): exit 0;
# and no OOM kill in any (the cgroup's oom_kill count, and no exit 137).
# Without the limit logic, the --preload run is killed (exit 137, oom_kill 1:
# the locked pack alone exceeds the cgroup).
# cgroup v2 (memory.max, memory.events) or v1 (memory.limit_in_bytes,
# memory.oom_control), whichever hierarchy has the memory controller; a
# visible SKIPPED (exit 77) when not root or no memory cgroup can be created.
# 17-22 s alone, about a minute beside the rest of the suite on a loaded machine: two epochs
# of 978 windows each (stride 9 touches a third of the pack's frames, 69 MiB, more than the
# limit) on one network thread.
# usage: memory_cgroup.sh VBSAMPLE VBPACK VBTRAIN VBBENCH
set -eu
vbsample=$1; vbpack=$2; vbtrain=$3; vbbench=$4
skip() { echo "SKIPPED: memory_cgroup: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

. "$(dirname "$0")/../../tools/cgroup.sh"
cg_init || skip "$cg_why"
tmp=$(mktemp -d)
trap 'cg_cleanup; rm -rf "$tmp"' EXIT

# new_cgroup NAME BYTES: cg_new, or a visible skip when the hierarchy refuses.
new_cgroup() { cg_new "$@" || skip "$cg_why"; }
# in_cgroup NAME CMD...: run CMD as a member of $cg, stdout and stderr to $tmp/out-NAME and
# $tmp/err-NAME; its exit status in $status.  Killed or an OOM kill in $cg: FAIL.
in_cgroup() {
  name=$1; shift
  set +e
  cg_run "$@" >"$tmp/out-$name" 2>"$tmp/err-$name"
  status=$?
  set -e
  [ "$status" -ne 137 ] || fail "$*: killed (exit 137, oom_kill $(cg_oom_kills))"
  [ "$(cg_oom_kills)" = 0 ] || fail "$*: oom_kill $(cg_oom_kills) in $cg"
}
# The pack out of the page cache (written back first): its pages are read, and charged, again.
cold() {
  sync "$tmp/p.vbp"
  dd if="$tmp/p.vbp" iflag=nocache count=0 2>/dev/null
}

# 200 synthetic gray 128x72 frames, packed 44 times over (symlinked matches): 8800 frames, 207 MiB.
"$vbsample" --out "$tmp/src" --layout tracknetv4 --matches 1 --clips 2 --frames 100 --width 128 \
  --height 72 --gray --seed 5 >/dev/null 2>&1
mkdir "$tmp/big"
i=1
while [ "$i" -le 44 ]; do ln -s ../src/tracknetv4/match1 "$tmp/big/m$i"; i=$((i + 1)); done
"$vbpack" --quiet --size 128x72 --grayscale "$tmp/big" -o "$tmp/p.vbp"
limit=$((64 << 20))
size=$(stat -c %s "$tmp/p.vbp")
[ "$size" -gt $((3 * limit)) ] || fail "the pack ($size bytes) is not 3x the limit"
args="--seq 3 --grayscale --epochs 1 --batch 4 --stride 9 --threads 1 --seed 2"

for mode in preload disk; do
  new_cgroup "$mode" "$limit"
  cold
  # shellcheck disable=SC2086
  in_cgroup "$mode" "$vbtrain" train "$tmp/p.vbp" --out "$tmp/run-$mode" --$mode $args
  [ "$status" -eq 0 ] || fail "--$mode: exit $status: $(cat "$tmp/err-$mode")"
  grep -q "^epoch 1/1 " "$tmp/out-$mode" || fail "--$mode: no epoch line: $(cat "$tmp/out-$mode")"
  [ -f "$tmp/run-$mode/last.state" ] || fail "--$mode: no checkpoint"
done
grep -q "^preload skipped: the pack (.* MiB) does not fit .*cgroup v$cg_version memory" "$tmp/err-preload" ||
  fail "--preload: no note saying why it ran from disk: $(cat "$tmp/err-preload")"
grep -q "; disk: " "$tmp/err-preload" || fail "--preload: the note does not say disk"
if grep -q "preload skipped" "$tmp/err-disk"; then fail "--disk: a preload note"; fi
cmp -s "$tmp/run-preload/last.safetensors" "$tmp/run-disk/last.safetensors" ||
  fail "the preload run (from disk) and the disk run trained different weights"

# The loader alone (vbbench loader: the library's loader, no network).
new_cgroup loader "$limit"
cold
in_cgroup loader "$vbbench" loader "$tmp/p.vbp" --mode preload --threads 1 --seconds 0.5
[ "$status" -eq 0 ] || fail "vbbench loader: exit $status: $(cat "$tmp/err-loader")"
grep -q "preload skipped: the pack" "$tmp/out-loader" "$tmp/err-loader" ||
  fail "vbbench loader: no preload-skipped note"

# A network that does not fit: one line, exit 1, before the run directory exists.
new_cgroup arena "$limit"
# shellcheck disable=SC2086
in_cgroup arena "$vbtrain" train "$tmp/p.vbp" --out "$tmp/run-arena" $args --batch 64
[ "$status" -eq 1 ] || fail "--batch 64 in 64 MiB: exit $status, not 1: $(cat "$tmp/err-arena")"
[ "$(wc -l < "$tmp/err-arena")" -eq 1 ] || fail "--batch 64: not one line: $(cat "$tmp/err-arena")"
grep -q "^vbtrain: .*training needs .* MiB .* but this process may use .* MiB: --batch [0-9]* would fit (cgroup v$cg_version memory.*)$" \
  "$tmp/err-arena" || fail "--batch 64: unexpected line: $(cat "$tmp/err-arena")"
[ ! -e "$tmp/run-arena" ] || fail "--batch 64: the run directory was created"

# Resuming a run under a limit too small for its network: its checkpoints stay as they were.
new_cgroup resume $((16 << 20))
before=$(cd "$tmp/run-disk" && ls -l --time-style=+%s.%N && cksum ./*)
# shellcheck disable=SC2086
in_cgroup resume "$vbtrain" train "$tmp/p.vbp" --out "$tmp/run-disk" $args --epochs 2 --resume
[ "$status" -eq 1 ] || fail "--resume in 16 MiB: exit $status, not 1: $(cat "$tmp/err-resume")"
[ "$(wc -l < "$tmp/err-resume")" -eq 1 ] || fail "--resume: not one line: $(cat "$tmp/err-resume")"
grep -q "training needs" "$tmp/err-resume" || fail "--resume: $(cat "$tmp/err-resume")"
after=$(cd "$tmp/run-disk" && ls -l --time-style=+%s.%N && cksum ./*)
[ "$before" = "$after" ] || fail "--resume: the run directory changed"

# vbpack from the shared videos (9 clips of 720p H.264) in 80 MB: decoding ahead holds decoded
# frames and a second decoder, so it must size itself to the limit (src/pack/pack_build.c:
# without that, it was OOM-killed here in 2 of 2 runs).  Where the shared videos are.
videos=${VBP_REAL_DATA:-}/tracknetv3-raw2
video_note="no shared videos: vbpack from videos not run"
if [ -n "${VBP_REAL_DATA:-}" ] && [ -f "$videos/00013.mp4" ] &&
   "$vbpack" --help 2>&1 | grep -q "tracknetv3"; then
  new_cgroup videos 80000000
  in_cgroup videos "$vbpack" --quiet --grayscale "$videos" -o "$tmp/v.vbp"
  if grep -q "built without FFmpeg" "$tmp/err-videos"; then
    video_note="vbpack has no FFmpeg: vbpack from videos not run"
  else
    [ "$status" -eq 0 ] || fail "vbpack from videos in 80 MB: exit $status: $(cat "$tmp/err-videos")"
    video_note="vbpack packed the 9 videos in 80 MB"
  fi
  rm -f "$tmp/v.vbp"
fi

echo "memory_cgroup (cgroup v$cg_version under $cg_parent): pack $((size >> 20)) MiB in 64 MiB;" \
  "$video_note;" \
  "--preload and --disk trained the epoch (weights identical), the loader ran, no OOM kill;" \
  "$(sed 's/^vbtrain: [^:]*: //' "$tmp/err-arena")"
