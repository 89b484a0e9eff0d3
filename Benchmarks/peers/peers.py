#!/usr/bin/env python3
"""Fits the peers (the `implicit` library's models, EASE in numpy, and LightFM's WARP when it is installed) on a
PROTOCOL.md split and writes their test rankings.

Run in a scratch virtualenv outside the repository (pip install implicit; LightFM needs
pip install setuptools wheel cython && pip install --no-build-isolation lightfm); see BENCHMARKS.md.

  peers.py SPLIT_DIR OUT_DIR [--threads N]

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
    p.add_argument("--only", help="fit this one model alone (its own process, so its peak memory is its own)")
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
        if a.only and a.only != name:
            continue
        model = make()
        start = time.perf_counter()
        model.fit(X, show_progress=False)
        fit_seconds = time.perf_counter() - start
        write(a, name, users, items, lambda u: model.recommend(u, X[u], N=len(items), filter_already_liked_items=True))
        print(json.dumps({"model": name, "fit_seconds": round(fit_seconds, 3), "threads": a.threads}), flush=True)
    if a.only and a.only != "ease-500":
        return lightfm(a, X, users, items)
    # EASE (Steck 2019) in numpy, λ = 500 as in PROTOCOL.md's table: the closed form, float64.
    start = time.perf_counter()
    gram = (X.T @ X).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += 500.0
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    fit_seconds = time.perf_counter() - start

    def ease_top(u):
        scores = np.asarray(X[u] @ weights).ravel()
        scores[X[u].indices] = -np.inf
        return np.arange(len(items)), scores

    write(a, "ease-500", users, items, ease_top)
    print(json.dumps({"model": "ease-500", "fit_seconds": round(fit_seconds, 3), "threads": a.threads}), flush=True)
    lightfm(a, X, users, items)


def lightfm(a, X, users, items):
    if a.only and a.only != "lightfm-warp":
        return
    try:
        from lightfm import LightFM
    except ImportError:
        return
    model = LightFM(no_components=64, learning_rate=0.05, loss="warp", random_state=42)
    start = time.perf_counter()
    model.fit(X.tocoo(), epochs=30, num_threads=a.threads)
    fit_seconds = time.perf_counter() - start
    all_items = np.arange(len(items), dtype=np.int32)

    def lightfm_top(u):
        scores = model.predict(u, all_items, num_threads=1)
        scores[X[u].indices] = -np.inf
        return all_items, scores

    write(a, "lightfm-warp", users, items, lightfm_top)
    print(json.dumps({"model": "lightfm-warp", "fit_seconds": round(fit_seconds, 3), "threads": a.threads}), flush=True)


def write(a, name, users, items, top):
    """Writes each user's top 20 (seen items already filtered by `top`), ties by lower item index."""
    with open(os.path.join(a.out, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "rank", "item", "score"])
        for u in range(len(users)):
            ids, scores = top(u)
            order = sorted(((i, s) for i, s in zip(ids, scores) if np.isfinite(s)), key=lambda t: (-float(t[1]), t[0]))[:20]
            for rank, (i, s) in enumerate(order, 1):
                w.writerow([users[u], rank, items[i], float(s)])


if __name__ == "__main__":
    main()
