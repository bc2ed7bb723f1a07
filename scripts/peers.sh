#!/usr/bin/env bash
# Installs (once, cached) the Python peers the tests and benchmarks compare against:
# upstream CCP4i2 3.0.1 and gemmi. Prints the venv's python on stdout.
set -euo pipefail
CACHE=${I2_CACHE:-$HOME/.cache/i2server}
VENV=$CACHE/venv
PEERS="ccp4i2==3.0.1 gemmi gemmi-program psycopg2-binary"
mkdir -p "$CACHE"
# One installer at a time (tests and benchmarks may start together).
exec 9>"$CACHE/.peers.lock"
flock 9
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.peers" 2>/dev/null)" != "$PEERS" ]; then
  echo "== installing Python peers into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check $PEERS >&2
  echo "$PEERS" > "$VENV/.peers"
fi
echo "$VENV/bin/python"
