#!/bin/sh
# vbtrain killed with SIGKILL mid-epoch, again and again: each time
# `--resume` continues from the last checkpoint, and the run ends with
# weights byte-identical to an uninterrupted run's, and no temporary file
# ("FILE.tmp.<pid>", the one scheme of src/util/atomic.h) is left behind:
# the kills leave some, and the test plants more, named as the writers name
# them, with pids no process has.
# usage: kill_vbtrain.sh VBSAMPLE VBPACK VBTRAIN
set -eu
vbsample=$1; vbpack=$2; vbtrain=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$vbsample" --out "$tmp/src" --matches 1 --clips 3 --frames 30 --width 192 --height 128 --seed 6 \
  >/dev/null 2>&1
"$vbpack" --quiet --size 192x128 --grayscale --val clip3 "$tmp/src/tracknetv4" -o "$tmp/p.vbp"
args="--epochs 4 --seed 1 --threads 1 --quiet --checkpoint-every 3"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$vbtrain" train "$tmp/p.vbp" --out "$tmp/ref" $args >/dev/null 2>"$tmp/err" || fail "reference: $(cat "$tmp/err")"
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

kills=0; resumes=0; attempt=0; status=137
while [ "$status" -ne 0 ]; do
  attempt=$((attempt + 1))
  [ "$attempt" -le 20 ] || fail "no finished run after 20 attempts"
  resume=""
  if [ -f "$tmp/run/last.state" ]; then resume=--resume; resumes=$((resumes + 1)); fi
  if [ "$attempt" -eq 2 ]; then
    mkdir -p "$tmp/run"
    for f in last.state last.safetensors best.safetensors metrics.jsonl curve.png; do
      : > "$tmp/run/$f.tmp.99999998"
    done
  fi
  # shellcheck disable=SC2086
  "$vbtrain" train "$tmp/p.vbp" --out "$tmp/run" $args $resume >/dev/null 2>"$tmp/err" &
  pid=$!
  if [ "$attempt" -le 6 ]; then
    # Kill once this attempt has written a checkpoint (a new inode: states are renamed into
    # place), after a delay that cycles with the attempt, so each kill lands mid-run whatever
    # the machine's speed or load, and every attempt leaves progress to resume from.
    before=$(stat -c %i "$tmp/run/last.state" 2>/dev/null || echo none)
    while kill -0 "$pid" 2>/dev/null &&
          [ "$(stat -c %i "$tmp/run/last.state" 2>/dev/null || echo none)" = "$before" ]; do
      sleep 0.02
    done
    sleep "$(awk -v s="$secs" -v i="$attempt" 'BEGIN { printf "%.3f", s * 0.01 * (i % 4) }')"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  status=0
  wait "$pid" || status=$?
  case $status in
    0) ;;
    137) kills=$((kills + 1)) ;;
    *) fail "attempt $attempt ($resume): exit $status: $(cat "$tmp/err")" ;;
  esac
done
[ "$kills" -ge 3 ] || fail "only $kills kills landed"
[ "$resumes" -ge 3 ] || fail "only $resumes resumes"
for f in last.safetensors best.safetensors; do
  cmp -s "$tmp/ref/$f" "$tmp/run/$f" || fail "$f differs from the uninterrupted run's"
done
left=$(ls "$tmp/run" | grep -c '\.tmp\.' || true)
[ "$left" -eq 0 ] || fail "temporary files left in the run directory: $(ls "$tmp/run")"
echo "kill_vbtrain: $kills SIGKILLs mid-run (uninterrupted run ${secs} s), $resumes --resume," \
  "final last.safetensors and best.safetensors byte-identical to the uninterrupted run;" \
  "no temporary file left (5 planted, plus those of the kills)"
