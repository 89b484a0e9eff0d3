#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Crash loop: a history checker for kill -9.
#
#   Benchmarks/faults/crash-loop.sh [CYCLES]        (default 200; CI: 10)
#
# Per cycle: start `foryou serve` on the same data folder (ready line within 20 s), 4 threads post
# batches of 100-500 events with ids unique across the run at full speed while a fifth reads feeds and
# exports (audited, so audit.jsonl is appended to), and SIGKILL the server 50-1500 ms after it is ready.
# After each restart a sample of 300 earlier acknowledged events is resent and must come back as
# duplicates. About 10% of restarts are preceded by an extra SIGKILL 0-400 ms into start-up (during the
# log replay), and about 5% by a simulated power-loss torn line appended to audit.jsonl (SIGKILL alone
# cannot tear a write), which the store must cut when it opens. Every folder ends with a last restart and
# a clean SIGTERM stop, then from foryou.sqlite: (a) every acknowledged (200) event is stored, (b) no id
# is stored twice (count(*) = count(distinct id)), (c) nothing stored was never sent, (d) `foryou audit
# verify` exits 0. Start-up replays the whole event log, so the ready time grows with it: a new data
# folder is begun after 500,000 events sent (FAULTS_MAX_EVENTS), each one checked in full.
# Prints PASS/FAIL and exits 1 on any failed check. The acknowledged and unknown-outcome ids are written
# to acknowledged.txt / unknown.txt in the work folder (kept after a FAIL, or with FAULTS_KEEP=1).
# FAULTS_SELF_TEST=lose-one checks the checker: it deletes an acknowledged row, renames one and appends a
# forged audit line before the checks, and the run must FAIL.
# Env: FORYOU_BIN, FAULTS_SEED, FAULTS_THREADS, FAULTS_KILL_MIN_MS, FAULTS_KILL_MAX_MS, FAULTS_MAX_EVENTS,
# FAULTS_STARTUP_KILLS, FAULTS_TORN_AUDIT, FAULTS_WORKDIR, FAULTS_KEEP.
set -euo pipefail
source "$(dirname "$0")/common.sh"
resolve_foryou_bin
cycles="${1:-200}"
make_workdir crash-loop
status=0
python3 "$FAULTS_DIR/crash_loop.py" "$FORYOU_BIN" "$WORKDIR" "$cycles" || status=$?
finish_workdir "$status"
exit "$status"
