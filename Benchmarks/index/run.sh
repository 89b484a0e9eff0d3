#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# One command: ForYou's HNSW index beside hnswlib on the same vectors, one thread each.
#   Benchmarks/index/run.sh [options of `foryou bench index`, e.g. --count 1000000 --datasets clustered]
# Builds the release binary, makes a scratch venv with hnswlib outside the repository if missing
# (HNSW_VENV, default /tmp/hnsw-venv), and prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -d /opt/swift/usr/bin ]; then export PATH=/opt/swift/usr/bin:$PATH; fi
venv=${HNSW_VENV:-/tmp/hnsw-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import hnswlib, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet hnswlib numpy
fi
swift build -c release --product foryou --scratch-path .build-release >&2
.build-release/release/foryou bench index --python "$venv/bin/python" --script Benchmarks/index/hnswlib_bench.py "$@"
