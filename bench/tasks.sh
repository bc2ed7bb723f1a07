#!/usr/bin/env bash
# Side-by-side benchmark of the task routes of i2server and the reference server (upstream
# ccp4i2 3.0.1), on this machine, in one run, each on its own copy of the same empty database:
#  - GET /jobs/{id}/container/ requests/s for a prosmart_refmac job (wrk, BENCH_SECONDS each);
#  - POST /projects/{id}/create_task/ latency (BENCH_CREATES sequential creations of
#    prosmart_refmac, median, mean and 90th percentile, one client).
# Loopback only. Usage: bench/tasks.sh   (writes bench/out/tasks.md and prints it)
# BENCH_PYTHON: a Python with ccp4i2 3.0.1 (default: scripts/peers.sh installs one).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-8}
CREATES=${BENCH_CREATES:-40}
OUT=bench/out; mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
PY=${BENCH_PYTHON:-$(scripts/peers.sh)}
ROOT=$("$PY" -c 'import ccp4i2, os; print(os.path.dirname(ccp4i2.__file__))')
cargo build --release -q -p i2server
BIN=${CARGO_TARGET_DIR:-target}/release/i2server
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$T"' EXIT
I2PORT=${BENCH_I2_PORT:-18711}; REFPORT=${BENCH_REF_PORT:-18712}

wait_health() { for _ in $(seq 1 3000); do curl -sf -o /dev/null "http://127.0.0.1:$1/api/ccp4i2/health/" && return 0; sleep 0.01; done; return 1; }
stop() { kill "$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
i2env() { env CCP4I2_HOME=$T/i2home CCP4I2_ROOT=$ROOT CCP4I2_PYTHON=$PY CCP4I2_PROJECTS_DIR=$T/i2projects I2SERVER_LOG=warn "$@"; }

echo "== preparing" >&2
i2env CCP4I2_DB_FILE=$T/empty.sqlite3 "$BIN" migrate >/dev/null
# The class-facts cache is built once per installation (not part of the measurement).
i2env "$BIN" tasks --refresh >/dev/null
cp "$T/empty.sqlite3" "$T/i2.sqlite3"; cp "$T/empty.sqlite3" "$T/ref.sqlite3"

# Started directly (not through the i2env function) so that $! is the server itself.
env CCP4I2_HOME=$T/i2home CCP4I2_ROOT=$ROOT CCP4I2_PYTHON=$PY CCP4I2_PROJECTS_DIR=$T/i2projects I2SERVER_LOG=warn \
  CCP4I2_DB_FILE=$T/i2.sqlite3 "$BIN" serve --port $I2PORT --workers 0 >>"$T/i2.log" 2>&1 & I2PID=$!
(cd "$T" && CCP4I2_HOME=$T/refhome DJANGO_SETTINGS_MODULE=ccp4i2.config.settings DEBUG=True \
  DATABASE_URL=sqlite://$T/ref.sqlite3 CCP4I2_PROJECTS_DIR=$T/refprojects \
  exec "$PY" -m uvicorn ccp4i2.config.asgi:application --host 127.0.0.1 --port $REFPORT \
    --no-access-log --log-level warning >>"$T/ref.log" 2>&1) & REFPID=$!
wait_health $I2PORT; wait_health $REFPORT

# One project and one prosmart_refmac job on each; then the creation latencies.
"$PY" - "$I2PORT" "$REFPORT" "$CREATES" > "$T/latency" <<'PYEOF'
import http.client, json, statistics, sys, time
def post(c, path, body):
    c.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    r = c.getresponse(); data = r.read()
    assert r.status in (200, 201), (r.status, data[:300])
    return json.loads(data)
out = []
for port in sys.argv[1:3]:
    c = http.client.HTTPConnection("127.0.0.1", int(port))
    p = post(c, "/api/ccp4i2/projects/", {"name": "bench", "directory": "__default__"})
    post(c, "/api/ccp4i2/projects/%d/create_task/" % p["id"], {"task_name": "prosmart_refmac"})
    times = []
    for _ in range(int(sys.argv[3])):
        t0 = time.perf_counter()
        post(c, "/api/ccp4i2/projects/%d/create_task/" % p["id"],
             {"task_name": "prosmart_refmac", "auto_context": False})
        times.append(time.perf_counter() - t0)
    times.sort()
    out += [statistics.median(times) * 1000, statistics.mean(times) * 1000,
            times[int(0.9 * (len(times) - 1))] * 1000]
print(" ".join("%.2f" % x for x in out))
PYEOF
read -r I2_MED I2_MEAN I2_P90 RF_MED RF_MEAN RF_P90 < "$T/latency"
# Job 1 is the prosmart_refmac job on both; its container must be the same shape.
curl -sf "http://127.0.0.1:$I2PORT/api/ccp4i2/jobs/1/container/" | grep -q '"prosmart_refmac' 
curl -sf "http://127.0.0.1:$REFPORT/api/ccp4i2/jobs/1/container/" | grep -q '"prosmart_refmac'
rps() { wrk -t2 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$1/api/ccp4i2/jobs/1/container/" | awk '/Requests\/sec/ {print $2}'; }
echo "== GET container/ on i2server" >&2; I2_RPS=$(rps $I2PORT)
echo "== GET container/ on the reference" >&2; RF_RPS=$(rps $REFPORT)
stop $I2PID; stop $REFPID

ratio() { echo "scale=1; $1 / $2" | bc; }
{
  echo "| measure ($(nproc) cores, SQLite, loopback) | i2server | reference 3.0.1 | ratio |"
  echo "|---|---|---|---|"
  echo "| GET /jobs/{id}/container/ (prosmart_refmac), wrk -t2 -c$CONNS -d${SECS}s | $I2_RPS req/s | $RF_RPS req/s | $(ratio "$I2_RPS" "$RF_RPS")× |"
  echo "| POST create_task prosmart_refmac, median of $CREATES | $I2_MED ms | $RF_MED ms | $(ratio "$RF_MED" "$I2_MED")× faster |"
  echo "| POST create_task prosmart_refmac, mean of $CREATES | $I2_MEAN ms | $RF_MEAN ms | $(ratio "$RF_MEAN" "$I2_MEAN")× faster |"
  echo "| POST create_task prosmart_refmac, 90th percentile of $CREATES | $I2_P90 ms | $RF_P90 ms | $(ratio "$RF_P90" "$I2_P90")× faster |"
} | tee "$OUT/tasks.md"
