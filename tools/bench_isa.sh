#!/bin/sh
# Training and inference speed of every kernel path, against PyTorch in the same run
# (docs/performance.md, "Every instruction set").  For each set the CPU has (VBP_ISA
# forces it), `vbbench train --torch` on the portable gcc build (the default,
# -Dnative=false), then the C network alone on a -Dnative=true gcc build and a portable
# clang build.  Run on a quiet machine:
#   sh tools/bench_isa.sh 2>&1 | tee out/bench_isa.txt
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
setup() { # dir, meson args...
  dir=$1; shift
  [ -d "$dir" ] || meson setup "$dir" --buildtype=release "$@" >/dev/null
  ninja -C "$dir" >/dev/null
}
setup build
setup build-native -Dnative=true
CC=clang setup build-clang-release
sets="generic"
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then sets="avx2 $sets"; fi
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then sets="avx512 $sets"; fi
lscpu | sed -n 's/^Model name: *//p'
date -u; uptime
for isa in $sets; do
  echo "== $isa, portable gcc build (build/), with PyTorch"
  VBP_ISA=$isa build/tools/vbbench train --seconds 5 --rounds 2 --torch | tail -n 8
  echo "== $isa, -Dnative=true gcc build (build-native/)"
  VBP_ISA=$isa build-native/tools/vbbench train --seconds 5 --rounds 2 | tail -n 2
  echo "== $isa, portable clang build (build-clang-release/)"
  VBP_ISA=$isa build-clang-release/tools/vbbench train --seconds 5 --rounds 2 | tail -n 2
done
uptime
