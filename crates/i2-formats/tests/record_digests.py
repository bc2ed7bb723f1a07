#!/usr/bin/env python3
"""Record file digests from a running reference server (upstream CCP4i2 3.0.1).

For every case below: create a job of a task that accepts the file, upload the file into the
parameter (as the web client does), then save the server's answers to
    GET /files/{id}/digest/            ("file_digest")
    GET /jobs/{id}/digest/?object_path ("job_digest")
together with the File row the upload created, as tests/fixtures/digests/<case>.json.

Usage:  python3 record_digests.py [--base http://127.0.0.1:8767/api/ccp4i2] [--only NAME]
Data:   $I2_CCP4I2_ROOT (the installed ccp4i2 package directory), ../shared/fixtures/ccp4i2-demo-data
        and fixtures/files (small files written for these tests).
Stdlib only.
"""
import argparse
import json
import os
import pathlib
import sys
import time
import urllib.error
import urllib.request
import uuid

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "fixtures" / "digests"
VENV_PKG = "/tmp/ccp4i2-reference/venv/lib/python3.11/site-packages/ccp4i2"


def roots():
    pkg = os.environ.get("I2_CCP4I2_ROOT") or VENV_PKG
    shared = HERE.parents[2] / ".." / "shared" / "fixtures" / "ccp4i2-demo-data"
    if not shared.is_dir():
        shared = pathlib.Path("/work/shared/fixtures/ccp4i2-demo-data")
    return {"pkg": pathlib.Path(pkg), "shared": shared, "gen": HERE / "fixtures" / "files"}


