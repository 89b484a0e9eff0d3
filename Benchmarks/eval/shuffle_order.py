#!/usr/bin/env python3
"""Writes an interactions file whose per-user order carries nothing: each user's distinct items, in
a seeded random order, with timestamps 1e9 + position (so leave-last-out holds out a random item).

  shuffle_order.py INPUT OUTPUT [--seed 42]

INPUT: MovieLens u.data (user<TAB>item<TAB>rating<TAB>timestamp) or a CSV with user,item,timestamp.
OUTPUT: user,item,timestamp. Users are taken in the protocol's id order (integers first), items first
ordered as PROTOCOL.md orders them (timestamp, then id), then shuffled with random.Random(seed): one
generator for the whole file, so the output depends only on the input and the seed.
"""
import argparse
import csv
import random


def id_key(x):
    return (0, int(x), "") if x.lstrip("-").isdigit() else (1, 0, x)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        if path.endswith(".data"):
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 4:
                    yield parts[0], parts[1], int(parts[3])
        else:
            rows = csv.reader(f)
            header = [h.strip().lower() for h in next(rows)]
            u, i, t = header.index("user"), header.index("item"), header.index("timestamp")
            for row in rows:
                if row:
                    yield row[u], row[i], int(float(row[t]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    per_user = {}
    for user, item, timestamp in read(args.input):
        per_user.setdefault(user, []).append((timestamp, item))
    rng = random.Random(args.seed)
    with open(args.output, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["user", "item", "timestamp"])
        for user in sorted(per_user, key=id_key):
            seen, items = set(), []
            for _, item in sorted(per_user[user], key=lambda r: (r[0], id_key(r[1]))):
                if item not in seen:
                    seen.add(item)
                    items.append(item)
            rng.shuffle(items)
            for position, item in enumerate(items):
                out.writerow([user, item, 1_000_000_000 + position])


if __name__ == "__main__":
    main()
