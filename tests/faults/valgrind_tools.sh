#!/bin/sh
# valgrind memcheck on the tools, on tiny inputs: success paths (both
# layouts, raw and lz4, gray and RGB, every vbdump command) and failure
# paths (existing target, corrupt and truncated packs, a missing pack), and
# with VBTRAIN, instead, vbtrain train / --resume / eval / predict / plot on a 96x64 pack (two
# meson tests, so that they run side by side: each is a long row of single-threaded valgrind runs).
# Any memcheck error or definite/indirect leak fails the test.
# usage: valgrind_tools.sh VALGRIND VBSAMPLE VBPACK VBDUMP [VBTRAIN]
set -eu
valgrind=$1; vbsample=$2; vbpack=$3; vbdump=$4; vbtrain=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
runs=0

vg() { # expected-exit command...
  want=$1; shift
  runs=$((runs + 1))
  status=0
  "$valgrind" -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --log-file="$tmp/vg.log" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  if [ "$status" -eq 99 ] || [ -s "$tmp/vg.log" ]; then
    cat "$tmp/vg.log"
    fail "memcheck: $*"
  fi
  [ "$status" -eq "$want" ] || fail "exit $status (want $want): $* : $(cat "$tmp/err")"
}

"$vbsample" --out "$tmp/src" --matches 1 --clips 2 --frames 6 --width 96 --height 64 --seed 2 \
  >/dev/null 2>&1
p=$tmp/a.vbp
if [ -z "$vbtrain" ]; then
  vg 0 "$vbpack" --quiet --size 96x64 --threads 2 "$tmp/src/tracknetv4" -o "$p"
  vg 0 "$vbpack" --quiet --size 96x64 --grayscale --codec lz4 --val match1_clip2 --json \
    "$tmp/src/vballnet" -o "$tmp/b.vbp"
  vg 1 "$vbpack" --quiet --size 96x64 "$tmp/src/tracknetv4" -o "$p"          # exists
  vg 1 "$vbpack" --quiet --size 32x32 "$tmp/src/tracknetv4" -o "$tmp/c.vbp"  # wrong size
  vg 2 "$vbpack" --bogus
  for pc in "$p clip1" "$tmp/b.vbp match1_clip2"; do
    pack=${pc% *}; clip=${pc#* }
    vg 0 "$vbdump" info "$pack" --json
    vg 0 "$vbdump" info "$pack" --seq 9
    vg 0 "$vbdump" clips "$pack"
    vg 0 "$vbdump" frames "$pack" "$clip" --json
    vg 0 "$vbdump" verify "$pack"
    vg 0 "$vbdump" export "$pack" "$clip" 2 -o "$tmp/x"
  done
  head -c 5000 "$p" > "$tmp/short.vbp"
  vg 1 "$vbdump" verify "$tmp/short.vbp"
  cp "$p" "$tmp/flip.vbp"
  printf 'X' | dd of="$tmp/flip.vbp" bs=1 seek=20000 conv=notrunc 2>/dev/null
  vg 1 "$vbdump" verify "$tmp/flip.vbp"
  vg 1 "$vbdump" info "$tmp/none.vbp"
else
  vg 0 "$vbtrain" --help
  "$vbpack" --quiet --size 96x64 --grayscale --val clip2 "$tmp/src/tracknetv4" -o "$tmp/g.vbp"
  head -c 5000 "$tmp/g.vbp" > "$tmp/short.vbp"
  vg 0 "$vbtrain" train "$tmp/g.vbp" --out "$tmp/run" --epochs 1 --batch 2 --threads 1 --quiet
  vg 0 "$vbtrain" train "$tmp/g.vbp" --out "$tmp/run" --epochs 2 --batch 2 --threads 1 --quiet --resume
  vg 0 "$vbtrain" eval "$tmp/g.vbp" --weights "$tmp/run/last.safetensors" --threads 1 --json
  vg 0 "$vbtrain" predict "$tmp/g.vbp" --weights "$tmp/run/last.safetensors" --out "$tmp/pred" \
    --threads 1
  vg 1 "$vbtrain" train "$tmp/g.vbp" --out "$tmp/run" --epochs 1 --threads 1 --quiet  # exists
  vg 1 "$vbtrain" eval "$tmp/short.vbp" --weights "$tmp/run/last.safetensors"
  # issue 12: fine-tuning with binary targets and augmentations, overlays, the learning curve
  vg 0 "$vbtrain" train "$tmp/g.vbp" --out "$tmp/ft" --epochs 1 --batch 2 --threads 1 --quiet \
    --init "$tmp/run/last.safetensors" --target binary --brightness 0.2 --contrast 0.2 --shift 3
  vg 0 "$vbtrain" predict "$tmp/g.vbp" --weights "$tmp/ft/last.safetensors" --out "$tmp/pred" \
    --overlay "$tmp/ov" --threads 1
  vg 0 "$vbtrain" plot "$tmp/run"
  mkdir -p "$tmp/badrun" && echo 'not json' > "$tmp/badrun/metrics.jsonl"
  vg 1 "$vbtrain" plot "$tmp/badrun"
  vg 1 "$vbtrain" train "$tmp/g.vbp" --out "$tmp/ft2" --init "$tmp/run/metrics.jsonl" --quiet
fi
echo "valgrind_tools: $runs tool runs under memcheck, no errors, no leaks"
