#!/bin/sh
# vbpack killed with SIGKILL at moments spread over its run: nothing but a whole
# pack ever appears at the target path (nothing at all when killed before its
# rename); every temporary file a killed run leaves is
# reported and removed by a later run (the next one that gets that far),
# none is left at the end, and the final pack verifies.  Then with --force
# over an existing pack: a killed run leaves the old pack byte for byte (or,
# killed after its rename, the whole new one).
# usage: kill_vbpack.sh VBSAMPLE VBPACK VBDUMP [ROUNDS]
set -eu
vbsample=$1; vbpack=$2; vbdump=$3; rounds=${4:-12}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$vbsample" --out "$tmp/src" --matches 1 --clips 2 --frames 60 --seed 3 >/dev/null 2>&1
mkdir "$tmp/out"
out=$tmp/out/p.vbp
# one uninterrupted run sets the time scale of the kills
start=$(date +%s.%N)
"$vbpack" --quiet --threads 1 "$tmp/src/tracknetv4" -o "$out" || fail "uninterrupted run"
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
rm "$out"
killed=0; late=0; finished=0; i=0
while [ "$i" -lt "$rounds" ]; do
  i=$((i + 1))
  "$vbpack" --quiet --threads 1 "$tmp/src/tracknetv4" -o "$out" 2>"$tmp/err.$i" &
  pid=$!
  # kill moments spread evenly over 0 .. 0.8 of the uninterrupted run's time
  sleep "$(awk -v s="$secs" -v i="$i" -v n="$rounds" 'BEGIN { printf "%.3f", 0.8 * s * (i - 1) / n }')"
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  if [ "$status" -eq 137 ] && [ -e "$out" ]; then
    # killed after the rename, on the way out (an ASan build's exit-time leak check takes a
    # while): then the pack at the target must be whole
    late=$((late + 1))
    "$vbdump" verify "$out" >/dev/null 2>&1 || fail "round $i: killed, and $out is not a whole pack"
    rm -f "$out"
  elif [ "$status" -eq 137 ]; then
    killed=$((killed + 1))
  elif [ "$status" -eq 0 ]; then
    finished=$((finished + 1))
    "$vbdump" verify "$out" >/dev/null 2>&1 || fail "round $i: finished pack does not verify"
    rm -f "$out"
  else
    fail "round $i: exit $status: $(cat "$tmp/err.$i")"
  fi
  ls "$tmp/out" | grep '^p\.vbp\.tmp\.[0-9]*$' >> "$tmp/seen" || true
done
[ "$killed" -ge $((rounds / 2)) ] || fail "only $killed of $rounds runs were killed mid-way"
"$vbpack" --quiet "$tmp/src/tracknetv4" -o "$out" 2>"$tmp/err.final" || fail "final run: $(cat "$tmp/err.final")"
cat "$tmp"/err.* | sed -n "s|^vbpack: removed $tmp/out/\(.*\), left by an interrupted run\$|\1|p" | sort > "$tmp/reported"
sort -u "$tmp/seen" > "$tmp/left"
left=$(wc -l < "$tmp/left"); reported=$(wc -l < "$tmp/reported")
[ "$left" -ge 1 ] || fail "no kill landed after the temporary file was created"
cmp -s "$tmp/left" "$tmp/reported" || fail "left: $(cat "$tmp/left"); reported: $(cat "$tmp/reported")"
[ "$(ls "$tmp/out")" = "p.vbp" ] || fail "after the final run: $(ls "$tmp/out")"
"$vbdump" verify "$out" >/dev/null 2>&1 || fail "final pack does not verify"
# --force over an existing pack (a different one: gray): killed, the old one stays intact
"$vbpack" --quiet --grayscale "$tmp/src/tracknetv4" -o "$tmp/old.vbp"
cp "$tmp/old.vbp" "$out"
forced=0; i=0
while [ "$i" -lt 4 ]; do
  i=$((i + 1))
  "$vbpack" --quiet --threads 1 --force "$tmp/src/tracknetv4" -o "$out" 2>/dev/null &
  pid=$!
  sleep "$(awk -v s="$secs" -v i="$i" 'BEGIN { printf "%.3f", 0.15 * s * i }')"
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 137 ] || continue
  if cmp -s "$tmp/old.vbp" "$out"; then
    forced=$((forced + 1))
  else # killed after its rename: the new pack, whole
    "$vbdump" verify "$out" >/dev/null 2>&1 ||
      fail "--force run $i killed: neither the old pack nor a whole new one at the target"
    cp "$tmp/old.vbp" "$out"
  fi
done
[ "$forced" -ge 2 ] || fail "only $forced --force runs were killed mid-way"
echo "kill_vbpack: $rounds runs (uninterrupted: $secs s), $killed killed with SIGKILL (never a file at the target)," \
  "$late killed after their rename (a whole pack at the target), $finished finished; $left temporary files left by killed runs, all $reported reported and" \
  "removed by later runs; $forced runs with --force killed, the old pack intact each time"
