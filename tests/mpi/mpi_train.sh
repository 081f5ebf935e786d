#!/bin/sh
# Data-parallel training over MPI (docs/training.md, "Training on a cluster"),
# on a tiny synthetic pack, 2 ranks oversubscribed on this machine:
#  1. mpirun -np 2, global batch 8, 2 epochs equals one process with
#     --batch 8 --accumulate 2 (the same parts, BatchNorm per part) to 1e-5
#     relative (in practice bit for bit), and 2 ranks x --accumulate 2 equals
#     --accumulate 4; 4 ranks against --accumulate 4 and the distance to plain
#     --batch 8 (BatchNorm over all 8, a real difference) are printed.
#  2. resume across rank counts: 2 ranks then 1 process, 1 process (stopped
#     mid-epoch) then 2 ranks, both equal to an uninterrupted run.
#  3. kill -9 of rank 1 mid-training: mpirun ends non-zero within 30 s naming
#     the dead rank (no hang); --resume then finishes the run, equal to an
#     uninterrupted one.
#  4. mpirun -np 2 vbbench train: rank 0 reports the two ranks' samples/s.
# usage: mpi_train.sh MPIRUN PYTHON VBSAMPLE VBPACK VBTRAIN VBBENCH
set -eu
mpirun=$1; py=$2; vbsample=$3; vbpack=$4; vbtrain=$5; vbbench=$6
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Open MPI refuses root without these; one thread per rank on 2 shared cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
# In an ASan build, LeakSanitizer is off for the ranks: Open MPI's initialisation leaks by design.
mpin() { n=$1; shift; ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$mpirun" -np "$n" --oversubscribe "$@"; }
mpi2() { mpin 2 "$@"; }
diff_ok() { "$py" "$here/st_diff.py" "$1" "$2" 1e-5 || fail "$3: $1 and $2 differ by more than 1e-5"; }

# 3 clips of 24 frames at 128x72: 2 train (44 windows: 6 steps of 8, the last of 4), 1 val.
"$vbsample" --out "$tmp/s" --width 128 --height 72 --gray --matches 1 --clips 3 --frames 24 \
  --seed 1 >/dev/null 2>&1
"$vbpack" --quiet "$tmp/s/vballnet" -o "$tmp/p.vbp" --grayscale --size 128x72 --val match1_clip3
args="--batch 8 --seed 3 --threads 1 --quiet"
run1() { out=$1; shift; "$vbtrain" train "$tmp/p.vbp" --out "$tmp/$out" $args "$@" >/dev/null 2>"$tmp/err" \
  || fail "vbtrain $out: $(cat "$tmp/err")"; }
run2() { out=$1; shift; mpi2 "$vbtrain" train "$tmp/p.vbp" --out "$tmp/$out" $args "$@" >/dev/null \
  2>"$tmp/err" || fail "mpirun vbtrain $out: $(cat "$tmp/err")"; }

# 1. equivalence
run1 acc --epochs 2 --accumulate 2
run2 mpi --epochs 2
echo "2 ranks vs 1 process --accumulate 2: $("$py" "$here/st_diff.py" "$tmp/mpi/last.safetensors" "$tmp/acc/last.safetensors")"
diff_ok "$tmp/mpi/last.safetensors" "$tmp/acc/last.safetensors" "2 ranks vs --accumulate 2"
cmp -s "$tmp/mpi/last.safetensors" "$tmp/acc/last.safetensors" && echo "  (bit for bit)"
l1=$(sed -n 's/.*"train_loss":\([0-9.e-]*\).*/\1/p' "$tmp/acc/metrics.jsonl" | tr '\n' ' ')
l2=$(sed -n 's/.*"train_loss":\([0-9.e-]*\).*/\1/p' "$tmp/mpi/metrics.jsonl" | tr '\n' ' ')
[ "$l1" = "$l2" ] || fail "train losses differ: '$l1' vs '$l2'"
[ "$(wc -l < "$tmp/mpi/metrics.jsonl")" -eq 2 ] || fail "rank 0 should write 2 metrics lines"
# 2 ranks x 2 parts sum as (p0+p1)+(p2+p3), as 1 process x 4 does (step.c: a pairwise tree)
run1 acc4 --epochs 2 --accumulate 4
run2 mpi22 --epochs 2 --accumulate 2
diff_ok "$tmp/mpi22/last.safetensors" "$tmp/acc4/last.safetensors" "2 ranks x 2 vs --accumulate 4"
# 4 ranks: equal too where the allreduce sums as a tree (Open MPI's recursive doubling); printed
mpin 4 "$vbtrain" train "$tmp/p.vbp" --out "$tmp/mpi4" $args --epochs 2 \
  >/dev/null 2>"$tmp/err" || fail "mpirun -np 4: $(cat "$tmp/err")"
echo "4 ranks vs 1 process --accumulate 4: $("$py" "$here/st_diff.py" "$tmp/mpi4/last.safetensors" "$tmp/acc4/last.safetensors")"
run1 plain --epochs 2
plain=$("$py" "$here/st_diff.py" "$tmp/mpi/last.safetensors" "$tmp/plain/last.safetensors")
echo "2 ranks vs 1 process plain --batch 8 (BatchNorm over 8, not 2 x 4): $plain"
cmp -s "$tmp/mpi/last.safetensors" "$tmp/plain/last.safetensors" && fail "BN per rank should differ from plain batch 8"

# 2. resume with another number of ranks
run1 ref4 --epochs 4 --accumulate 2
cp -r "$tmp/mpi" "$tmp/r21"
run1 r21 --epochs 4 --accumulate 2 --resume
diff_ok "$tmp/r21/last.safetensors" "$tmp/ref4/last.safetensors" "2 ranks then 1 process"
run1 r12 --epochs 4 --accumulate 2 --stop-after 9
run2 r12 --epochs 4 --resume
diff_ok "$tmp/r12/last.safetensors" "$tmp/ref4/last.safetensors" "1 process (stopped mid-epoch) then 2 ranks"
[ "$(wc -l < "$tmp/r12/metrics.jsonl")" -eq 4 ] || fail "resumed run: metrics.jsonl should have 4 lines"
echo "resume 2 -> 1 and 1 -> 2 ranks: equal to an uninterrupted run"

# 3. a rank killed mid-training
VBP_MPI_TEST=$tmp mpi2 "$vbtrain" train "$tmp/p.vbp" --out "$tmp/kill" $args --epochs 4 \
  --checkpoint-every 4 >/dev/null 2>"$tmp/kill.err" &
job=$!
i=0
while [ ! -f "$tmp/kill/last.state" ]; do
  i=$((i + 1)); [ "$i" -le 600 ] || fail "no checkpoint after 30 s"; sleep 0.05
done
victim=""
for p in $(pgrep -x vbtrain); do # rank 1 of this job only (VBP_MPI_TEST marks it), not another run's
  env=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null || true)
  echo "$env" | grep -qx "VBP_MPI_TEST=$tmp" && echo "$env" | grep -qx 'OMPI_COMM_WORLD_RANK=1' \
    && victim=$p
