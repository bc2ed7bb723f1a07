"""Drives one server for bench/jobs.sh: per job, create a freerflag task, upload its
F_SIGF, POST run/, poll GET jobs/{id}/ every 5 ms until Finished, and pair the times with
the runner wrapper's start/exit stamps. Prints median milliseconds:
run->start, exit->Finished visible, run->Finished visible, run->report of the finished job
received (the reference builds reports when first asked; i2server before Finished shows),
and, where the runner announces its end (i2server's done channel), announcement->Finished."""
import glob
import http.client
import json
import os
import statistics
import sys
import time
import uuid

port, stamps, jobs, root = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
mtz = os.path.join(root, "wrappers/freerflag/test_data/rnase25_fsigf.mtz")
conn = http.client.HTTPConnection("127.0.0.1", port)
POLL = float(os.environ.get("BENCH_POLL_MS", "5")) / 1000


def call(method, path, body=None, headers=None):
    conn.request(method, "/api/ccp4i2" + path, body, headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data[:1] in (b"{", b"[") else data)


def post_json(path, v):
    return call("POST", path, json.dumps(v), {"content-type": "application/json"})


def upload(job):
    b = uuid.uuid4().hex
    parts = []
    for k, v in [("object_path", "freerflag.inputData.F_SIGF"), ("column_selector", "/*/*/[F,SIGF]")]:
        parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    with open(mtz, "rb") as f:
        data = f.read()
    parts.append(f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="rnase25_fsigf.mtz"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{b}--\r\n".encode())
    st, _ = call("POST", f"/jobs/{job}/upload_file_param/", b"".join(parts),
                 {"content-type": f"multipart/form-data; boundary={b}"})
    assert st == 200, st


# The catalogue may still be loading (task routes answer 503 until then).
for _ in range(3000):
    st, _ = call("GET", "/task_lookup/")
    if st == 200:
        break
    time.sleep(0.01)
st, p = post_json("/projects/", {"name": "bench", "directory": "__default__"})
assert st == 201, (st, p)
starts, fins, totals, reports, dones = [], [], [], [], []
for i in range(jobs):
    st, r = post_json(f"/projects/{p['id']}/create_task/", {"task_name": "freerflag"})
    assert st == 200, (st, r)
    job = r["data"]["new_job"]["id"]
    upload(job)
    before = set(glob.glob(os.path.join(stamps, "start.*")))
    t_run = time.time()
    st, r = call("POST", f"/jobs/{job}/run/")
    assert st == 200, (st, r)
    while True:
        st, j = call("GET", f"/jobs/{job}/")
        if j["status"] in (5, 6):
            t_fin = time.time()
            break
        time.sleep(POLL)
    assert j["status"] == 6, f"job {job} ended with status {j['status']}"
    # What a client shows next: the finished job's report.
    st, rep = call("GET", f"/jobs/{job}/report_xml/")
    t_report = time.time()
    assert st == 200 and "CCP4i2Report" in rep["data"]["xml"], (st, str(rep)[:300])
    new = sorted(set(glob.glob(os.path.join(stamps, "start.*"))) - before)
    assert len(new) == 1, new
    pid = new[0].rsplit(".", 1)[1]
    t_start = float(open(new[0]).read())
    end_file = os.path.join(stamps, f"end.{pid}")
    for _ in range(1000):  # the reference may show Finished before its runner has exited
        if os.path.exists(end_file) and open(end_file).read().strip():
            break
        time.sleep(0.005)
    t_end = float(open(end_file).read())
    done_file = os.path.join(stamps, f"done.{pid}")  # i2server's runner announces its end
    if os.path.exists(done_file):
        dones.append((t_fin - float(open(done_file).read())) * 1000)
    starts.append((t_start - t_run) * 1000)
    fins.append((t_fin - t_end) * 1000)
    totals.append((t_fin - t_run) * 1000)
    reports.append((t_report - t_run) * 1000)
    extra = f", announced->Finished {dones[-1]:.1f} ms" if os.path.exists(done_file) else ""
    print(f"job {job}: run->start {starts[-1]:.1f} ms, exit->Finished {fins[-1]:.1f} ms, "
          f"run->Finished {totals[-1]:.1f} ms, run->report {reports[-1]:.1f} ms{extra} (runner lived {(t_end - t_start) * 1000:.0f} ms)",
          file=sys.stderr)
print(" ".join(f"{statistics.median(x):.1f}" if x else "n/a" for x in (starts, fins, totals, reports, dones)))
