#!/usr/bin/env bash
# Side-by-side job latency of i2server and the reference server (upstream ccp4i2 3.0.1), on
# this machine, in one run, running the same real job (freerflag on rnase25_fsigf.mtz) with
# the same upstream runner and Python:
#   1. POST jobs/{id}/run/  ->  the job's process starts (also shown above the machine's
#      floor: a bare posix_spawn of a small static program, bench/spawn_floor.c)
#   2. the job's process exits  ->  Finished visible through GET jobs/{id}/ (negative when
#      Finished shows first: the reference shows it before the outputs are in; i2server once
#      the runner has announced on its done channel that outputs, KPIs and report are
#      written), and for i2server: the runner's announcement  ->  Finished visible
#   3. POST run/  ->  Finished visible
#   4. POST run/  ->  the finished job's report received (GET report_xml/ once Finished shows:
#      what a client waits for; the reference builds a report when first asked, i2server
#      builds it in the runner's interpreter before Finished shows)
# The runner's Python is a small compiled wrapper (bench/stamp.c, built here with cc, named
# "ccp4-python", which the reference server prefers on PATH; i2server gets it as
# CCP4I2_PYTHON) that stamps the wall clock when a run_job process starts and when its
# Python exits, then passes the exit code on. (A bash wrapper did this until its own 1.5-5 ms
# start-up, paid by both servers, turned out to dominate i2server's figure.) The client polls
# the job every 5 ms. Each server runs BENCH_JOBS jobs (default 5); medians are reported.
# The reference runs jobs as a detached `run_job_safe.sh` subprocess per run/ (its "local"
# mode, see reference-server.md); i2server queues in the database and an embedded worker
# (serve --workers 1) starts the runner.
# Usage: bench/jobs.sh            (writes bench/out/jobs.md and prints it; I2SERVER_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${BENCH_JOBS:-5}
OUT=bench/out; mkdir -p "$OUT"
PY=$(scripts/peers.sh)
ROOT=$("$PY" -c 'import ccp4i2, os; print(os.path.dirname(ccp4i2.__file__))')
if [ -n "${I2SERVER_BIN:-}" ]; then BIN=$I2SERVER_BIN  # e.g. a debug build, for a quick look
else cargo build --release -q -p i2server; BIN=${CARGO_TARGET_DIR:-target}/release/i2server; fi
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
I2PORT=18731; REFPORT=18732
mkdir -p "$T/bin" "$T/stamps"
# Static when the C library allows it: no dynamic loading before the start stamp.
STAMP_DEFS=(-DREAL_PYTHON="\"$PY\"" -DSTAMP_DIR="\"$T/stamps\"")
cc -O2 -static "${STAMP_DEFS[@]}" -o "$T/bin/ccp4-python" bench/stamp.c 2>/dev/null ||
  cc -O2 "${STAMP_DEFS[@]}" -o "$T/bin/ccp4-python" bench/stamp.c

# The floor under the first figure: a bare posix_spawn of a small static program
# (bench/spawn_floor.c), measured here, now: 5 ms after the previous start, as a job's start
# follows the client's upload by a few milliseconds (the figure used below); back to back,
# and after 1 s idle, for scale (sleeping cores make this machine's starts slower).
cc -O2 -static -o "$T/spawn_floor" bench/spawn_floor.c 2>/dev/null ||
  cc -O2 -o "$T/spawn_floor" bench/spawn_floor.c
FLOOR=$("$T/spawn_floor" 15 5)
FLOOR_TIGHT=$("$T/spawn_floor" 15 0)
FLOOR_IDLE=$("$T/spawn_floor" 5 1000)

wait_health() { for _ in $(seq 1 1500); do curl -sf -o /dev/null "http://127.0.0.1:$1/api/ccp4i2/health/" && return 0; sleep 0.01; done; return 1; }
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

echo "== i2server" >&2
CCP4I2_HOME=$T/i2home CCP4I2_DB_FILE=$T/i2.sqlite3 "$BIN" migrate >/dev/null
CCP4I2_HOME=$T/i2home CCP4I2_DB_FILE=$T/i2.sqlite3 CCP4I2_PROJECTS_DIR=$T/i2projects \
  CCP4I2_PYTHON=$T/bin/ccp4-python CCP4I2_ROOT=$ROOT I2SERVER_LOG=warn \
  "$BIN" serve --port $I2PORT --workers 1 >>"$T/i2.log" 2>&1 & I2PID=$!
wait_health $I2PORT
"$PY" bench/jobs_driver.py "$I2PORT" "$T/stamps" "$JOBS" "$ROOT" > "$T/i2.res"
stop $I2PID
rm -f "$T"/stamps/*

echo "== reference" >&2
CCP4I2_HOME=$T/refhome CCP4I2_DB_FILE=$T/ref.sqlite3 "$BIN" migrate >/dev/null
(cd "$T" && CCP4I2_HOME=$T/refhome DJANGO_SETTINGS_MODULE=ccp4i2.config.settings DEBUG=True \
  DATABASE_URL=sqlite://$T/ref.sqlite3 CCP4I2_PROJECTS_DIR=$T/refprojects PATH="$T/bin:$PATH" \
  exec "$PY" -m uvicorn ccp4i2.config.asgi:application --host 127.0.0.1 --port $REFPORT \
    --no-access-log --log-level warning >>"$T/ref.log" 2>&1) & REFPID=$!
wait_health $REFPORT
"$PY" bench/jobs_driver.py "$REFPORT" "$T/stamps" "$JOBS" "$ROOT" > "$T/ref.res"
stop $REFPID

read -r I_START I_FIN I_TOTAL I_REP I_DONE < "$T/i2.res"
read -r R_START R_FIN R_TOTAL R_REP R_DONE < "$T/ref.res"
above() { "$PY" -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$1" "$FLOOR"; }
ratio() { "$PY" -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.1f}x' if b > 0 and a > 0 else 'n/a')" "$1" "$2"; }
{
  echo "| median of $JOBS freerflag jobs ($(nproc) cores, SQLite, one worker) | i2server | reference 3.0.1 | reference / i2server |"
  echo "|---|---|---|---|"
  echo "| POST run/ -> job process started | $I_START ms | $R_START ms | $(ratio "$R_START" "$I_START") |"
  echo "| the same above the machine's spawn floor ($FLOOR ms, see below) | $(above "$I_START") ms | $(above "$R_START") ms | $(ratio "$(above "$R_START")" "$(above "$I_START")") |"
  echo "| job process exited -> Finished visible | $I_FIN ms | $R_FIN ms | $(ratio "$R_FIN" "$I_FIN") |"
  echo "| runner announced its end (outputs, KPIs, report written) -> Finished visible | $I_DONE ms | $R_DONE (no such signal) | n/a |"
  echo "| POST run/ -> Finished visible | $I_TOTAL ms | $R_TOTAL ms | $(ratio "$R_TOTAL" "$I_TOTAL") |"
  echo "| POST run/ -> finished job's report received | $I_REP ms | $R_REP ms | $(ratio "$R_REP" "$I_REP") |"
  echo
  echo "Spawn floor: median of 15 posix_spawn starts of a small static program, each 5 ms after the"
  echo "previous one (bench/spawn_floor.c): what any server pays to start a process on this machine"
  echo "a few milliseconds after its last work, as between a job's upload and its run/. Back to back:"
  echo "$FLOOR_TIGHT ms; after 1 s idle: $FLOOR_IDLE ms."
} | tee "$OUT/jobs.md"
