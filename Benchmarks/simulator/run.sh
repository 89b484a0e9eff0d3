#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# One command: the closed-loop simulator, ForYou with online learning vs the same models refit hourly
# vs the popularity (non-profiled) feed.
#
#   bash Benchmarks/simulator/run.sh [--quick] [--seed N] [other options of closed_loop.py, see --help]
#
# Simulated users with hidden, drifting interests watch their feed and send what they did through the
# public API; per arm a fresh `foryou serve` (free port, fresh data folder, --train-every 0 so that only
# the simulator trains) is started, the simulation runs, the server is stopped. Prints a Markdown table:
# watch time and items per session, like rate, new users' swipes until their feed matches their hidden
# interests, wall time. A full run takes a few minutes on 2 cores; --quick about half a minute.
# Env: FORYOU_BIN (default .build-release/release/foryou), SIM_WORKDIR (default: a new folder under
# /tmp, removed after a successful run unless SIM_KEEP=1; each arm's server.log is in it).
# The binary is copied into the work folder first, so a rebuild during the run cannot mix two builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || { echo "FAIL: python3 is needed" >&2; exit 2; }
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
bin="${FORYOU_BIN:-.build-release/release/foryou}"
if [ ! -x "$bin" ]; then
    echo "FAIL: no foryou binary at $bin (set FORYOU_BIN, or build one: swift build -c release --product foryou --scratch-path .build-release)" >&2
    exit 2
fi
workdir="${SIM_WORKDIR:-$(mktemp -d /tmp/foryou-sim.XXXXXX)}"
mkdir -p "$workdir"
cp "$bin" "$workdir/foryou"
keep=()
if [ "${SIM_KEEP:-0}" = 1 ]; then keep=(--keep); fi
status=0
python3 Benchmarks/simulator/closed_loop.py --bin "$workdir/foryou" --workdir "$workdir" --label "$bin" ${keep[@]+"${keep[@]}"} "$@" || status=$?
if [ "$status" -eq 0 ] && [ "${SIM_KEEP:-0}" != 1 ] && [ -z "${SIM_WORKDIR:-}" ]; then
    rm -rf "$workdir"
else
    echo "work folder kept: $workdir (per arm: server.log$( [ "${SIM_KEEP:-0}" = 1 ] && echo ", data/" ))" >&2
fi
exit "$status"
