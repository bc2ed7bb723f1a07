#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
#  - a Python virtual environment with the upstream peers (ccp4i2==3.0.1, gemmi, gemmi-program,
#    psycopg2, servalcat) used by the compatibility, interop and end-to-end tests;
#  - a monomer library (Debian refmac-dictionary) for the refinement test, as $CLIBD_MON;
#  - a running PostgreSQL (every storage test runs on SQLite and on PostgreSQL);
#  - Debian chromium and firefox-esr, npm playwright-core and geckodriver (crates.io) for the
#    browser tests of the built-in UI;
#  - cargo test over the whole workspace.
# Environment: I2_CACHE (default ~/.cache/i2server) holds the venv; I2_TEST_PG_URL overrides
# the PostgreSQL admin URL (tests create and drop their own databases).
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. Python peers (cached; reinstalled only when the list changes).
I2_TEST_PYTHON=$(scripts/peers.sh)
export I2_TEST_PYTHON
# The installed upstream package: task definitions and the small real data files tests use.
I2_CCP4I2_ROOT=$("$I2_TEST_PYTHON" -c 'import ccp4i2, os; print(os.path.dirname(ccp4i2.__file__))')
export I2_CCP4I2_ROOT

# 2. A monomer library for the refinement tests (servalcat and upstream's monomer checks read
#    $CLIBD_MON): the monomers from Debian's refmac-dictionary, with the link/modification list
#    and energy library that ccp4i2 ships (its own basiclib/list/mon_lib_list.cif is an empty stub).
if [ ! -d /usr/share/refmac/monomers ]; then
  echo "== installing refmac-dictionary"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q refmac-dictionary
fi
MONLIB=${I2_CACHE:-$HOME/.cache/i2server}/monlib
BASICLIB=$I2_CCP4I2_ROOT/pipelines/crank2/crank2/basiclib
mkdir -p "$MONLIB/list"
for d in /usr/share/refmac/monomers/*/; do ln -sfn "${d%/}" "$MONLIB/$(basename "$d")"; done
cp "$BASICLIB/mon_lib_list_basic.cif" "$MONLIB/list/mon_lib_list.cif"
cp "$BASICLIB/ener_lib.cif" "$MONLIB/ener_lib.cif"
export CLIBD_MON=$MONLIB/

# 3. PostgreSQL.
export I2_TEST_PG_URL=${I2_TEST_PG_URL:-postgresql://root@127.0.0.1:5432/postgres?sslmode=disable}
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "== starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "PostgreSQL is not running and pg_ctlcluster is not available; start it or set I2_TEST_PG_URL" >&2
    exit 1
  fi
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi

# 4. The browser end-to-end tests (crates/i2server/tests/ui_browser.rs, ui_firefox.rs): Debian's
#    chromium and firefox-esr, npm playwright-core (cached under $I2_CACHE/node) and geckodriver
#    from crates.io (cached under $I2_CACHE/geckodriver); each reinstalled only when missing.
#    Only what is missing is asked of apt: a Node.js from another source (e.g. NodeSource, which
#    bundles npm) conflicts with Debian's npm package.
APT_MISSING=()
[ -x /usr/bin/chromium ] || APT_MISSING+=(chromium)
[ -x /usr/bin/firefox-esr ] || APT_MISSING+=(firefox-esr)
command -v node >/dev/null || APT_MISSING+=(nodejs)
command -v npm >/dev/null || APT_MISSING+=(npm)
if [ ${#APT_MISSING[@]} -gt 0 ]; then
  echo "== installing ${APT_MISSING[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${APT_MISSING[@]}"
fi
NODE_DIR=${I2_CACHE:-$HOME/.cache/i2server}/node
if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
  echo "== installing playwright-core into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || echo '{"name":"i2server-ui-test","private":true}' > "$NODE_DIR/package.json"
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent playwright-core@1)
fi
GECKO_DIR=${I2_CACHE:-$HOME/.cache/i2server}/geckodriver
if [ ! -x "$GECKO_DIR/bin/geckodriver" ]; then
  echo "== installing geckodriver into $GECKO_DIR"
  # Built in a temporary directory of its own (not the workspace's CARGO_TARGET_DIR).
  env -u CARGO_TARGET_DIR cargo install geckodriver --version "~0.37" --locked --root "$GECKO_DIR"
fi
export I2_NODE_MODULES=$NODE_DIR/node_modules I2_CHROMIUM=/usr/bin/chromium
export I2_FIREFOX=/usr/bin/firefox-esr I2_GECKODRIVER=$GECKO_DIR/bin/geckodriver

# 5. The tests.
echo "== cargo test"
cargo test --workspace --all-targets --no-fail-fast -- --test-threads "${I2_TEST_THREADS:-2}"