# (case name, source "root:relative path", task, object path, column selector or None)
FREER = "wrappers/freerflag/test_data"
CASES = [
    # mini-MTZ uploads (the server splits the columns out and renames them)
    ("obs_fsigf_rnase25", f"pkg:{FREER}/rnase25_fsigf.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[F,SIGF]"),
    ("obs_fsigf_unique", f"pkg:{FREER}/unique.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[F,SIGF]"),
    ("obs_fnat_rnase25", f"pkg:{FREER}/rnase25.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[FNAT,SIGFNAT]"),
    ("obs_imean_brap", "pkg:wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[IMEAN,SIGIMEAN]"),
    ("obs_ipm_brap", "pkg:wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[I(+),SIGI(+),I(-),SIGI(-)]"),
    ("obs_ipm_gamma_xe", "shared:gamma/merged_intensities_Xe.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[Iplus,SIGIplus,Iminus,SIGIminus]"),
    ("obs_fobs_betablip", "shared:beta_blip/beta_blip_P3221.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[Fobs,Sigma]"),
    ("obs_fpm_rnase25_hg", "shared:rnase/rnase25_Nat_Derivs.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[FHG(+),SIGFHG(+),FHG(-),SIGFHG(-)]"),
    ("obs_ipm_gere", "shared:gere/gere.mtz", "freerflag", "freerflag.inputData.F_SIGF", "/*/*/[I(+),SIGI(+),I(-),SIGI(-)]"),
    ("freer_rnase25", f"pkg:{FREER}/rnase25_freer.mtz", "freerflag", "freerflag.inputData.FREERFLAG", "/*/*/[FREER]"),
    ("freer_gamma", "shared:gamma/freeR.mtz", "freerflag", "freerflag.inputData.FREERFLAG", "/*/*/[FREER]"),
    ("freer_gere", "shared:gere/gere.mtz", "freerflag", "freerflag.inputData.FREERFLAG", "/*/*/[FreeR_flag]"),
    ("phs_hl_gamma", "shared:gamma/initial_phases.mtz", "cphasematch", "cphasematch.inputData.ABCD1", "/*/*/[HLA,HLB,HLC,HLD]"),
    ("mapc_fphi_edit", "pkg:wrappers/ccp4mg_edit_model/test_data/FPHIOUT.mtz", "phaser_MR", "phaser_MR.inputData.FPHI", "/*/*/[F,PHI]"),
    ("mapc_fphi_edstats", "pkg:wrappers/edstats/test_data/FPHIOUT.mtz", "phaser_MR", "phaser_MR.inputData.FPHI", "/*/*/[F,PHI]"),
    # whole MTZ files (CMtzDataFile: stored as uploaded)
    ("mtz_rnase25_fsigf", f"pkg:{FREER}/rnase25_fsigf.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_rnase25_freer", f"pkg:{FREER}/rnase25_freer.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_rnase25", f"pkg:{FREER}/rnase25.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_unique", f"pkg:{FREER}/unique.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_brap_scaled2", "pkg:wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_fphiout_edit", "pkg:wrappers/ccp4mg_edit_model/test_data/FPHIOUT.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_fphiout_edstats", "pkg:wrappers/edstats/test_data/FPHIOUT.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_diffphiout_edstats", "pkg:wrappers/edstats/test_data/DIFFPHIOUT.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_betablip", "shared:beta_blip/beta_blip_P3221.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_gamma_freer", "shared:gamma/freeR.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_gamma_phases", "shared:gamma/initial_phases.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_gamma_cif", "shared:gamma/mergedForMakingCif.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_gamma_xe", "shared:gamma/merged_intensities_Xe.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_gamma_native", "shared:gamma/merged_intensities_native.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_gere", "shared:gere/gere.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_rnase18", "shared:rnase/rnase18_Nat_Complexes.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_rnase25_derivs", "shared:rnase/rnase25_Nat_Derivs.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    # unmerged MTZ (CUnmergedDataFile)
    ("unmerged_brap_pk", "pkg:wrappers/pointless/test_data/brap_pk_6A.mtz", "tableone", "tableone.inputData.UNMERGED", None),
    ("unmerged_brap_ip", "pkg:wrappers/pointless/test_data/brap_ip_6A.mtz", "tableone", "tableone.inputData.UNMERGED", None),
    # coordinates (CPdbDataFile)
    ("pdb_xyzout_edit", "pkg:wrappers/ccp4mg_edit_model/test_data/XYZOUT.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_1a80", "pkg:wrappers/chainsaw/test_data/1a80_A.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_edstats", "pkg:wrappers/edstats/test_data/ghcp4i_67_buccaneer_refmac1.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_baz2b", "shared:baz2b/BAZ2B.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_baz2b_lig", "shared:baz2b/BAZ2BA-x828-LIG.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_beta", "shared:beta_blip/beta.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_blip", "shared:beta_blip/blip.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_gamma_model", "shared:gamma/gamma_model.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_gamma_heavy", "shared:gamma/heavy_atoms.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_gere_mola", "shared:gere/gere_molA.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_4hg7", "shared:mdm2/4hg7.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("pdb_rnase_model", "shared:rnase/rnase_model.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("cif_4hg7", "shared:mdm2/4hg7.cif", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    # sequences (CSeqDataFile) and alignments
    ("seq_baz2b_pir", "shared:baz2b/baz2b.pir", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seq_beta", "shared:beta_blip/beta.seq", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seq_blip", "shared:beta_blip/blip.seq", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seq_gamma_pir", "shared:gamma/gamma.pir", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seq_gere_fasta", "shared:gere/gere.fasta", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seq_4hg7", "shared:mdm2/4hg7.seq", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seq_rnase_fasta", "shared:rnase/rnase.fasta", "ImportSequence", "ImportSequence.inputData.SEQIN", None),
    ("seqalign_1mzr_1a80", "pkg:wrappers/chainsaw/test_data/1mzr_1a80.pir", "chainsaw", "chainsaw.inputData.ALIGNIN", None),
    # ASU contents (CAsuDataFile)
    ("asu_gamma", "shared:gamma/gamma.asu.xml", "ProvideAsuContents", "ProvideAsuContents.inputData.ASUCONTENTIN", None),
    # mmCIF reflections and ligand dictionaries (recorded for shape; not yet digested natively)
    ("sfcif_4hg7", "shared:mdm2/4hg7-sf.cif", "import_merged", "import_merged.inputData.HKLIN", None),
    ("dict_baz2b_x828", "shared:baz2b/BAZ2BA-x828-LIG.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    # the rest of the package's data files and of the demo data
    ("dict_mon_lib_list_basic", "pkg:pipelines/crank2/crank2/basiclib/mon_lib_list_basic.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("dict_mon_lib_list", "pkg:pipelines/crank2/crank2/basiclib/list/mon_lib_list.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("dict_mon_lib_ind2", "pkg:pipelines/crank2/crank2/basiclib/mon_lib_ind2.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("dict_ener_lib", "pkg:pipelines/crank2/crank2/basiclib/ener_lib.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("dict_mon_lib_ind_empty", "pkg:pipelines/crank2/crank2/basiclib/mon_lib_ind.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("dict_list_mon_lib_ind_empty", "pkg:pipelines/crank2/crank2/basiclib/list/mon_lib_ind.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("mtz_warpntrace", "pkg:wrappers/arp_warp_classic/mock_data/PSP/warpNtrace.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("pdb_warpntrace", "pkg:wrappers/arp_warp_classic/mock_data/PSP/warpNtrace.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("unmerged_brap_rm", "pkg:wrappers/pointless/test_data/brap_rm_6A.mtz", "tableone", "tableone.inputData.UNMERGED", None),
    ("unmerged_integrate_xds", "pkg:wrappers/pointless/test_data/INTEGRATE_vb1.HKL", "tableone", "tableone.inputData.UNMERGED", None),
    ("mtz_fphiout_nomrbump", "pkg:wrappers/ccp4mg_edit_nomrbump/test_data/FPHIOUT.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("pdb_xyzout_nomrbump", "pkg:wrappers/ccp4mg_edit_nomrbump/test_data/XYZOUT.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("mtz_fphiout_general", "pkg:wrappers/ccp4mg_general/test_data/FPHIOUT.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("pdb_xyzout_general", "pkg:wrappers/ccp4mg_general/test_data/XYZOUT.pdb", "coordinate_selector", "coordinate_selector.inputData.XYZIN", None),
    ("mtz_brap_scaled2_demo", "shared:brap_pk_6A_scaled2.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    ("mtz_rnase25_fsigf_demo", "shared:rnase/rnase25_fsigf.mtz", "splitMtz", "splitMtz.inputData.HKLIN", None),
    # small files written for these tests (tests/fixtures/files), one per reader rule
    ("gen_dict_two_monomers", "gen:dict_two_monomers.cif", "LidiaAcedrgNew", "LidiaAcedrgNew.inputData.DICTIN", None),
    ("gen_aln_clustal", "gen:aln_clustal.aln", "chainsaw", "chainsaw.inputData.ALIGNIN", None),
    ("gen_aln_stockholm", "gen:aln_stockholm.sto", "chainsaw", "chainsaw.inputData.ALIGNIN", None),
    ("gen_aln_phylip", "gen:aln_phylip.phy", "chainsaw", "chainsaw.inputData.ALIGNIN", None),
    ("gen_aln_fasta", "gen:aln_fasta.fasta", "chainsaw", "chainsaw.inputData.ALIGNIN", None),
    ("gen_aln_unequal", "gen:aln_unequal.fasta", "chainsaw", "chainsaw.inputData.ALIGNIN", None),
    ("gen_sf_anom_freer", "gen:sf_anom_freer.cif", "import_merged", "import_merged.inputData.HKLIN", None),
    ("gen_sf_unmerged_two_blocks", "gen:sf_unmerged_two_blocks.cif", "import_merged", "import_merged.inputData.HKLIN", None),
]


def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"_raw": raw[:500].decode("utf-8", "replace")}


def post_json(url, obj):
    return call("POST", url, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def post_multipart(url, fields, file_field, file_path):
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + file_path.read_bytes()
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return call("POST", url, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def record(base, project_id, case, rts):
    name, source, task, object_path, selector = case
    root, rel = source.split(":", 1)
    path = rts[root] / rel
    if not path.is_file():
        print(f"skip {name}: {path} not found", file=sys.stderr)
        return False
    st, created = post_json(f"{base}/projects/{project_id}/create_task/", {"task_name": task})
    if st != 200:
        print(f"skip {name}: create_task {task} -> {st} {created}", file=sys.stderr)
        return False
    job = created["data"]["new_job"]["id"]
    fields = {"object_path": object_path}
    if selector:
        fields["column_selector"] = selector
    up_status, up = post_multipart(f"{base}/jobs/{job}/upload_file_param/", fields, "file", path)
    _, files = call("GET", f"{base}/files/?job={job}")
    param = object_path.split(".")[-1]
    mine = [f for f in files if f.get("job_param_name", "").split("[")[0] == param] if isinstance(files, list) else []
    out = {
        "case": name,
        "source": source,
        "task": task,
        "object_path": object_path,
        "column_selector": selector,
        "upload_status": up_status,
        "upload_error": None if up_status == 200 else up,
    }
    if mine:
        f = mine[-1]
        out["file"] = {k: f.get(k) for k in ("name", "type", "sub_type", "content", "annotation", "job_param_name", "directory")}
        out["file"]["relative_path"] = f["path"].split("/CCP4X_PROJECTS/", 1)[-1].split("/", 1)[-1]
        st, dig = call("GET", f"{base}/files/{f['id']}/digest/")
        out["file_digest_status"], out["file_digest"] = st, dig
    st, dig = call("GET", f"{base}/jobs/{job}/digest/?object_path={object_path}")
    out["job_digest_status"], out["job_digest"] = st, dig
    (OUT / f"{name}.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{name}: upload {up_status}, file {out.get('file', {}).get('type')}, digest {out.get('file_digest_status')}")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=os.environ.get("I2_REFERENCE_URL", "http://127.0.0.1:8767/api/ccp4i2"))
    ap.add_argument("--only")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rts = roots()
    st, proj = post_json(f"{args.base}/projects/", {"name": f"digests_{int(time.time())}_{uuid.uuid4().hex[:6]}", "directory": "__default__"})
    if st != 201:
        sys.exit(f"cannot create project: {st} {proj}")
    n = 0
    for case in CASES:
        if args.only and case[0] != args.only:
            continue
        n += record(args.base, proj["id"], case, rts)
    print(f"recorded {n} cases into {OUT}")


if __name__ == "__main__":
    main()
