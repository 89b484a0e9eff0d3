#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Disk full: the data folder on a small tmpfs that fills up.
#
#   sudo Benchmarks/faults/disk-full.sh            (needs root for mount; FAULTS_TMPFS_SIZE, default 16m)
#
# Starts `foryou serve` on a 16 MiB tmpfs and ingests 20,000 events. Round 1: a ballast file leaves 1 MiB
# free, ingestion goes on until answers turn into errors (then 20 more batches), and the probes record
# what answers while full (healthz, feeds, preview, profile, export, metrics, item upsert, one event);
# the ballast is deleted and ingestion must succeed again without a restart. Round 2: ingestion alone
# fills the tmpfs, which is then grown with `mount -o remount,size=64m`. Batches refused while full are
# resent. Checks: errors are 503 `unavailable` (507 tolerated) with a message, no other 5xx, healthz 200
# while full, recovery without restart, then (server stopped) every acknowledged event stored once,
# nothing unknown stored, the audit log verifies, and the server restarts.
set -euo pipefail
source "$(dirname "$0")/common.sh"
resolve_foryou_bin
if [ "$(id -u)" != 0 ]; then echo "disk-full: FAIL (needs root to mount a tmpfs)"; exit 2; fi
make_workdir disk-full
size="${FAULTS_TMPFS_SIZE:-16m}"
mnt="$WORKDIR/mnt"
mkdir -p "$mnt"
cleanup() { umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
mount -t tmpfs -o "size=$size" tmpfs "$mnt"
status=0
python3 "$FAULTS_DIR/disk_full.py" "$FORYOU_BIN" "$WORKDIR" "$mnt" "$size" || status=$?
if [ "$status" -ne 0 ]; then cp -r "$mnt/data" "$WORKDIR/data-copy" 2>/dev/null || true; fi
cleanup
finish_workdir "$status"
exit "$status"
