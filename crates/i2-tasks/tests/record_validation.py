#!/usr/bin/env python3
"""Record fixtures/validation_fresh.json and fixtures/what_next.json from a FRESH reference server
(ccp4i2 3.0.1): one project, one job per task of task_lookup/, then each job's validation/,
run_time_validation/ and what_next/.

Usage: python3 record_validation.py http://127.0.0.1:PORT   (stdlib only)
"""
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

BASE = sys.argv[1].rstrip("/") + "/api/ccp4i2"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(BASE + path, data=data, method=method,
                               headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r) as f:
            return f.status, json.loads(f.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def main():
    _, project = req("POST", "/projects/", {"name": "validation", "directory": "__default__"})
    _, lookup = req("GET", "/task_lookup/")
    validation, what_next = {}, {}
    for task in sorted(lookup):
        status, created = req("POST", "/projects/%d/create_task/" % project["id"], {"task_name": task})
        if status != 200:
            print("%s: create_task -> %d (skipped)" % (task, status), file=sys.stderr)
            continue
        job = created["data"]["new_job"]["id"]
        _, v = req("GET", "/jobs/%d/validation/" % job)
        _, rv = req("GET", "/jobs/%d/run_time_validation/" % job)
        _, wn = req("GET", "/jobs/%d/what_next/" % job)
        validation[task] = {"validation": v["data"]["xml"], "run_time_validation": rv["data"]["xml"]}
        what_next[task] = wn["data"]
    src = "ccp4i2==3.0.1 reference server: "
    json.dump({"recorded_from": src + "GET jobs/{id}/validation/ and run_time_validation/ of a job freshly "
               "created with create_task", "tasks": validation},
              open(FIXTURES / "validation_fresh.json", "w"), indent=1)
    json.dump({"recorded_from": src + "GET jobs/{id}/what_next/ data of a fresh job of each task",
               "tasks": what_next}, open(FIXTURES / "what_next.json", "w"), indent=1)


if __name__ == "__main__":
    main()
