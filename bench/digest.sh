#!/usr/bin/env bash
# Side-by-side digest benchmark of i2server and the reference server (upstream ccp4i2 3.0.1),
# through HTTP, on this machine, in one run: GET /files/{id}/digest/ of a ~1.4 MB MTZ
# (brap_pk_6A.mtz) and a ~0.85 MB PDB (ghcp4i_67_buccaneer_refmac1.pdb), both shipped in the
# ccp4i2 package, uploaded through upload_file_param/ as a client would; requests/s and mean
# latency with wrk, as ratios. Then the peak resident memory while digesting generated MTZ
# files of growing size (gemmi writes them; 1.4 MB to ~90 MB): i2server streams reflections,
# so its peak should not grow with the file.
# Loopback only; every load run is bounded (BENCH_SECONDS, default 10 s).
# Usage: bench/digest.sh            (writes bench/out/digest.md and prints it)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-2}
OUT=bench/out; mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
PY=$(scripts/peers.sh)
PKG=$("$PY" -c 'import ccp4i2,os;print(os.path.dirname(ccp4i2.__file__))')
cargo build --release -q -p i2server
BIN=${CARGO_TARGET_DIR:-target}/release/i2server
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
I2PORT=${BENCH_I2_PORT:-18863}; REFPORT=${BENCH_REF_PORT:-18864}
for p in $I2PORT $REFPORT; do
  if curl -s -o /dev/null "http://127.0.0.1:$p/"; then echo "port $p is in use: set BENCH_I2_PORT / BENCH_REF_PORT" >&2; exit 1; fi
done
MTZ=$PKG/wrappers/pointless/test_data/brap_pk_6A.mtz
PDB=$PKG/wrappers/edstats/test_data/ghcp4i_67_buccaneer_refmac1.pdb

wait_health() { for _ in $(seq 1 3000); do curl -sf -o /dev/null "http://127.0.0.1:$1/api/ccp4i2/health/" && return 0; sleep 0.02; done; return 1; }
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

start_i2() {
  CCP4I2_HOME=$T/i2home CCP4I2_DB_FILE=$T/i2.sqlite3 CCP4I2_PROJECTS_DIR=$T/i2projects \
    CCP4I2_PYTHON=$PY I2SERVER_LOG=warn DATA_UPLOAD_MAX_MEMORY_SIZE=400000000 \
    "$BIN" serve --port $I2PORT --workers 0 >>"$T/i2.log" 2>&1 & PID=$!
  wait_health $I2PORT
}
start_ref() {
  # The reference runs on a schema made by i2server (the same schema; see bench/compare.sh).
  [ -f "$T/ref.sqlite3" ] || CCP4I2_HOME=$T/i2home CCP4I2_DB_FILE=$T/ref.sqlite3 "$BIN" migrate >/dev/null
  (cd "$T" && CCP4I2_HOME=$T/refhome DJANGO_SETTINGS_MODULE=ccp4i2.config.settings DEBUG=True \
    DATABASE_URL=sqlite://$T/ref.sqlite3 CCP4I2_PROJECTS_DIR=$T/refprojects \
    DATA_UPLOAD_MAX_MEMORY_SIZE=400000000 \
    exec "$PY" -m uvicorn ccp4i2.config.asgi:application --host 127.0.0.1 --port $REFPORT \
      --no-access-log --log-level warning >>"$T/ref.log" 2>&1) & PID=$!
  wait_health $REFPORT
}

# upload PORT TASK OBJECT_PATH FILE -> prints the new File id (a new job each time)
upload() {
  "$PY" - "$@" <<'PYEOF'
import http.client, json, pathlib, sys, time, uuid
port, task, object_path, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
def call(method, url, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, "/api/ccp4i2" + url, body, headers or {})
    r = c.getresponse(); data = r.read()
    return r.status, json.loads(data or b"null")
st, projects = call("GET", "/projects/")
pid = next((p["id"] for p in projects if p["name"] == "bench"), None)
if pid is None:
    st, p = call("POST", "/projects/", json.dumps({"name": "bench", "directory": "__default__"}),
                 {"content-type": "application/json"})
    assert st == 201, (st, p); pid = p["id"]
for _ in range(600):  # the task catalogue may still be loading (503)
    st, created = call("POST", f"/projects/{pid}/create_task/", json.dumps({"task_name": task}),
                       {"content-type": "application/json"})
    if st != 503: break
    time.sleep(0.5)
assert st == 200, (st, created)
job = created["data"]["new_job"]["id"]
b = uuid.uuid4().hex
body = (f'--{b}\r\nContent-Disposition: form-data; name="object_path"\r\n\r\n{object_path}\r\n'
        f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        'Content-Type: application/octet-stream\r\n\r\n').encode() + path.read_bytes() + f"\r\n--{b}--\r\n".encode()
st, up = call("POST", f"/jobs/{job}/upload_file_param/", body, {"content-type": f"multipart/form-data; boundary={b}"})
assert st == 200, (st, up)
st, files = call("GET", f"/files/?job={job}")
print(files[-1]["id"])
PYEOF
}

