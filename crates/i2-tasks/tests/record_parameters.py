#!/usr/bin/env python3
"""Record set_parameter / get_parameter exchanges with a reference server (stdlib only).

For each task below: create a job, pick control parameters of each scalar kind from its container
JSON, send valid and invalid values through POST jobs/{id}/set_parameter/, read them back with
GET jobs/{id}/get_parameter/, then save the container JSON and params XML after all the changes.

Usage: record_parameters.py [BASE_URL]   (default http://127.0.0.1:8766, a private instance)
Writes tests/fixtures/parameters/<task>.json.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "parameters")
TASKS = ["freerflag", "prosmart_refmac", "phaser_simple", "servalcat_pipe", "aimless_pipe", "modelcraft"]


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/ccp4i2/" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode("utf-8", "replace")


def scalars(node, out):
    """(path, class, base, qualifiers, value) of scalar leaves of a container JSON node."""
    v = node.get("_value")
    if isinstance(v, dict):
        for k in node.get("_CONTENTS_ORDER", []):
            if k in v:
                scalars(v[k], out)
    elif node.get("_baseClass") in ("CInt", "CFloat", "CBoolean", "CString") and not isinstance(v, list):
        out.append((node["_objectPath"], node["_class"], node["_baseClass"], node.get("_qualifiers", {}), v))


def cases(task, params):
    """Requests to send: a few per kind, valid and invalid."""
    want = {"CInt": 2, "CFloat": 2, "CBoolean": 2, "CString": 2, "enum": 2}
    out = []
    for path, cls, base, q, v in params:
        kind = "enum" if base == "CString" and q.get("enumerators") else base
        if want.get(kind, 0) <= 0:
            continue
        want[kind] -= 1
        lo, hi = q.get("min"), q.get("max")
        if base == "CInt":
            good = (lo if isinstance(lo, int) else 0) + 1
            if isinstance(hi, int) and good > hi:
                good = hi
            out += [good, str(good), "abc", 2.7, True]
            if isinstance(hi, (int, float)):
                out.append(int(hi) + 1)
            if isinstance(lo, (int, float)):
                out.append(int(lo) - 1)
        elif base == "CFloat":
            good = 0.5 if not isinstance(lo, (int, float)) else lo + 0.5
            if isinstance(hi, (int, float)) and good > hi:
                good = hi
            out += [good, str(good), 3, "abc", None]
            if isinstance(hi, (int, float)):
                out.append(hi + 1)
            if isinstance(lo, (int, float)):
                out.append(lo - 1)
        elif base == "CBoolean":
            out += [True, False, "true", "False", 1, 0, "yes", "maybe"]
        elif kind == "enum":
            en = q["enumerators"]
            out += [en[-1], en[0], "NOT_AN_ENUMERATOR", ""]
        else:
            out += ["some text", "", 12, "x <&> y"]
        yield from ((path, value) for value in out)
        out = []


def main(argv):
    base = argv[0] if argv and argv[0].startswith("http") else "http://127.0.0.1:8766"
    os.makedirs(OUT, exist_ok=True)
    name = f"i2tasks_par_{int(time.time())}"
    status, project = call(base, "POST", "projects/", {"name": name, "directory": "__default__"})
    if status != 201:
        sys.exit(f"project create failed: {status} {project!r:.200}")
    for task in TASKS:
        status, body = call(base, "POST", f"projects/{project['id']}/create_task/", {"task_name": task})
        if status != 200:
            print("create failed", task, status)
            continue
        job = body["data"]["new_job"]
        status, container = call(base, "GET", f"jobs/{job['id']}/container/")
        params = []
        cp = container["data"]["result"]["_value"].get("controlParameters", {})
        scalars(cp, params)
        exchanges = []
        for path, value in cases(task, params):
            req = {"object_path": path, "value": value}
            s, r = call(base, "POST", f"jobs/{job['id']}/set_parameter/", req)
            exchanges.append({"request": req, "status": s, "response": r})
            q = urllib.parse.urlencode({"object_path": path})
            s, r = call(base, "GET", f"jobs/{job['id']}/get_parameter/?{q}")
            exchanges.append({"get": path, "status": s, "response": r})
        # Paths that do not resolve, and list indices.
        for path in [f"{task}.container.controlParameters.NO_SUCH_PARAM", f"{task}.container.nowhere.X",
                     f"{task}.controlParameters"]:
            req = {"object_path": path, "value": 1}
            s, r = call(base, "POST", f"jobs/{job['id']}/set_parameter/", req)
            exchanges.append({"request": req, "status": s, "response": r})
            q = urllib.parse.urlencode({"object_path": path})
            s, r = call(base, "GET", f"jobs/{job['id']}/get_parameter/?{q}")
            exchanges.append({"get": path, "status": s, "response": r})
        s, after = call(base, "GET", f"jobs/{job['id']}/container/")
        s2, pxml = call(base, "GET", f"jobs/{job['id']}/params_xml/")
        rec = {
            "task": task,
            "job": {k: job.get(k) for k in ("id", "uuid", "number")},
            "project": {k: project.get(k) for k in ("id", "uuid", "name")},
            "exchanges": exchanges,
            "container_after": after,
            "params_xml_after": pxml,
        }
        with open(os.path.join(OUT, f"{task}.json"), "w", encoding="utf-8") as f:
            json.dump(rec, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print("ok", task, len(exchanges))


if __name__ == "__main__":
    main(sys.argv[1:])
