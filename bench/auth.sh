#!/usr/bin/env bash
# The cost of authentication: GET /projects/ requests/s with Entra ID JWT validation on
# (a fresh RS256 key set served on loopback, a valid bearer token on every request) and off
# (development mode), same binary and data, alternating runs, best of each. Target: < 10 %.
# Loopback only; every load run is bounded (BENCH_SECONDS, default 10 s; BENCH_ROUNDS, 2).
# Usage: bench/auth.sh               (writes bench/out/auth.md and prints it)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=${BENCH_CONNECTIONS:-8}
OUT=bench/out; mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
cargo build --release -q -p i2server --bin i2server --example jwt_fixture
BIN=${CARGO_TARGET_DIR:-target}/release/i2server
FIXTURE=${CARGO_TARGET_DIR:-target}/release/examples/jwt_fixture
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
PORT=18731; KEYPORT=18732
TENANT=bench-tenant; CLIENT=bench-client

wait_health() { for _ in $(seq 1 1500); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/ccp4i2/health/" && return 0; sleep 0.01; done; return 1; }
"$FIXTURE" "$T/jwks" "$TENANT" "$CLIENT"
TOKEN=$(cat "$T/jwks/token")
(cd "$T/jwks" && exec python3 -m http.server "$KEYPORT" --bind 127.0.0.1 >/dev/null 2>&1) &
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$KEYPORT/keys" && break; sleep 0.05; done

common_env() { exec env CCP4I2_HOME="$T/home" CCP4I2_DB_FILE="$T/db.sqlite3" CCP4I2_PROJECTS_DIR="$T/projects" I2SERVER_LOG=error "$@"; }
start() { # $1 = on|off
  if [ "$1" = on ]; then
    common_env CCP4I2_REQUIRE_AUTH=true AZURE_AD_TENANT_ID=$TENANT AZURE_AD_CLIENT_ID=$CLIENT \
      I2SERVER_AUTH_JWKS_URL="http://127.0.0.1:$KEYPORT/keys" \
      "$BIN" serve --port $PORT --workers 0 >>"$T/server.log" 2>&1 & PID=$!
  else
    common_env "$BIN" serve --dev --port $PORT --workers 0 >>"$T/server.log" 2>&1 & PID=$!
  fi
  wait_health
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
rps() { wrk -t2 -c"$CONNS" -d"${SECS}s" -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/ccp4i2/projects/" | awk '/Requests\/sec/ {print $2}'; }

# One project, made in development mode.
start off
curl -sf -o /dev/null -H 'content-type: application/json' -d '{"name":"bench_0","directory":"__default__"}' \
  "http://127.0.0.1:$PORT/api/ccp4i2/projects/"
stop

BEST_ON=0; BEST_OFF=0
for r in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    start $mode
    # Warm: the key set is fetched and the user recorded before the timed run.
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/ccp4i2/projects/")
    [ "$code" = 200 ] || { echo "auth $mode: GET /projects/ answered $code" >&2; cat "$T/server.log" >&2; exit 1; }
    if [ $mode = on ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/ccp4i2/projects/")
      [ "$code" = 401 ] || { echo "without a token: $code, expected 401" >&2; exit 1; }
    fi
    v=$(rps); stop
    echo "round $r, auth $mode: $v req/s" >&2
    if [ $mode = on ]; then BEST_ON=$(echo "if ($v > $BEST_ON) $v else $BEST_ON" | bc); else BEST_OFF=$(echo "if ($v > $BEST_OFF) $v else $BEST_OFF" | bc); fi
  done
done
COST=$(echo "scale=1; 100 * ($BEST_OFF - $BEST_ON) / $BEST_OFF" | bc)
{
  echo "| GET /projects/ ($(nproc) cores, wrk -t2 -c$CONNS -d${SECS}s, best of $ROUNDS, SQLite) | req/s |"
  echo "|---|---|"
  echo "| development mode (no authentication) | $BEST_OFF |"
  echo "| Entra ID JWT validated on every request (RS256) | $BEST_ON |"
  echo "| cost of authentication | $COST % (target < 10 %) |"
} | tee "$OUT/auth.md"
