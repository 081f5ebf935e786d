#!/bin/sh
# Every headline figure of docs/performance.md, each measured side by side
# with its baseline in one vbbench run.  Run on a quiet machine:
#   sh tools/bench_all.sh 2>&1 | tee out/bench_all.txt
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
data=../shared/data/tracknetv4
mkdir -p out/bench
build/tools/vbpack --quiet --force --grayscale "$data" -o out/bench/tn-gray.vbp
build/tools/vbpack --quiet --force "$data" -o out/bench/tn.vbp
echo "== packing: vbpack (2 threads) against libpng decode x cores (target >= 0.80)"
build/tools/vbbench pack "$data" --threads 2 --rounds 5
echo "== loading, gray seq 3: against the uint8->float32 ceiling (>= 50%) and PNG decoding (>= 30x)"
build/tools/vbbench loader out/bench/tn-gray.vbp --from-png "$data"
echo "== loading, RGB seq 3"
build/tools/vbbench loader out/bench/tn.vbp --from-png "$data"
echo "== training: C against PyTorch (NCHW, channels_last, channels_last with the heap kept), batch 4, seq 3 gray, 288x512, 2 threads (>= 3x)"
build/tools/vbbench train --seconds 6 --rounds 2 --torch
if command -v mpirun >/dev/null 2>&1 && build/tools/vbbench train --mpi --seconds 0.1 --height 8 \
    --width 8 --threads 1 --json | grep -q '"backend":"mpi"'; then
  echo "== scaling over MPI (docs/performance.md): 1 vs 2 ranks, 1 thread each, global batch 16"
  build/tools/vbbench train --mpi --batch 16 --threads 1 --seconds 6
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun -np 2 --oversubscribe build/tools/vbbench train --batch 16 --threads 1 --seconds 6
fi
