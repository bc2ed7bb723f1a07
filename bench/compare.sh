#!/usr/bin/env bash
# Side-by-side benchmark of i2server and the reference server (upstream ccp4i2 3.0.1) on the
# same data, on this machine, in one run. Reports cold start to first healthy answer, idle
# resident memory, and GET /projects/ requests/s with 1 and with 2,000 projects, as ratios.
# Loopback only; every load run is bounded (BENCH_SECONDS, default 10 s).
# Usage: bench/compare.sh            (writes bench/out/foundation.md and prints it)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-8}
OUT=bench/out; mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
PY=$(scripts/peers.sh)
cargo build --release -q -p i2server
BIN=${CARGO_TARGET_DIR:-target}/release/i2server
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
I2PORT=18701; REFPORT=18702

now() { date +%s.%N; }
wait_health() { for _ in $(seq 1 1500); do curl -sf -o /dev/null "http://127.0.0.1:$1/api/ccp4i2/health/" && return 0; sleep 0.01; done; return 1; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# Resident memory of a process and its children (uvicorn runs in one process; kept general).
tree_rss_kib() { local total=0; for p in $1 $(pgrep -P "$1" || true); do total=$((total + $(rss_kib "$p"))); done; echo $total; }
rps() { wrk -t2 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$1/api/ccp4i2/projects/" | awk '/Requests\/sec/ {print $2}'; }

start_i2() { # $1 = sqlite file
  local t0; t0=$(now)
  CCP4I2_HOME=$T/i2home CCP4I2_DB_FILE=$1 CCP4I2_PROJECTS_DIR=$T/projects I2SERVER_LOG=warn \
    "$BIN" serve --port $I2PORT >>"$T/i2.log" 2>&1 & I2PID=$!
  wait_health $I2PORT; echo "$(now) - $t0" | bc > "$T/cold"
}
start_ref() { # $1 = sqlite file
  local t0; t0=$(now)
  (cd "$T" && CCP4I2_HOME=$T/refhome DJANGO_SETTINGS_MODULE=ccp4i2.config.settings DEBUG=True \
    DATABASE_URL=sqlite://$1 CCP4I2_PROJECTS_DIR=$T/projects \
    exec "$PY" -m uvicorn ccp4i2.config.asgi:application --host 127.0.0.1 --port $REFPORT \
      --no-access-log --log-level warning >>"$T/ref.log" 2>&1) & REFPID=$!
  wait_health $REFPORT; echo "$(now) - $t0" | bc > "$T/cold"
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

# Data: made once by i2server, then copied so each server reads identical rows.
echo "== preparing data" >&2
CCP4I2_HOME=$T/i2home CCP4I2_DB_FILE=$T/gen.sqlite3 "$BIN" migrate >/dev/null
start_i2 "$T/gen.sqlite3"
curl -sf -o /dev/null -H 'content-type: application/json' -d '{"name":"bench_0","directory":"__default__"}' http://127.0.0.1:$I2PORT/api/ccp4i2/projects/
stop $I2PID; cp "$T/gen.sqlite3" "$T/one.sqlite3"
start_i2 "$T/gen.sqlite3"
"$PY" - "$I2PORT" <<'PYEOF'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(1, 2000):
    c.request("POST", "/api/ccp4i2/projects/", json.dumps({"name": f"bench_{i}", "directory": "__default__"}), {"content-type": "application/json"})
    r = c.getresponse(); r.read(); assert r.status == 201, r.status
PYEOF
stop $I2PID; cp "$T/gen.sqlite3" "$T/many.sqlite3"

measure() { # $1 = i2|ref ; prints cold_s rss_mib rps1 rps2000
  local cold rss r1 r2 pid
  cp "$T/one.sqlite3" "$T/$1-one.sqlite3"; cp "$T/many.sqlite3" "$T/$1-many.sqlite3"
  if [ "$1" = i2 ]; then start_i2 "$T/$1-one.sqlite3"; pid=$I2PID; port=$I2PORT
  else start_ref "$T/$1-one.sqlite3"; pid=$REFPID; port=$REFPORT; fi
  cold=$(cat "$T/cold")
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/ccp4i2/projects/"; sleep 1
  rss=$(echo "scale=1; $(tree_rss_kib $pid) / 1024" | bc)
  r1=$(rps $port); stop $pid
  if [ "$1" = i2 ]; then start_i2 "$T/$1-many.sqlite3"; pid=$I2PID
  else start_ref "$T/$1-many.sqlite3"; pid=$REFPID; fi
  r2=$(rps $port); stop $pid
  echo "$cold $rss $r1 $r2"
}
# Servers run as background jobs of this shell (never inside command substitutions, which
# would wait for them); their output goes to files.
echo "== measuring i2server" >&2;  measure i2 > "$T/i2.res";  read -r I2_COLD I2_RSS I2_R1 I2_R2 < "$T/i2.res"
echo "== measuring reference" >&2; measure ref > "$T/ref.res"; read -r RF_COLD RF_RSS RF_R1 RF_R2 < "$T/ref.res"

ratio() { echo "scale=1; $1 / $2" | bc; }
ms() { echo "scale=1; $1 * 1000 / 1" | bc; }
{
  echo "| measure ($(nproc) cores, wrk -t2 -c$CONNS -d${SECS}s, SQLite) | i2server | reference 3.0.1 | ratio |"
  echo "|---|---|---|---|"
  echo "| cold start to first healthy answer | $(ms "$I2_COLD") ms | $(ms "$RF_COLD") ms | $(ratio "$RF_COLD" "$I2_COLD")× faster |"
  echo "| idle resident memory | $I2_RSS MiB | $RF_RSS MiB | $(ratio "$RF_RSS" "$I2_RSS")× smaller |"
  echo "| GET /projects/, 1 project | $I2_R1 req/s | $RF_R1 req/s | $(ratio "$I2_R1" "$RF_R1")× |"
  echo "| GET /projects/, 2,000 projects | $I2_R2 req/s | $RF_R2 req/s | $(ratio "$I2_R2" "$RF_R2")× |"
} | tee "$OUT/foundation.md"