done
[ -n "$victim" ] || fail "rank 1 not found"
kill -KILL "$victim"
i=0
while kill -0 "$job" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 300 ]; then kill -KILL "$job"; fail "mpirun still running 30 s after rank 1 was killed"; fi
  sleep 0.1
done
status=0; wait "$job" || status=$?
[ "$status" -ne 0 ] || fail "mpirun exited 0 after a rank was killed"
grep -q "rank 1" "$tmp/kill.err" || fail "mpirun did not name the dead rank: $(cat "$tmp/kill.err")"
echo "killed rank 1: mpirun exit $status after $((i / 10)).$((i % 10)) s: $(grep 'rank 1' "$tmp/kill.err" | head -n 1)"
run2 kill --epochs 4 --resume
diff_ok "$tmp/kill/last.safetensors" "$tmp/ref4/last.safetensors" "killed and resumed"
echo "ok: --resume after the kill ends equal to an uninterrupted run"

# 4. the benchmark over 2 ranks (a smoke test: one JSON line from rank 0, no timing asserted)
line=$(mpi2 "$vbbench" train --batch 4 --threads 1 --seconds 0.5 --height 72 --width 128 --json) \
  || fail "mpirun vbbench train failed"
echo "vbbench over 2 ranks: $line"
[ "$(echo "$line" | grep -c '"ranks":2,')" -eq 1 ] || fail "vbbench: not one line with ranks 2: $line"
echo "$line" | grep -q '"train_sps":[0-9]' || fail "vbbench: no samples/s: $line"
