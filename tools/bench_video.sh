#!/bin/sh
# Packing from videos against the PNG route, and vbtrain track, side by side in one run
# (docs/performance.md, "Videos"). On a shared machine, build first (nice), then hold the
# benchmark lock so no other benchmark runs at the same time:
#   nice -n 10 ninja -C build
#   flock /tmp/vbp-bench.lock sh tools/bench_video.sh [ROUNDS] 2>&1 | tee out/bench_video.txt
# Each round runs, one after the other on the 9 clips of ../shared/data/tracknetv3-raw2
# (2,342 frames of 1280x720 H.264, 30 fps):
#   png    the shared OpenCV converter (--gray) into PNGs, then vbpack on them
#   video  vbpack straight from the videos, once per instruction set (VBP_ISA: the area
#          shrink has AVX-512, AVX2 and SSE2 kernels), the best set first
# both with --grayscale --heatmap gaussian --sigma 3, and prints wall and CPU seconds (user +
# system, children included), the load average before each, and frames per wall second and
# per CPU second.  Then it compares the two packs (tools/compare_packs.py) and tracks every clip
# with the shipped model, per instruction set (VBP_ISA), against the videos' own duration.
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-3}
for t in vbpack vbtrain; do
  [ -x "build/tools/$t" ] || { echo "build/tools/$t missing: build first (ninja -C build)"; exit 1; }
done
src=../shared/data/tracknetv3-raw2
model=models/vballnet_fastv1_gray_seq3.safetensors
out=out/bench_video
frames=2342
mkdir -p "$out"
opts="--grayscale --heatmap gaussian --sigma 3"
lscpu | sed -n 's/^Model name: *//p'
echo "cores: $(nproc); $(date -u); git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "start: $(uptime)"
# timed CMD...: "wall cpu" of CMD (user + sys; its output discarded)
timed() {
  /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" > "$out/stdout" 2> "$out/stderr" ||
    { cat "$out/stderr"; exit 1; }
  awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$out/time"
}
load() { cut -d' ' -f1 /proc/loadavg; }
sets=generic
grep -qw avx2 /proc/cpuinfo && sets="avx2 $sets"
grep -qw avx512f /proc/cpuinfo && sets="avx512 $sets"
echo "round  side           load  python_s  vbpack_s  total_s  cpu_s  frames/s  frames/cpu_s"
r=1
while [ "$r" -le "$rounds" ]; do
  rm -rf "$out/v4" "$out/png.vbp"
  l=$(load)
  py=$(timed /usr/bin/python3 ../shared/tools/videos_to_tracknetv4.py "$src" "$out/v4" --gray)
  pk=$(timed build/tools/vbpack --quiet $opts "$out/v4" -o "$out/png.vbp")
  echo "$r $l $py $pk" | awk -v n=$frames '{ w = $3 + $5; c = $4 + $6
    printf "%-6s png           %5s %9.2f %9.2f %8.2f %6.2f %9.0f %13.0f\n", $1, $2, $3, $5, w, c,
      n / w, n / c }'
  for isa in $sets; do
    rm -f "$out/video.vbp"
    l=$(load)
    vd=$(VBP_ISA=$isa timed build/tools/vbpack --quiet $opts "$src" -o "$out/video.vbp")
    echo "$r $isa $l $vd" | awk -v n=$frames '{
      printf "%-6s video %-7s %5s %9s %9.2f %8.2f %6.2f %9.0f %13.0f\n", $1, $2, $3, "-", $4, $4, $5,
        n / $4, n / $5 }'
  done
  r=$((r + 1))
done
echo "== the two packs"
/usr/bin/python3 tools/compare_packs.py "$out/png.vbp" "$out/video.vbp"
echo "== vbtrain track, the shipped model, every clip (load before each set)"
echo "isa      load  frames  video_s  wall_s  x_real_time  cpu_s  decode_s  net_s"
for isa in $sets; do
  l=$(load)
  n=0 video=0 wall=0 cpu=0 dec=0 net=0
  for v in "$src"/*.mp4; do
    c=$(VBP_ISA=$isa timed build/tools/vbtrain track "$v" --weights "$model" \
      --out "$out/track.csv" --json)
    set -- $(sed 's/[{},":]/ /g' "$out/stdout" | awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
      END { print v["frames"], v["frames"] / v["video_fps"], v["seconds"], v["decode_seconds"],
            v["net_seconds"] }') $c
    n=$((n + $1))
    set -- $(echo "$video $wall $dec $net $cpu $2 $3 $4 $5 $7" |
      awk '{ print $1 + $6, $2 + $7, $3 + $8, $4 + $9, $5 + $10 }')
    video=$1 wall=$2 dec=$3 net=$4 cpu=$5
  done
  echo "$isa $l $n $video $wall $cpu $dec $net" | awk '{
    printf "%-7s %5s %7d %8.1f %7.1f %12.2f %6.1f %9.1f %6.1f\n", $1, $2, $3, $4, $5, $4 / $5, $6, $7, $8 }'
done
v=$src/00009.mp4
echo "== with --overlay ($v, 502 frames, the best set)"
l=$(load)
build/tools/vbtrain track "$v" --weights "$model" --out "$out/track.csv" --overlay "$out/o.mp4" --json |
  sed "s/^/load $l: /"
echo "end: $(uptime)"
