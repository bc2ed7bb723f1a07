#!/usr/bin/env python3
"""Record reference fixtures for i2-tasks (stdlib only).

Against a fresh reference server (upstream CCP4i2 3.0.1), create one project, then for every task
in task_lookup create a job and save its container JSON, def_xml and input_params.xml.

Usage: record_containers.py [BASE_URL] [--only TASK ...]
  BASE_URL defaults to http://127.0.0.1:8766 (a private second instance, not the shared one).
Writes into tests/fixtures/ next to this script.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/ccp4i2/" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    base = args[0] if args and args[0].startswith("http") else "http://127.0.0.1:8766"
    only = argv[argv.index("--only") + 1:] if "--only" in argv else None

    status, body = call(base, "GET", "task_lookup/")
    if status != 200:
        sys.exit(f"task_lookup failed: {status}")
    lookup = json.loads(body)
    dump(os.path.join(FIX, "task_lookup.json"), lookup)

    name = f"i2tasks_rec_{int(time.time())}"
    status, body = call(base, "POST", "projects/", {"name": name, "directory": "__default__"})
    if status != 201:
        sys.exit(f"project create failed: {status} {body[:200]!r}")
    project = json.loads(body)
    print("project", project["id"], project["directory"])

    failed = []
    for dirname in ("containers", "def_xml", "input_params"):
        os.makedirs(os.path.join(FIX, dirname), exist_ok=True)
    for task in sorted(lookup):
        if only and task not in only:
            continue
        status, body = call(base, "POST", f"projects/{project['id']}/create_task/", {"task_name": task})
        if status != 200:
            failed.append((task, f"create_task {status}"))
            continue
        job = json.loads(body)["data"]["new_job"]
        status, body = call(base, "GET", f"jobs/{job['id']}/container/")
        if status != 200:
            failed.append((task, f"container {status}"))
            continue
        dump(os.path.join(FIX, "containers", f"{task}.json"), json.loads(body))
        status, body = call(base, "GET", f"jobs/{job['id']}/def_xml/")
        if status == 200:
            with open(os.path.join(FIX, "def_xml", f"{task}.xml"), "w", encoding="utf-8") as f:
                f.write(json.loads(body)["data"]["xml"])
        jobdir = os.path.join(project["directory"], "CCP4_JOBS", "job_" + job["number"])
        src = os.path.join(jobdir, "input_params.xml")
        if os.path.exists(src):
            with open(src, "rb") as f, open(os.path.join(FIX, "input_params", f"{task}.xml"), "wb") as g:
                g.write(f.read())
        print("ok", task, job["id"])
    with open(os.path.join(FIX, "create_failed.txt"), "w", encoding="utf-8") as f:
        for task, why in failed:
            f.write(f"{task}\t{why}\n")
    print("failed:", failed)


if __name__ == "__main__":
    main(sys.argv[1:])
