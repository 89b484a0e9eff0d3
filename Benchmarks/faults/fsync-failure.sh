#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# fsync failure: fsync and fdatasync fail with EIO (an LD_PRELOAD shim, fsyncfail.c, compiled here with
# cc or clang) while a trigger file exists.
#
#   Benchmarks/faults/fsync-failure.sh
#
# Phase 1: 20 batches with working fsync. Phase 2: failures on; 30 batches from 2 clients must all be
# answered 503 `unavailable` (a 200 would acknowledge an event that was never synced), probes record
# what else answers. Phase 3: failures off; ingestion must succeed again without a restart, the refused
# batches are resent. Phase 4: failures on, SIGKILL, restart without failures (rows of refused batches
# may come back from the WAL: allowed, they were never acknowledged). Phase 5: a start while fsync fails,
# then one with fsync working. At the end (server stopped): every acknowledged event stored exactly once,
# nothing stored that was never sent, `foryou audit verify` exits 0.
set -euo pipefail
source "$(dirname "$0")/common.sh"
resolve_foryou_bin
make_workdir fsync-failure
compiler=""
for candidate in cc gcc clang /opt/swift/usr/bin/clang; do
  if command -v "$candidate" >/dev/null 2>&1; then compiler="$candidate"; break; fi
done
if [ -z "$compiler" ]; then echo "fsync-failure: FAIL (no C compiler: cc, gcc or clang)"; exit 2; fi
"$compiler" -shared -fPIC -O2 -o "$WORKDIR/fsyncfail.so" "$FAULTS_DIR/fsyncfail.c" -ldl
status=0
python3 "$FAULTS_DIR/fsync_failure.py" "$FORYOU_BIN" "$WORKDIR" "$WORKDIR/fsyncfail.so" || status=$?
finish_workdir "$status"
exit "$status"
