#!/usr/bin/env bash
# Installs (once, cached) the Python peers the tests and benchmarks compare against:
# upstream CCP4i2 3.0.1, gemmi, and servalcat (the refinement program upstream's servalcat
# tasks run), and pycep-parser (a Bicep grammar: tests/deploy_templates.rs parses the Azure
# templates with it, as no Bicep compiler can be installed here). Prints the venv's python on stdout.
set -euo pipefail
CACHE=${I2_CACHE:-$HOME/.cache/i2server}
VENV=$CACHE/venv
PEERS="ccp4i2==3.0.1 gemmi gemmi-program psycopg2-binary servalcat pycep-parser==0.7.1"
mkdir -p "$CACHE"
# One installer at a time (tests and benchmarks may start together).
exec 9>"$CACHE/.peers.lock"
flock 9
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
# A changed list is installed into the existing venv (other test runs may be using it).
if [ "$(cat "$VENV/.peers" 2>/dev/null)" != "$PEERS" ]; then
  echo "== installing Python peers into $VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check $PEERS >&2
  echo "$PEERS" > "$VENV/.peers"
fi
echo "$VENV/bin/python"