# wrk on one digest URL: prints "req/s mean_latency_ms"
load() {
  wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$1/api/ccp4i2/files/$2/digest/" > "$T/wrk.txt"
  local rps lat
  rps=$(awk '/Requests\/sec/ {print $2}' "$T/wrk.txt")
  lat=$(awk '$1 == "Latency" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v; exit}' "$T/wrk.txt")
  grep -q "Non-2xx" "$T/wrk.txt" && { echo "non-2xx answers digesting file $2 on port $1" >&2; cat "$T/wrk.txt" >&2; exit 1; }
  echo "$rps $lat"
}

# Generated MTZ files of growing size (P 1, H K L + 4 data columns, random values).
echo "== generating MTZ files of growing size" >&2
SIZES="50000 400000 1600000 3200000"
for n in $SIZES; do
  "$PY" - "$n" "$T/grow_$n.mtz" <<'PYEOF'
import sys, gemmi, numpy as np
n = int(sys.argv[1]); rng = np.random.default_rng(1)
m = gemmi.Mtz(with_base=True)
m.spacegroup = gemmi.SpaceGroup("P 1"); m.set_cell_for_all(gemmi.UnitCell(90, 100, 110, 90, 95, 90))
m.add_dataset("grow")
for label, kind in [("F", "F"), ("SIGF", "Q"), ("FREER", "I"), ("FC", "F")]:
    m.add_column(label, kind)
side = int(round(n ** (1 / 3))) + 2
h, k, l = np.meshgrid(np.arange(1, side), np.arange(0, side), np.arange(0, side), indexing="ij")
hkl = np.stack([h.ravel(), k.ravel(), l.ravel()], axis=1)[:n].astype(np.float32)
data = np.column_stack([hkl, rng.uniform(1, 1000, (len(hkl), 1)), rng.uniform(0.1, 10, (len(hkl), 1)),
                        rng.integers(0, 20, (len(hkl), 1)), rng.uniform(1, 1000, (len(hkl), 1))]).astype(np.float32)
m.set_data(data); m.write_to_file(sys.argv[2])
PYEOF
done

measure() { # $1 = i2|ref ; writes $T/$1.res and $T/$1.grow
  if [ "$1" = i2 ]; then start_i2; port=$I2PORT; else start_ref; port=$REFPORT; fi
  local pid=$PID
  local mtz_id pdb_id
  mtz_id=$(upload $port tableone tableone.inputData.UNMERGED "$MTZ")
  pdb_id=$(upload $port coordinate_selector coordinate_selector.inputData.XYZIN "$PDB")
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/ccp4i2/files/$mtz_id/digest/"
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/ccp4i2/files/$pdb_id/digest/"
  echo "$(load $port "$mtz_id") $(load $port "$pdb_id")" > "$T/$1.res"
  : > "$T/$1.grow"
  for n in $SIZES; do
    local id before peak bytes
    id=$(upload $port splitMtz splitMtz.inputData.HKLIN "$T/grow_$n.mtz")
    sleep 0.5
    echo 5 > "/proc/$pid/clear_refs"   # reset the peak (VmHWM) to the current RSS
    before=$(kib "$pid" VmRSS)
    curl -sf -o /dev/null "http://127.0.0.1:$port/api/ccp4i2/files/$id/digest/"
    peak=$(kib "$pid" VmHWM)
    bytes=$(stat -c %s "$T/grow_$n.mtz")
    echo "$n $bytes $before $peak" >> "$T/$1.grow"
  done
  stop "$pid"
}
echo "== measuring i2server" >&2;  measure i2
echo "== measuring reference" >&2; measure ref
read -r I2_MR I2_ML I2_PR I2_PL < "$T/i2.res"
read -r RF_MR RF_ML RF_PR RF_PL < "$T/ref.res"

ratio() { echo "scale=1; $1 / $2" | bc; }
mib() { printf "%.1f" "$(echo "scale=3; $1 / 1024" | bc)"; }
{
  echo "Digest through HTTP ($(nproc) cores, wrk -t1 -c$CONNS -d${SECS}s, SQLite, $(date -u +%F))"
  echo
  echo "| GET /files/{id}/digest/ | i2server | reference 3.0.1 | ratio |"
  echo "|---|---|---|---|"
  echo "| $(basename "$MTZ") ($(( $(stat -c %s "$MTZ") / 1024 )) KiB) | $I2_MR req/s, ${I2_ML} ms | $RF_MR req/s, ${RF_ML} ms | $(ratio "$I2_MR" "$RF_MR")× |"
  echo "| $(basename "$PDB") ($(( $(stat -c %s "$PDB") / 1024 )) KiB) | $I2_PR req/s, ${I2_PL} ms | $RF_PR req/s, ${RF_PL} ms | $(ratio "$I2_PR" "$RF_PR")× |"
  echo
  echo "Peak resident memory while digesting one generated MTZ (VmHWM reset before the request; growth = peak − resident before):"
  echo
  echo "| reflections | file | i2server peak (growth) | reference peak (growth) |"
  echo "|---|---|---|---|"
  paste -d' ' "$T/i2.grow" "$T/ref.grow" | while read -r n bytes b1 p1 _ _ b2 p2; do
    echo "| $n | $(mib $((bytes / 1024))) MiB | $(mib "$p1") MiB (+$(mib $((p1 - b1))) MiB) | $(mib "$p2") MiB (+$(mib $((p2 - b2))) MiB) |"
  done
} | tee "$OUT/digest.md"
