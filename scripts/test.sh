#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
#  - a Python virtual environment with the upstream peers (ccp4i2==3.0.1, gemmi, gemmi-program,
#    psycopg2) used by the compatibility and interop tests;
#  - a running PostgreSQL (every storage test runs on SQLite and on PostgreSQL);
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

# 2. PostgreSQL.
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

# 3. The tests.
echo "== cargo test"
cargo test --workspace --all-targets --no-fail-fast -- --test-threads "${I2_TEST_THREADS:-2}"
