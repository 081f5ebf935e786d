#!/bin/sh
# The C network's speed at an earlier commit against the working tree, per instruction set,
# runs alternating (docs/performance.md, "Every instruction set"): builds REV (portable gcc
# release) in a git worktree under out/, then for each set the CPU has runs
# `vbbench train --threads T` ROUNDS times for each side, one after the other.
#   sh tools/bench_vs.sh REV [ROUNDS] [THREADS] 2>&1 | tee out/bench_vs.txt
set -eu
cd "$(dirname "$0")/.."
rev=${1:?usage: sh tools/bench_vs.sh REV [ROUNDS] [THREADS]}
rounds=${2:-3}
threads=${3:-2}
old=out/bench_vs_$(git rev-parse --short "$rev")
[ -d "$old" ] || git worktree add --detach "$old" "$rev" >/dev/null
[ -d "$old/build" ] || meson setup "$old/build" "$old" --buildtype=release >/dev/null
ninja -C "$old/build" tools/vbbench >/dev/null
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build tools/vbbench >/dev/null
sets="generic"
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then sets="avx2 $sets"; fi
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then sets="avx512 $sets"; fi
lscpu | sed -n 's/^Model name: *//p'
echo "old: $(git log --oneline -1 "$rev")"
echo "new: $(git log --oneline -1 HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
date -u; uptime
echo "isa     side  train smp/s  infer smp/s"
for isa in $sets; do
  r=0
  while [ "$r" -lt "$rounds" ]; do
    for side in old new; do
      bin=build/tools/vbbench
      [ "$side" = old ] && bin=$old/build/tools/vbbench
      VBP_ISA=$isa $bin train --threads "$threads" --seconds 4 |
        awk -v isa="$isa" -v side="$side" '/^C \(vbp_net\)/ { printf "%-7s %-4s %12s %12s\n", isa, side, $3, $4 }'
    done
    r=$((r + 1))
  done
done
uptime
