# SPDX-License-Identifier: Apache-2.0
# Sourced by the fault scripts: finds the repository root, the foryou binary and python3.
#   FORYOU_BIN      the binary (default .build-release/release/foryou, else .build/debug/foryou,
#                   else .build/release/foryou, relative to the repository root)
#   FAULTS_WORKDIR  where runs keep their data folder and logs (default: a new folder under /tmp);
#                   removed after a PASS unless FAULTS_KEEP=1, kept after a FAIL.
FAULTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$FAULTS_DIR/../.." && pwd)"

resolve_foryou_bin() {
  local candidate
  if [ -n "${FORYOU_BIN:-}" ]; then
    candidate="$FORYOU_BIN"
  else
    for candidate in "$REPO_ROOT/.build-release/release/foryou" "$REPO_ROOT/.build/debug/foryou" \
      "$REPO_ROOT/.build/release/foryou" ""; do
      [ -x "$candidate" ] && break
    done
  fi
  if [ -z "$candidate" ] || [ ! -x "$candidate" ]; then
    echo "FAIL: no foryou binary (set FORYOU_BIN, or build one: swift build -c release --build-path .build-release)" >&2
    exit 2
  fi
  FORYOU_BIN="$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")"
  export FORYOU_BIN
}

command -v python3 >/dev/null || { echo "FAIL: python3 is needed" >&2; exit 2; }
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree

make_workdir() {
  WORKDIR="${FAULTS_WORKDIR:-$(mktemp -d "/tmp/foryou-faults-$1.XXXXXX")}"
  mkdir -p "$WORKDIR"
}

# Removes the work folder after a PASS (unless FAULTS_KEEP=1), says where it is after a FAIL.
finish_workdir() {
  local status=$1
  if [ "$status" -eq 0 ] && [ "${FAULTS_KEEP:-0}" != 1 ] && [ -z "${FAULTS_WORKDIR:-}" ]; then
    rm -rf "$WORKDIR"
  else
    echo "work folder kept: $WORKDIR (server.log, data/)"
  fi
}
