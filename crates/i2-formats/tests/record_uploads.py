#!/usr/bin/env python3
"""Record what the reference server (upstream CCP4i2 3.0.1) does on POST /jobs/{id}/upload_file_param/.

Each case gets a fresh project and runs one or more upload steps. For every step it saves, as
tests/fixtures/uploads/<case>.json:
  - the request (object path, column selector(s), the file name sent);
  - the status and body of the answer (normalised: project directory, uuids, times);
  - the files that appeared in / vanished from the project's CCP4_DOWNLOADED_FILES and
    CCP4_IMPORTED_FILES (with their MD5), and for new MTZ files the header columns and datasets
    (a small header parse here, so that the test can compare with the Rust writer);
  - the File rows of the job (GET /files/?job=) and their FileImport rows (GET /fileimports/);
  - the parameter's element in input_params.xml (GET /jobs/{id}/params_xml/).

The reference server must run on the same machine (the project directory is listed directly).
Usage:  python3 record_uploads.py [--base http://127.0.0.1:8767/api/ccp4i2] [--only NAME]
Data:   $I2_CCP4I2_ROOT (the installed ccp4i2 package directory) and ../shared/fixtures/ccp4i2-demo-data.
Stdlib only.
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
import struct
import sys
import urllib.error
import urllib.request
import uuid

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "fixtures" / "uploads"
VENV_PKG = "/tmp/ccp4i2-reference/venv/lib/python3.11/site-packages/ccp4i2"
SUBDIRS = ("CCP4_DOWNLOADED_FILES", "CCP4_IMPORTED_FILES")


def roots():
    pkg = os.environ.get("I2_CCP4I2_ROOT") or VENV_PKG
    shared = HERE.parents[2] / ".." / "shared" / "fixtures" / "ccp4i2-demo-data"
    if not shared.is_dir():
        shared = pathlib.Path("/work/shared/fixtures/ccp4i2-demo-data")
    return {"pkg": pathlib.Path(pkg), "shared": shared}


FREER = "pkg:wrappers/freerflag/test_data"
BRAP = "pkg:wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz"
EDSTATS = "pkg:wrappers/edstats/test_data"
IPAIR = "/*/*/[I(+),SIGI(+),I(-),SIGI(-)]"


def step(object_path, source, selector=None, selectors=None, filename=None, omit_file=False, new_job=False,
         raw_object_path=False, truncate=None, extra_file=False):
    return dict(object_path=object_path, source=source, selector=selector, selectors=selectors, filename=filename,
                omit_file=omit_file, new_job=new_job, raw_object_path=raw_object_path, truncate=truncate,
                extra_file=extra_file)


# (case name, task, [steps])
CASES = [
    ("obs_fsigf", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz", "/*/*/[F,SIGF]")]),
    ("obs_fsigf_auto", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz")]),
    ("obs_fsigf_container_path", "freerflag",
     [step("freerflag.container.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz", "/RNASE/NATIVE/[F,SIGF]")]),
    ("freer", "freerflag", [step("freerflag.inputData.FREERFLAG", f"{FREER}/rnase25_freer.mtz", "/*/*/[FREER]")]),
    ("obs_imean", "ctruncate", [step("ctruncate.inputData.OBSIN", BRAP, "/*/*/[IMEAN,SIGIMEAN]")]),
    ("obs_ipair", "ctruncate", [step("ctruncate.inputData.OBSIN", BRAP, IPAIR)]),
    ("obs_ipair_multi", "ctruncate", [step("ctruncate.inputData.OBSIN", BRAP, selectors=[
        {"signature": "KMKM", "columnSelector": IPAIR, "contentFlag": 1, "fileSuffix": "_asIPAIR", "isPrimary": True},
        {"signature": "JQ", "columnSelector": "/*/*/[IMEAN,SIGIMEAN]", "contentFlag": 3, "fileSuffix": "_asIMEAN",
         "isPrimary": False},
    ])]),
    ("phs_hl", "modelcraft", [step("modelcraft.inputData.PHASES", "shared:gamma/initial_phases.mtz",
                                   "/*/*/[HLA,HLB,HLC,HLD]")]),
    ("mapcoeffs_fphi", "edstats", [step("edstats.inputData.FPHIIN1", f"{EDSTATS}/FPHIOUT.mtz", "/*/*/[F,PHI]")]),
    ("mtz_whole", "ctruncate", [step("ctruncate.inputData.HKLIN", BRAP)]),
    ("pdb", "coordinate_selector", [step("coordinate_selector.inputData.XYZIN",
                                         f"{EDSTATS}/ghcp4i_67_buccaneer_refmac1.pdb")]),
    ("seq_fasta", "ProvideSequence", [step("ProvideSequence.inputData.SEQIN", "shared:rnase/rnase.fasta")]),
    ("seq_pir", "ProvideSequence", [step("ProvideSequence.inputData.SEQIN", "shared:gamma/gamma.pir")]),
    ("asu", "modelcraft", [step("modelcraft.inputData.ASUIN", "shared:gamma/gamma.asu.xml")]),
    ("slug_name", "coordinate_selector", [step("coordinate_selector.inputData.XYZIN",
                                               f"{EDSTATS}/ghcp4i_67_buccaneer_refmac1.pdb",
                                               filename="My Model (v2).final.PDB")]),
    # the same file twice into two params of one job, then again into the first (replacement)
    ("dedupe_and_replace", "freerflag", [
        step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz", "/*/*/[F,SIGF]"),
        step("freerflag.inputData.FREERFLAG", f"{FREER}/rnase25_fsigf.mtz", "/*/*/[F,SIGF]"),
        step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz", "/*/*/[F,SIGF]"),
        step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz", "/*/*/[F,SIGF]", new_job=True),
    ]),
    # a second job importing a file of the same name (the name gets _1)
    ("second_job_same_name", "ctruncate", [
        step("ctruncate.inputData.OBSIN", BRAP, "/*/*/[IMEAN,SIGIMEAN]"),
        step("ctruncate.inputData.OBSIN", BRAP, IPAIR, new_job=True),
        step("ctruncate.inputData.OBSIN", BRAP, IPAIR, new_job=True),
    ]),
    # errors
    ("err_wrong_columns", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz",
                                             "/*/*/[FP,SIGFP]")]),
    ("err_bad_selector", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz",
                                            "/*/[F,SIGF]")]),
    ("err_unknown_signature", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz",
                                                 "/*/*/[SIGF,F]")]),
    ("err_pdb_into_mtz", "freerflag", [step("freerflag.inputData.F_SIGF",
                                            f"{EDSTATS}/ghcp4i_67_buccaneer_refmac1.pdb", "/*/*/[F,SIGF]")]),
    ("err_truncated_mtz", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz",
                                             "/*/*/[F,SIGF]", truncate=4000)]),
    ("err_missing_file", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz",
                                            "/*/*/[F,SIGF]", omit_file=True)]),
    ("err_two_files", "freerflag", [step("freerflag.inputData.F_SIGF", f"{FREER}/rnase25_fsigf.mtz",
                                         "/*/*/[F,SIGF]", extra_file=True)]),
    ("err_bad_object_path", "freerflag", [step("freerflag.inputData.NOSUCH", f"{FREER}/rnase25_fsigf.mtz",
                                               "/*/*/[F,SIGF]")]),
    ("err_non_file_param", "freerflag", [step("freerflag.controlParameters.FRAC", f"{FREER}/rnase25_fsigf.mtz")]),
    ("err_no_object_path", "freerflag", [step(None, f"{FREER}/rnase25_fsigf.mtz", "/*/*/[F,SIGF]")]),
]


def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, {"_raw": raw[:800].decode("utf-8", "replace")}


def post_json(url, obj):
    return call("POST", url, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def post_multipart(url, fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for name, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return call("POST", url, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def mtz_summary(path):
    """Columns and datasets from the MTZ header records (little-endian files only)."""
    try:
        b = path.read_bytes()
        if b[:4] != b"MTZ ":
            return None
        word = struct.unpack("<i", b[4:8])[0]
        pos = (word - 1) * 4 if word > 0 else struct.unpack("<q", b[12:20])[0]
        cols, ds, ncol_nref = [], {}, None
        while pos + 80 <= len(b):
            rec = b[pos:pos + 80].decode("ascii", "replace")
            pos += 80
            key = rec[:4]
            if rec.startswith("END"):
                break
            if key == "NCOL":
                f = rec.split()
                ncol_nref = [int(f[1]), int(f[2])]
            elif key == "COLU":
                f = rec.split()
                cols.append({"label": f[1], "type": f[2], "dataset_id": int(f[5]) if len(f) > 5 else 0})
            elif key in ("PROJ", "CRYS", "DATA"):
                f = rec.split(None, 2)
                d = ds.setdefault(int(f[1]), {"id": int(f[1])})
                d[{"PROJ": "project", "CRYS": "crystal", "DATA": "dataset"}[key]] = f[2].strip() if len(f) > 2 else ""
        return {"columns": cols, "datasets": [ds[k] for k in sorted(ds)], "ncol": ncol_nref[0],
                "nreflections": ncol_nref[1]}
    except Exception as e:  # noqa: BLE001 -- a recorder: keep going and say what happened
        return {"error": str(e)}


def listing(project_dir):
    out = {}
    for sub in SUBDIRS:
        d = project_dir / sub
        if d.is_dir():
            for p in sorted(d.iterdir()):
                if p.is_file():
                    out[f"{sub}/{p.name}"] = hashlib.md5(p.read_bytes()).hexdigest()
    return out


class Normaliser:
    """Project directory and name, times, and uuids (hyphenated and 32-hex forms) become
    placeholders; MD5 checksums (also 32 hex digits) are kept."""
    UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
    TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
    CTIME = re.compile(r"\d\d:\d\d \d\d/[A-Z][a-z]{2}/\d\d")

    def __init__(self, project_dir, project_name):
        self.dir, self.name, self.uuids = str(project_dir), project_name, {}

    def register(self, u):
        self.uuids.setdefault(u, len(self.uuids) + 1)

    def __call__(self, obj):
        txt = json.dumps(obj)
        for m in self.UUID.finditer(txt):
            self.register(m.group(0))
        txt = txt.replace(self.dir, "$PROJECT_DIR").replace(self.name, "$PROJECT")
        txt = self.CTIME.sub("$CTIME", self.TIME.sub("$TIME", txt))
        for u, n in self.uuids.items():
            txt = txt.replace(u, f"$UUID{n}").replace(u.replace("-", ""), f"$UUID{n}_HEX")
        return json.loads(txt)


def param_xml(xml, name):
    m = re.search(rf"<{name}>.*?</{name}>", xml or "", re.S)
    return m.group(0) if m else None


def record(base, case, rts):
    name, task, steps = case
    pname = f"up_{name}_{uuid.uuid4().hex[:6]}".replace("-", "_")
    st, proj = post_json(f"{base}/projects/", {"name": pname, "directory": "__default__"})
    if st != 201:
        sys.exit(f"cannot create project: {st} {proj}")
    pdir = pathlib.Path(proj["directory"])
    norm = Normaliser(pdir, pname)
    norm.register(proj["uuid"])
    out = {"case": name, "task": task, "steps": []}
    job = None
    for s in steps:
        if job is None or s["new_job"]:
            st, created = post_json(f"{base}/projects/{proj['id']}/create_task/", {"task_name": task})
            if st != 200:
                sys.exit(f"{name}: create_task {task} -> {st} {created}")
            job = created["data"]["new_job"]["id"]
            norm.register(created["data"]["new_job"]["uuid"])
        root, rel = s["source"].split(":", 1)
        src = rts[root] / rel
        data = src.read_bytes()
        if s["truncate"]:
            data = data[: s["truncate"]]
        fname = s["filename"] or src.name
        fields = {}
        if s["object_path"]:
            fields["object_path"] = s["object_path"]
        if s["selector"]:
            fields["column_selector"] = s["selector"]
        if s["selectors"]:
            fields["column_selectors"] = json.dumps(s["selectors"])
        files = [] if s["omit_file"] else [(fname, data)]
        if s["extra_file"]:
            files.append(("second.mtz", data))
        before = listing(pdir)
        status, body = post_multipart(f"{base}/jobs/{job}/upload_file_param/", fields, files)
        after = listing(pdir)
        created_files = {k: v for k, v in after.items() if before.get(k) != v}
        removed = sorted(k for k in before if k not in after)
        _, rows = call("GET", f"{base}/files/?job={job}")
        _, imports = call("GET", f"{base}/fileimports/")
        ids = {r["id"] for r in rows} if isinstance(rows, list) else set()
        _, px = call("GET", f"{base}/jobs/{job}/params_xml/")
        xml = px.get("data", {}).get("xml") if isinstance(px, dict) else None
        param = (s["object_path"] or "").split(".")[-1].split("[")[0]
        out["steps"].append(norm({
            "request": {"object_path": s["object_path"], "column_selector": s["selector"],
                        "column_selectors": s["selectors"], "source": s["source"], "file_name": fname,
                        "files_sent": len(files), "truncated_to": s["truncate"], "new_job": s["new_job"],
                        "source_md5": hashlib.md5(data).hexdigest()},
            "status": status,
            "body": body,
            "created_on_disk": created_files,
            "removed_from_disk": removed,
            "mtz": {k: mtz_summary(pdir / k) for k in created_files if k.endswith(".mtz")},
            "file_rows": rows,
            "file_imports": [i for i in imports if i.get("file") in ids] if isinstance(imports, list) else imports,
            "params_xml_element": param_xml(xml, param) if param else None,
        }))
        print(f"{name}: {s['object_path']} -> {status} {list(created_files)}")
    (OUT / f"{name}.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=os.environ.get("I2_REFERENCE_URL", "http://127.0.0.1:8767/api/ccp4i2"))
    ap.add_argument("--only")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rts = roots()
    for case in CASES:
        if not args.only or case[0] == args.only:
            record(args.base, case, rts)


if __name__ == "__main__":
    main()
