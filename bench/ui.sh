#!/usr/bin/env bash
# Built-in UI benchmark: server render time and page weight of each page with 2,000 projects
# and one project of 1,000 jobs (900 top-level, 100 sub-jobs), on SQLite, loopback only.
# Each page is requested BENCH_REQUESTS times (default 40) one after another; the table gives
# the median and 95th-percentile time to the last byte and the page's size, plain and gzip.
# Usage: bench/ui.sh      (writes bench/out/ui.md and prints it; BENCH_BIN=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REQUESTS:-40}
OUT=bench/out; mkdir -p "$OUT"
# BENCH_BIN: measure this binary instead of building the release one (e.g. a quick check).
if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; else
  cargo build --release -q -p i2server
  BIN=${CARGO_TARGET_DIR:-target}/release/i2server
fi
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
PORT=${BENCH_PORT:-18703}
# The task catalogue (job form, task chooser) comes from the upstream package of the peers' venv.
PY=${CCP4I2_PYTHON:-$(scripts/peers.sh)}
CCP4I2_HOME=$T/home CCP4I2_PYTHON=$PY I2SERVER_LOG=warn "$BIN" serve --port "$PORT" --workers 0 >>"$T/server.log" 2>&1 &
for _ in $(seq 1 500); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/ccp4i2/health/" && break; sleep 0.02; done
for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/ccp4i2/task_lookup/" && break; sleep 0.3; done
KIND=$(case "$BIN" in *release*) echo "release build";; *) echo "binary $BIN";; esac)

python3 - "$PORT" "$N" "$OUT/ui.md" "$KIND" <<'PY'
import gzip, http.client, json, statistics, sys, time
port, n, out, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port)

def call(method, path, body=None, headers=None):
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    return r.status, data

t0 = time.time()
for i in range(2000):
    s, d = call("POST", "/api/ccp4i2/projects/", {"name": f"bench_{i:04d}", "directory": "__default__"})
    assert s == 201, (s, d)
pid = json.loads(d)["id"]
for i in range(1, 901):
    s, d = call("POST", "/api/ccp4i2/jobs/", {"project": pid, "number": str(i), "title": f"job {i}", "task_name": "freerflag"})
    assert s == 201, (s, d)
    if i <= 100:
        s, d = call("POST", "/api/ccp4i2/jobs/", {"project": pid, "number": f"{i}.1", "title": f"sub-job of {i}", "task_name": "freerflag"})
        assert s == 201, (s, d)
s, d = call("POST", f"/api/ccp4i2/projects/{pid}/create_task/", {"task_name": "freerflag"})
assert s == 200, (s, d)
job = json.loads(d)["data"]["new_job"]["id"]
setup = time.time() - t0

pages = [
    ("projects page (2,000 projects, page 1 of 40)", "/ui/projects/"),
    ("projects page, search", "/ui/projects/?q=bench_19"),
    ("projects page, last page", "/ui/projects/?page=40"),
    ("project page (1,000 jobs, page 1 of 18)", f"/ui/projects/{pid}/"),
    ("project job table fragment (live refresh)", f"/ui/projects/{pid}/jobs/"),
    ("project page, last page", f"/ui/projects/{pid}/?page=18"),
    ("job page (freerflag: parameter form)", f"/ui/jobs/{job}/"),
    ("task chooser", f"/ui/projects/{pid}/tasks/"),
    ("ui.js", "/ui/static/ui.js"),
    ("ui.css", "/ui/static/ui.css"),
    ("for scale: JSON GET /api/ccp4i2/projects/ (all 2,000)", "/api/ccp4i2/projects/"),
]
rows = []
for label, path in pages:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        s, body = call("GET", path)
        times.append((time.perf_counter() - t) * 1000)
        assert s == 200, (path, s, body[:200])
    gz = len(gzip.compress(body))
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    rows.append(f"| {label} | `{path}` | {statistics.median(times):.1f} | {p95:.1f} | {len(body)/1024:.1f} | {gz/1024:.1f} |")

md = [
    "# Built-in UI: render time and page weight",
    "",
    f"SQLite, {kind}, loopback, {n} sequential requests per page; data set up through the API in {setup:.0f} s:",
    "2,000 projects, and one project with 1,001 jobs (900 top-level, 100 sub-jobs, and a freerflag job). Time is to the last byte",
    "(the server renders the whole page before sending it). Pages show at most 50 projects or 50 top-level jobs.",
    "",
    "| page | path | median ms | p95 ms | KiB | KiB gzip |",
    "|---|---|---:|---:|---:|---:|",
    *rows,
    "",
]
open(out, "w").write("\n".join(md))
print("\n".join(md))
PY
