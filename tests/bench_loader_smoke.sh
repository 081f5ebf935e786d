#!/bin/sh
# bench_loader_smoke.sh VBBENCH VBPACK - vbbench loader runs end to end on a
# pack of the real clips (and its PNGs) and prints the JSON fields docs quote;
# its errors are one line with a non-zero exit.  Measures nothing.
set -eu
vbbench=$1; vbpack=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/vbp-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
root="$VBP_REAL_DATA/tracknetv4"
"$vbpack" --grayscale --quiet "$root" -o "$dir/p.vbp"
"$vbbench" loader "$dir/p.vbp" --seconds 0.2 --from-png "$root" --json > "$dir/out.json" 2>/dev/null
for key in '"samples":108' '"loader":{"samples_per_s"' '"ceiling":' '"png":' '"speedup"' \
           '"peak_rss_bytes"' '"float32_bytes":132120576'; do
  grep -q "$key" "$dir/out.json" || { echo "missing $key in: $(cat "$dir/out.json")"; exit 1; }
done
"$vbbench" loader --help | grep -q -- '--from-png'
if "$vbbench" loader "$dir/p.vbp" --seq 200 > "$dir/stdout" 2> "$dir/stderr"; then
  echo "seq 200 should fail"; exit 1
fi
[ "$(wc -l < "$dir/stderr")" -eq 1 ] && grep -q "the longest has 91" "$dir/stderr" ||
  { echo "bad error: $(cat "$dir/stderr")"; exit 1; }
echo ok
