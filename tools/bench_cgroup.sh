#!/bin/sh
# Training throughput with the pack 3 times larger than a memory cgroup's limit (--disk, from a
# cold page cache) against the same pack fully cached (--preload, no limit), alternating in one
# run, ROUNDS of each (docs/performance.md, "Memory limit").  Root and a writable memory cgroup
# (tools/cgroup.sh).  One epoch per run; each line is vbtrain's epoch JSON with the case, the
# load average before the run and the cgroup's peak usage and OOM kills.
# usage: sh tools/bench_cgroup.sh PACK [ROUNDS [LIMIT_MIB [vbtrain train options...]]]
#   default: 2 rounds, LIMIT = a third of the pack, --seq 3 --grayscale --batch 4
set -eu
[ $# -ge 1 ] || { echo "usage: sh tools/bench_cgroup.sh PACK [ROUNDS [LIMIT_MIB [OPTIONS...]]]" >&2; exit 2; }
pack=$1; rounds=${2:-2}
size=$(stat -c %s "$pack")
limit_mib=${3:-$((size / 3 >> 20))}
[ $# -le 3 ] || shift 3
[ $# -ge 3 ] || set -- --seq 3 --grayscale --batch 4
cd "$(dirname "$0")/.."
vbtrain=build/tools/vbtrain
[ -x "$vbtrain" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
. tools/cgroup.sh
cg_init || { echo "bench_cgroup: $cg_why" >&2; exit 1; }
out=$(mktemp -d)
trap 'cg_cleanup; rm -rf "$out"' EXIT
echo "pack $pack: $((size >> 20)) MiB; limit $limit_mib MiB (cgroup v$cg_version); $(nproc) cores;" \
  "vbtrain train $* --epochs 1"
load() { cut -d' ' -f1-3 /proc/loadavg; }
r=1
while [ "$r" -le "$rounds" ]; do
  # Fully cached: the pack populated (and locked) by --preload, no limit.
  l=$(load)
  "$vbtrain" train "$pack" --out "$out/cached$r" --epochs 1 --preload --json --quiet "$@" \
    > "$out/cached$r.json"
  echo "round $r cached (--preload, no limit), load $l: $(cat "$out/cached$r.json")"
  # Disk mode inside the limit, from a cold page cache.
  cg_new "disk$r" $((limit_mib << 20)) || { echo "bench_cgroup: $cg_why" >&2; exit 1; }
  sync "$pack"
  dd if="$pack" iflag=nocache count=0 2>/dev/null
  l=$(load)
  cg_run "$vbtrain" train "$pack" --out "$out/disk$r" --epochs 1 --disk --json --quiet "$@" \
    > "$out/disk$r.json"
  echo "round $r disk in $limit_mib MiB, cold, load $l: $(cat "$out/disk$r.json")" \
    "peak $(( $(cg_peak) >> 20 )) MiB, oom_kill $(cg_oom_kills)"
  r=$((r + 1))
done
