#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# The hnswlib side of `foryou bench index`: reads the vectors, queries and exact top-k that the Swift
# command wrote (.npy), builds an hnswlib "ip" index with the same M and efConstruction on one thread,
# prints its build time as one JSON line, then answers requests on stdin, one per line: "EF LAPS" runs
# one timed pass over all the queries, LAPS times over, at that efSearch and prints {"seconds", "recall"}
# as one JSON line.
# The Swift command alternates these passes with its own, so both libraries are timed under the same
# conditions on a shared machine. Run by the Swift command with the interpreter of a scratch venv (see
# run.sh); hnswlib is never vendored into the repository.
import argparse
import json
import sys
import time

import hnswlib
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, help="folder with vectors.npy, queries.npy, truth.npy")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    vectors = np.load(f"{args.dir}/vectors.npy")
    queries = np.load(f"{args.dir}/queries.npy")
    truth = np.load(f"{args.dir}/truth.npy")[:, : args.k]
    count, dimension = vectors.shape

    index = hnswlib.Index(space="ip", dim=dimension)
    index.set_num_threads(1)
    start = time.perf_counter()
    index.init_index(max_elements=count, M=args.m, ef_construction=args.ef_construction, random_seed=args.seed)
    index.add_items(vectors, np.arange(count), num_threads=1)
    build = time.perf_counter() - start
    answer({"library": f"hnswlib {getattr(hnswlib, '__version__', '')}".strip(), "buildSeconds": build})

    for line in sys.stdin:
        ef, laps = (int(value) for value in line.split())
        index.set_ef(max(ef, args.k))
        start = time.perf_counter()
        for _ in range(laps):
            labels, _ = index.knn_query(queries, k=args.k, num_threads=1)
        seconds = time.perf_counter() - start
        hits = sum(len(set(found.tolist()) & set(expected.tolist())) for found, expected in zip(labels, truth))
        answer({"seconds": seconds, "recall": hits / truth.size})


def answer(payload):
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
