#!/usr/bin/env bash
# One command for the offline comparison: ForYou and the peers (implicit, EASE, LightFM), side by side in
# the same run, on the same PROTOCOL.md split, every list scored by the reference evaluator.
#
#   Benchmarks/eval.sh [DATA] [PEER_PYTHON]
#
# DATA defaults to ../shared/data/ml-100k/u.data. PEER_PYTHON is a Python with `implicit` (and
# optionally `lightfm`) installed, in a scratch virtualenv outside the repository:
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install implicit setuptools wheel cython
#   /tmp/peers/bin/pip install --no-build-isolation lightfm
# Without it the peers are skipped. ALL_MODELS=1 adds each of ForYou's models alone (foryou recommend
# --model NAME). Every row: fit seconds as the model reports them, peak resident memory of its process.
# Needs a release build: swift build -c release --product foryou (or FORYOU=path/to/foryou).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/ml-100k/u.data}
peers=${2:-}
reference=../shared/eval/reference_eval.py
foryou=${FORYOU:-.build/release/foryou}
# The recommend log (what ForYou chose, and why) is kept when RECOMMEND_LOG names a file.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

python3 "$reference" split "$data" --out "$out/split" >/dev/null
# Each model runs in its own process under /usr/bin/time, so its peak resident memory is its own
# (for the peers it includes the Python interpreter and numpy, about 60 MB).
measure() { /usr/bin/time -f %M -o "$out/$1.kb" "${@:2}"; }
# ForYou as outsiders call it: trained on fit.csv alone (train + validation), ranked for every user.
measure foryou-recommend "$foryou" recommend --interactions "$out/split/fit.csv" --users "$out/split/users.txt" --count 20 \
  --output "$out/foryou-recommend.csv" 2>"$out/recommend.log"
fit=$(sed -n 's/^fit seconds: \([0-9.]*\).*/\1/p' "$out/recommend.log")
[ -n "${RECOMMEND_LOG:-}" ] && cp "$out/recommend.log" "$RECOMMEND_LOG"
echo "{\"model\": \"foryou-recommend\", \"fit_seconds\": $fit, \"threads\": 2}" >"$out/times.jsonl"
# With ALL_MODELS=1, each of ForYou's models alone too (the learned blend's parts, and the classics).
singles=""
if [ -n "${ALL_MODELS:-}" ]; then
  singles="dlae ease rp3beta slit als transitions itemknn bpr popular"
  for name in $singles; do
    measure "foryou-$name" "$foryou" recommend --model "$name" --interactions "$out/split/fit.csv" --users "$out/split/users.txt" \
      --count 20 --output "$out/foryou-$name.csv" 2>"$out/$name.log"
    fit=$(sed -n 's/^fit seconds: \([0-9.]*\).*/\1/p' "$out/$name.log")
    echo "{\"model\": \"foryou-$name\", \"fit_seconds\": $fit, \"threads\": 2}" >>"$out/times.jsonl"
  done
fi
if [ -n "$peers" ]; then
  for name in implicit-als implicit-bpr implicit-itemknn ease-500 lightfm-warp; do
    measure "$name" "$peers" Benchmarks/peers/peers.py "$out/split" "$out" --threads 2 --only "$name" 2>/dev/null >>"$out/times.jsonl" || true
  done
fi
python3 - "$out" "$reference" $singles <<'PY'
import json, subprocess, sys, os
out, reference, singles = sys.argv[1], sys.argv[2], sys.argv[3:]
times = {json.loads(l)["model"]: json.loads(l) for l in open(os.path.join(out, "times.jsonl"))}
print("| model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | Coverage@10 | fit s | peak MiB | threads |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
names = ["foryou-recommend"] + ["foryou-" + s for s in singles] + ["implicit-als", "implicit-bpr", "implicit-itemknn", "ease-500", "lightfm-warp"]
for name in names:
    path = os.path.join(out, name + ".csv")
    if not os.path.exists(path):
        continue
    m = json.loads(subprocess.check_output(["python3", reference, "score", os.path.join(out, "split"), path]))
    t = times.get(name, {})
    cells = [m["Recall@10"], m["NDCG@10"], m["Recall@20"], m["NDCG@20"], m["Coverage@10"]]
    kb = os.path.join(out, name + ".kb")
    peak = int(open(kb).read().split()[-1]) / 1024 if os.path.exists(kb) else 0
    print(f"| {name} | " + " | ".join(f"{c:.4f}" for c in cells) + f" | {t.get('fit_seconds', 0):.2f} | {peak:.0f} | {t.get('threads', '')} |")
PY
