#!/usr/bin/env python3
"""Fits the `implicit` library's models on a PROTOCOL.md split and writes their test rankings.

Run in a scratch virtualenv outside the repository (pip install implicit); see BENCHMARKS.md.

  implicit_peers.py SPLIT_DIR OUT_DIR [--threads N]

SPLIT_DIR is the output of `reference_eval.py split` (fit.csv, users.txt, catalogue.txt). For each
model, writes OUT_DIR/<model>.csv (user,rank,item,score; top 20, fitted items excluded, ties by lower
item id) and prints one JSON line with the fit time; score the files with `reference_eval.py score`.
Hyperparameters are the ones PROTOCOL.md's reference table lists.
"""
import argparse, csv, json, os, time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import CosineRecommender


def id_key(x):
    return (0, int(x), "") if x.lstrip("-").isdigit() else (1, 0, x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("split")
    p.add_argument("out")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    items = [l.strip() for l in open(os.path.join(a.split, "catalogue.txt")) if l.strip()]
    users = [l.strip() for l in open(os.path.join(a.split, "users.txt")) if l.strip()]
    item_index = {i: n for n, i in enumerate(items)}
    user_index = {u: n for n, u in enumerate(users)}
    rows, cols = [], []
    with open(os.path.join(a.split, "fit.csv")) as f:
        r = csv.reader(f)
        next(r)
        for u, i, _ in r:
            rows.append(user_index[u])
            cols.append(item_index[i])
    X = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items)))
    X.sum_duplicates()
    X.data[:] = 1
    models = {
        "implicit-als": lambda: AlternatingLeastSquares(factors=64, regularization=0.01, iterations=15, alpha=5.0,
                                                        num_threads=a.threads, random_state=42),
        "implicit-bpr": lambda: BayesianPersonalizedRanking(factors=64, learning_rate=0.01, regularization=0.01,
                                                            iterations=100, num_threads=a.threads, random_state=42),
        "implicit-itemknn": lambda: CosineRecommender(K=100, num_threads=a.threads),
    }
    for name, make in models.items():
        model = make()
        start = time.perf_counter()
        model.fit(X, show_progress=False)
        fit_seconds = time.perf_counter() - start
        with open(os.path.join(a.out, name + ".csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["user", "rank", "item", "score"])
            for u in range(len(users)):
                ids, scores = model.recommend(u, X[u], N=len(items), filter_already_liked_items=True)
                order = sorted(zip(ids, scores), key=lambda t: (-float(t[1]), t[0]))[:20]
                for rank, (i, s) in enumerate(order, 1):
                    w.writerow([users[u], rank, items[i], float(s)])
        print(json.dumps({"model": name, "fit_seconds": round(fit_seconds, 3), "threads": a.threads}), flush=True)


if __name__ == "__main__":
    main()
