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
# Without it the peers are skipped.
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
# ForYou as outsiders call it: trained on fit.csv alone (train + validation), ranked for every user.
"$foryou" recommend --interactions "$out/split/fit.csv" --users "$out/split/users.txt" --count 20 \
  --output "$out/foryou-recommend.csv" 2>"$out/recommend.log"
fit=$(sed -n 's/^fit seconds: \([0-9.]*\).*/\1/p' "$out/recommend.log")
[ -n "${RECOMMEND_LOG:-}" ] && cp "$out/recommend.log" "$RECOMMEND_LOG"
echo "{\"model\": \"foryou-recommend\", \"fit_seconds\": $fit, \"threads\": 2}" >"$out/times.jsonl"
if [ -n "$peers" ]; then
  "$peers" Benchmarks/peers/peers.py "$out/split" "$out" --threads 2 2>/dev/null >>"$out/times.jsonl"
fi
python3 - "$out" "$reference" <<'PY'
import json, subprocess, sys, os
out, reference = sys.argv[1], sys.argv[2]
times = {json.loads(l)["model"]: json.loads(l) for l in open(os.path.join(out, "times.jsonl"))}
print("| model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | Coverage@10 | fit s | threads |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name in ["foryou-recommend", "implicit-als", "implicit-bpr", "implicit-itemknn", "ease-500", "lightfm-warp"]:
    path = os.path.join(out, name + ".csv")
    if not os.path.exists(path):
        continue
    m = json.loads(subprocess.check_output(["python3", reference, "score", os.path.join(out, "split"), path]))
    t = times.get(name, {})
    cells = [m["Recall@10"], m["NDCG@10"], m["Recall@20"], m["NDCG@20"], m["Coverage@10"]]
    print(f"| {name} | " + " | ".join(f"{c:.4f}" for c in cells) + f" | {t.get('fit_seconds', 0):.2f} | {t.get('threads', '')} |")
PY
