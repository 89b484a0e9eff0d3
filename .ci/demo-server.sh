# Shared by .ci/browser-test and .ci/api-fuzz (sourced, not run): a Python venv with given PyPI packages,
# and a fresh small `foryou demo` on a loopback port, stopped when the calling script exits.

# python_venv NAME MODULE PACKAGE: sets $venv to a scratch venv holding PACKAGE (checked by importing MODULE).
python_venv() {
  venv="${TMPDIR:-/tmp}/$1"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv" && python3 -m venv "$venv"
    }
  fi
  "$venv/bin/python" -c "import $2" 2>/dev/null || "$venv/bin/pip" install -q "$3"
}

# start_demo: starts the debug binary that `swift test` built; sets $work, $port, $key (an admin key).
start_demo() {
  local binary
  binary="$(swift build --show-bin-path)/foryou"
  [ -x "$binary" ] || swift build --product foryou
  work="$(mktemp -d)"
  port=$((20000 + RANDOM % 20000))
  "$binary" demo --data "$work/data" --size small --port "$port" >"$work/out.txt" 2>"$work/err.txt" &
  server=$!
  trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 1 120); do
    grep -q 'fy_' "$work/out.txt" 2>/dev/null && break
    sleep 0.5
  done
  key="$(grep -o 'fy_[0-9a-f_]*' "$work/out.txt" | head -1)"
  [ -n "$key" ] || { echo "the demo did not start:"; cat "$work/err.txt"; exit 1; }
}
