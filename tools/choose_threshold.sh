#!/bin/sh
# Choose a model's detection threshold on its TRAINING clips and store it in
# the weights' metadata ("threshold"), where eval, predict and track read it
# (docs/model.md, "The detection threshold").  The val clips are not looked
# at: their metrics stay an estimate for footage the model never saw.
# Prints the train-split F1 at each candidate; the best (the lower one on a
# tie) is written into WEIGHTS in place (atomically, tensors unchanged).
# usage: tools/choose_threshold.sh PACK WEIGHTS [THREADS]   (needs build/ and /usr/bin/python3)
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: tools/choose_threshold.sh PACK WEIGHTS [THREADS]" >&2; exit 2; }
pack=$1 weights=$2 threads=${3:-$(nproc)}
best=; best_f1=-1
for t in 0.30 0.35 0.40 0.45 0.50; do
  line=$(build/tools/vbtrain eval "$pack" --weights "$weights" --split train --threshold $t \
         --tol 4 --threads "$threads" --json)
  f1=$(echo "$line" | sed -n 's/.*"f1":\([0-9.]*\).*/\1/p')
  [ -n "$f1" ] || { echo "choose_threshold: no F1 in: $line" >&2; exit 1; }
  echo "threshold $t: train F1 $f1"
  if awk -v a="$f1" -v b="$best_f1" 'BEGIN { exit !(a > b) }'; then best=$t best_f1=$f1; fi
done
/usr/bin/python3 - "$weights" "$best" <<'EOF'
import json, os, struct, sys
path, value = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    blob = f.read()
n = struct.unpack("<Q", blob[:8])[0]
head = json.loads(blob[8:8 + n])
head.setdefault("__metadata__", {})["threshold"] = value
text = json.dumps(head, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)  # the tensors stay 8-byte aligned
tmp = "%s.tmp.%d" % (path, os.getpid())
with open(tmp, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + blob[8 + n:])
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
EOF
echo "$weights: threshold $best (train F1 $best_f1)"
