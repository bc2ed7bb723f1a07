#!/usr/bin/env python3
"""Record request/response exchanges from the reference CCP4i2 server (ccp4i2==3.0.1).

The recording (foundation.json) is replayed by the Rust conformance tests against
i2server (SQLite and PostgreSQL) and the normalised responses are compared.

How to re-record
----------------
The sequence assumes a FRESH reference server (empty database, empty projects dir)
that nobody else is using, because integer ids in later paths depend on it. A private
instance reusing the installed venv avoids interference from other sessions:

    export PEER_DIR=/tmp/i2rec-foundation PEER_PORT=8779
    mkdir -p $PEER_DIR
    ln -sfn /tmp/ccp4i2-reference/venv $PEER_DIR/venv
    ln -sfn /tmp/ccp4i2-reference/monlib $PEER_DIR/monlib
    bash /work/shared/tools/reference-server.sh reset
    bash /work/shared/tools/reference-server.sh start
    python3 tests/conformance/record.py --base http://127.0.0.1:$PEER_PORT \
        --out tests/conformance/foundation.json
    bash /work/shared/tools/reference-server.sh stop

(Without PEER_DIR/PEER_PORT the script drives the shared instance on port 8765.)

The recorder must run on the same machine as the server: some exchanges need a
small file on disk inside a project directory ("setup_file"); it writes them
straight into the project directory reported by the server before sending the
request.

Stdlib only (http.client), no redirects are followed, nothing is normalised:
responses are stored raw. See README.md next to this file for the format.
"""

import argparse
import http.client
import json
import time
import os
import sys
import urllib.parse
from pathlib import Path

API = "/api/ccp4i2"
ORIGIN = "http://localhost:3000"
NIL_UUID = "00000000-0000-4000-8000-000000000000"
BOUNDARY = "----i2serverRecorderBoundary7MA4YWxkTrZu0gW"

SECURITY_HEADERS = [
    "cross-origin-resource-policy",
    "cross-origin-opener-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "vary",
    "allow",
]
CORS_HEADERS = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-max-age",
    "access-control-expose-headers",
    "vary",
]
DOWNLOAD_HEADERS = ["content-type", "content-disposition", "content-length"]

PDB_TEXT = (
    "HEADER    I2SERVER CONFORMANCE FIXTURE\n"
    "ATOM      1  CA  GLY A   1       1.000   2.000   3.000  1.00 20.00           C\n"
    "END\n"
)
SEQ_TEXT = ">alpha\nMKVLAAGIVGLLLAQ\n"
HELLO_TEXT = "hello\n"
NESTED_TEXT = "<html><body>report page</body></html>\n"


# ---------------------------------------------------------------------------
# The fixed sequence. Placeholders, resolved at record time:
#   {PROJECTS_DIR}            in paths/bodies: the reference's projects directory
#   {uuid:EXCHANGE:/pointer}  in paths: a uuid taken from an earlier response
#                             (JSON pointer); recorded in "uuid_refs".
# ---------------------------------------------------------------------------

def J(value):
    return {"kind": "json", "value": value}


def FORM(**fields):
    return {"kind": "form", "fields": fields}


def MULTI(**fields):
    return {"kind": "multipart", "fields": fields}


def MULTIF(fields, files):
    """Multipart with file parts: files = {field: {"name": ..., "source": "pkg:..."|"shared:..."}
    or {field: {"name": ..., "text": "..."}} (small inline text files)."""
    return {"kind": "multipart", "fields": fields, "files": files}


def RAW(content_type, text):
    return {"kind": "raw", "content_type": content_type, "text": text}


def X(name, method, path, body=None, **kw):
    step = {"name": name, "method": method, "path": API + path, "body": body}
    step.update(kw)
    return step


def build_steps():
    s = []
    add = s.append

    # --- service endpoints -------------------------------------------------
    add(X("health_ok", "GET", "/health/"))
    add(X("version_ok", "GET", "/version/"))
    add(X("api_root", "GET", "/", headers={"Host": "i2server.test"}))
    add(X("health_post_csrf_forbidden", "POST", "/health/", J({}), compare="status",
          quirk="plain Django view behind CsrfViewMiddleware: POST without CSRF cookie -> 403 HTML page"))

    # --- projects: list / create -------------------------------------------
    add(X("projects_list_empty", "GET", "/projects/", resp_headers=SECURITY_HEADERS))
    add(X("projects_create_json", "POST", "/projects/",
          J({"name": "alpha", "directory": "__default__", "description": "first project"})))
    add(X("projects_create_multipart", "POST", "/projects/",
          MULTI(name="beta", directory="__default__", description="made like the web client")))
    add(X("projects_create_form", "POST", "/projects/",
          FORM(name="gamma", directory="__default__")))
    add(X("projects_create_unicode_mixed_case", "POST", "/projects/",
          J({"name": "\u00c9mile_2", "directory": "__default__"})))
    add(X("projects_create_explicit_directory", "POST", "/projects/",
          J({"name": "delta", "directory": "{PROJECTS_DIR}/custom_delta_dir"})))
    add(X("projects_create_name_number", "POST", "/projects/",
          J({"name": 42, "directory": "__default__"})))
    add(X("projects_create_name_space", "POST", "/projects/",
          J({"name": "has space", "directory": "__default__"})))
    add(X("projects_create_name_slash", "POST", "/projects/",
          J({"name": "a/b", "directory": "__default__"})))
    add(X("projects_create_name_empty", "POST", "/projects/",
          J({"name": "", "directory": "__default__"})))
    add(X("projects_create_name_missing", "POST", "/projects/",
          J({"directory": "__default__"})))
    add(X("projects_create_name_list", "POST", "/projects/",
          J({"name": ["alpha"], "directory": "__default__"})))
    add(X("projects_create_directory_missing", "POST", "/projects/", J({"name": "nodir"})))
    add(X("projects_create_duplicate_exact", "POST", "/projects/",
          J({"name": "alpha", "directory": "__default__"})))
    add(X("projects_create_duplicate_case", "POST", "/projects/",
          MULTI(name="ALPHA", directory="__default__")))
    add(X("projects_create_malformed_json", "POST", "/projects/",
          RAW("application/json", '{"name": "broken",')))
    add(X("projects_create_json_array", "POST", "/projects/", J([])))
    add(X("projects_create_unsupported_media", "POST", "/projects/",
          RAW("text/plain", "name=plain")))
    add(X("projects_list_after_create", "GET", "/projects/"))
    add(X("projects_list_filter_name", "GET", "/projects/?name=beta"))
    add(X("projects_list_filter_name_case_mismatch", "GET", "/projects/?name=BETA"))
    add(X("projects_list_filter_uuid", "GET",
          "/projects/?uuid={uuid:projects_create_json:/uuid}"))
    add(X("projects_list_filter_uuid_unknown", "GET", "/projects/?uuid=" + NIL_UUID))
    add(X("projects_list_filter_uuid_invalid", "GET", "/projects/?uuid=not-a-uuid",
          compare="status", quirk="invalid uuid in ?uuid= raises ValidationError -> 500 HTML"))
    add(X("projects_retrieve", "GET", "/projects/1/"))
    add(X("projects_retrieve_unknown", "GET", "/projects/999/"))
    add(X("projects_retrieve_non_numeric", "GET", "/projects/abc/"))

    # --- projects: update / delete -----------------------------------------
    add(X("projects_patch_description", "PATCH", "/projects/1/",
          J({"description": "updated description"})))
    add(X("projects_patch_rename", "PATCH", "/projects/3/", J({"name": "gamma_renamed"})))
    add(X("projects_patch_same_name", "PATCH", "/projects/2/", J({"name": "beta"}),
          quirk="re-sending the project's own name fails the case-insensitive duplicate check"))
    add(X("projects_patch_invalid_name", "PATCH", "/projects/2/", J({"name": "bad name!"})))
    add(X("projects_patch_unknown", "PATCH", "/projects/999/", J({"description": "x"})))
    add(X("projects_put_missing_directory", "PUT", "/projects/3/",
          J({"name": "gamma_put", "description": "put without directory"})))
    add(X("projects_put_ok", "PUT", "/projects/3/",
          J({"name": "gamma_put", "description": "replaced by PUT",
             "directory": "{PROJECTS_DIR}/gamma"})))
    add(X("projects_delete", "DELETE", "/projects/6/"))
    add(X("projects_retrieve_deleted", "GET", "/projects/6/"))
    add(X("projects_delete_unknown", "DELETE", "/projects/999/", compare="status",
          quirk="destroy() returns (not raises) Http404 -> DRF AssertionError -> 500 HTML"))
    add(X("projects_collection_delete_not_allowed", "DELETE", "/projects/"))

    # --- project sub-resources before any job ------------------------------
    add(X("project_job_tree_empty", "GET", "/projects/1/job_tree/"))
    add(X("project_job_tree_unknown", "GET", "/projects/999/job_tree/"))
    add(X("project_exports_empty", "GET", "/projects/1/exports/"))
    add(X("project_exports_unknown", "GET", "/projects/999/exports/"))

    # --- project tags --------------------------------------------------------
    add(X("projecttags_list_empty", "GET", "/projecttags/"))
    add(X("projecttags_create", "POST", "/projecttags/", J({"text": "crystal"})))
    add(X("projecttags_create_child", "POST", "/projecttags/", J({"text": "form-1", "parent": 1})))
    add(X("projecttags_create_same_text_other_parent", "POST", "/projecttags/",
          J({"text": "crystal", "parent": 1})))
    add(X("projecttags_create_duplicate", "POST", "/projecttags/", J({"text": "crystal"})))
    add(X("projecttags_create_missing_text", "POST", "/projecttags/", J({})))
    add(X("projecttags_retrieve", "GET", "/projecttags/1/"))
    add(X("projecttags_retrieve_unknown", "GET", "/projecttags/999/"))
    add(X("projecttags_patch", "PATCH", "/projecttags/2/", J({"text": "form-2"})))
    add(X("projecttags_delete", "DELETE", "/projecttags/3/"))
    add(X("project_tags_add", "POST", "/projects/1/tags/", J({"tag_id": 1})))
    add(X("project_tags_add_form", "POST", "/projects/2/tags/", FORM(tag_id="2")))
    add(X("project_tags_add_missing", "POST", "/projects/1/tags/", J({})))
    add(X("project_tags_add_unknown", "POST", "/projects/1/tags/", J({"tag_id": 999})))
    add(X("project_tags_list", "GET", "/projects/1/tags/"))
    add(X("project_add_tag_by_text_new", "POST", "/projects/1/add_tag_by_text/", J({"text": "urgent"})))
    add(X("project_add_tag_by_text_existing", "POST", "/projects/2/add_tag_by_text/", J({"text": "urgent"})))
    add(X("project_add_tag_by_text_missing", "POST", "/projects/1/add_tag_by_text/", J({})))
    add(X("projects_retrieve_with_tags", "GET", "/projects/1/"))
    add(X("projects_list_with_tags", "GET", "/projects/"))
    add(X("projecttags_list", "GET", "/projecttags/"))
    add(X("project_tags_remove", "DELETE", "/projects/1/tags/1/"))
    add(X("project_tags_remove_unknown", "DELETE", "/projects/1/tags/999/"))

    # --- jobs -----------------------------------------------------------------
    add(X("jobs_list_empty", "GET", "/jobs/"))
    add(X("jobs_create_empty_body", "POST", "/jobs/", J({})))
    add(X("jobs_create_ok", "POST", "/jobs/",
          J({"project": 1, "number": "1", "title": "First job", "task_name": "ctruncate"})))
    add(X("jobs_create_with_status", "POST", "/jobs/",
          J({"project": 1, "number": "2", "title": "Second job", "task_name": "refmac",
             "status": 1})))
    add(X("jobs_create_child", "POST", "/jobs/",
          J({"project": 1, "number": "2.1", "title": "Child job", "task_name": "refmac",
             "parent": 2})))
    add(X("jobs_create_other_project", "POST", "/jobs/",
          J({"project": 2, "number": "1", "title": "Beta job", "task_name": "freerflag"})))
    add(X("jobs_create_duplicate_number", "POST", "/jobs/",
          J({"project": 1, "number": "1", "title": "Dup", "task_name": "ctruncate"})))
    add(X("jobs_create_unknown_project", "POST", "/jobs/",
          J({"project": 999, "number": "1", "title": "Orphan", "task_name": "ctruncate"})))
    add(X("jobs_create_bad_status", "POST", "/jobs/",
          J({"project": 1, "number": "9", "title": "Bad", "task_name": "ctruncate",
             "status": 42})))
    add(X("jobs_list", "GET", "/jobs/"))
    add(X("jobs_list_by_project", "GET", "/jobs/?project=1"))
    add(X("jobs_list_by_project_unknown", "GET", "/jobs/?project=999"))
    add(X("jobs_list_by_project_non_numeric", "GET", "/jobs/?project=abc", compare="status",
          quirk="?project=abc reaches a manual int filter -> ValueError -> 500 HTML"))
    add(X("jobs_list_by_project_uuid", "GET",
          "/jobs/?project__uuid={uuid:projects_create_multipart:/uuid}"))
    add(X("jobs_retrieve", "GET", "/jobs/1/"))
    add(X("jobs_retrieve_unknown", "GET", "/jobs/999/"))
    add(X("jobs_patch_title", "PATCH", "/jobs/1/", J({"title": "Renamed first job"})))
    add(X("jobs_patch_comments_multipart", "PATCH", "/jobs/1/",
          MULTI(comments="A comment\nwith two lines")))
    add(X("jobs_patch_evaluation", "PATCH", "/jobs/1/", J({"evaluation": 1})))
    add(X("jobs_patch_evaluation_string", "PATCH", "/jobs/1/", J({"evaluation": "abc"})))
    add(X("jobs_patch_evaluation_out_of_range", "PATCH", "/jobs/1/", J({"evaluation": 9})))
    add(X("jobs_patch_status_invalid", "PATCH", "/jobs/1/", J({"status": 99})))
    add(X("jobs_patch_title_too_long", "PATCH", "/jobs/1/", J({"title": "x" * 256})))
    add(X("jobs_patch_status_queued", "PATCH", "/jobs/2/", J({"status": 2})))
    add(X("active_jobs_one_queued", "GET", "/active_jobs/"))

    # --- files ------------------------------------------------------------------
    add(X("files_list_empty", "GET", "/files/"))
    add(X("files_create_empty_body", "POST", "/files/", J({})))
    add(X("files_create_job_output", "POST", "/files/",
          J({"name": "XYZOUT.pdb", "directory": 1, "type": "chemical/x-pdb", "job": 1,
             "job_param_name": "XYZOUT", "annotation": "Model from job 1"})))
    add(X("files_create_imported", "POST", "/files/",
          J({"name": "alpha.seq", "directory": 2, "type": "application/CCP4-seq", "job": 1})))
    add(X("files_create_child_job", "POST", "/files/",
          J({"name": "HKLOUT.mtz", "directory": 1, "type": "application/CCP4-mtz-observed",
             "job": 3, "sub_type": 1, "content": 4, "job_param_name": "HKLOUT"})))
    add(X("files_create_unknown_type", "POST", "/files/",
          J({"name": "x.bin", "directory": 1, "type": "application/nonexistent", "job": 1})))
    add(X("files_create_bad_directory", "POST", "/files/",
          J({"name": "x.pdb", "directory": 3, "type": "chemical/x-pdb", "job": 1})))
    add(X("files_list", "GET", "/files/"))
    add(X("files_list_by_job", "GET", "/files/?job=1"))
    add(X("files_list_by_job_unknown", "GET", "/files/?job=999"))
    add(X("files_list_by_type", "GET", "/files/?type=chemical%2Fx-pdb"))
    add(X("files_list_by_directory", "GET", "/files/?directory=2"))
    add(X("files_list_by_project", "GET", "/files/?project=1"))
    add(X("files_list_by_project_other", "GET", "/files/?project=2"))
    add(X("files_list_by_job_project", "GET", "/files/?job__project=1"))
    add(X("files_list_top_level_jobs", "GET", "/files/?job__parent__isnull=true"))
    add(X("files_list_sub_jobs", "GET", "/files/?job__parent__isnull=false"))
    add(X("files_retrieve", "GET", "/files/1/"))
    add(X("files_retrieve_unknown", "GET", "/files/999/"))
    add(X("files_patch_annotation", "PATCH", "/files/1/", J({"annotation": "Refined model"})))
    add(X("files_download", "GET", "/files/1/download/", compare="status", body_text=True,
          resp_headers=DOWNLOAD_HEADERS,
          setup_file={"project": "alpha", "rel_path": "CCP4_JOBS/job_1/XYZOUT.pdb",
                      "text": PDB_TEXT}))
    add(X("files_download_imported", "GET", "/files/2/download/", compare="status",
          body_text=True, resp_headers=DOWNLOAD_HEADERS,
          setup_file={"project": "alpha", "rel_path": "CCP4_IMPORTED_FILES/alpha.seq",
                      "text": SEQ_TEXT}))
    add(X("files_download_missing_on_disk", "GET", "/files/3/download/", compare="status",
          quirk="file row exists but nothing on disk -> FileNotFoundError -> 500 HTML"))
    add(X("files_download_unknown", "GET", "/files/999/download/"))
    add(X("files_by_uuid_retrieve", "GET", "/files_by_uuid/{uuid:files_create_job_output:/uuid}/"))
    add(X("files_by_uuid_download", "GET",
          "/files_by_uuid/{uuid:files_create_job_output:/uuid}/download/",
          compare="status", body_text=True, resp_headers=DOWNLOAD_HEADERS))
    add(X("files_by_uuid_unknown", "GET", "/files_by_uuid/" + NIL_UUID + "/"))
    add(X("files_by_uuid_invalid", "GET", "/files_by_uuid/not-a-uuid/"))

    # --- file uses ----------------------------------------------------------------
    add(X("fileuses_list_empty", "GET", "/fileuses/"))
    add(X("fileuses_create_input", "POST", "/fileuses/",
          J({"file": 1, "job": 2, "role": 1, "job_param_name": "XYZIN"})))
    add(X("fileuses_create_output", "POST", "/fileuses/",
          J({"file": 1, "job": 1, "role": 0, "job_param_name": "XYZOUT"})))
    add(X("fileuses_create_duplicate", "POST", "/fileuses/",
          J({"file": 1, "job": 2, "role": 1, "job_param_name": "XYZIN"})))
    add(X("fileuses_create_empty_body", "POST", "/fileuses/", J({})))
    add(X("fileuses_list", "GET", "/fileuses/"))
    add(X("fileuses_retrieve", "GET", "/fileuses/1/"))
    add(X("fileuses_patch", "PATCH", "/fileuses/2/", J({"job_param_name": "XYZOUT2"})))
    add(X("fileuses_delete", "DELETE", "/fileuses/2/"))
    add(X("fileuses_retrieve_unknown", "GET", "/fileuses/999/"))
    add(X("project_file_uses", "GET", "/projects/1/file_uses/"))
    add(X("project_job_float_values", "GET", "/projects/1/job_float_values/"))
    add(X("project_job_char_values", "GET", "/projects/1/job_char_values/"))
    add(X("project_job_tree", "GET", "/projects/1/job_tree/"))
    add(X("jobs_dependent_jobs", "GET", "/jobs/1/dependent_jobs/"))
    add(X("jobs_dependent_jobs_none", "GET", "/jobs/4/dependent_jobs/"))
    add(X("jobs_dependent_jobs_unknown", "GET", "/jobs/999/dependent_jobs/"))
    add(X("jobs_bulk_dependent_jobs", "POST", "/jobs/bulk_dependent_jobs/", J({"job_ids": [1]})))
    add(X("jobs_bulk_dependent_jobs_empty", "POST", "/jobs/bulk_dependent_jobs/", J({})))

    # --- file imports / file types -------------------------------------------------
    add(X("fileimports_list_empty", "GET", "/fileimports/"))
    add(X("fileimports_create", "POST", "/fileimports/",
          J({"file": 2, "name": "original.seq", "checksum": "d41d8cd98f00b204e9800998ecf8427e"})))
    add(X("fileimports_create_duplicate_file", "POST", "/fileimports/",
          J({"file": 2, "name": "again.seq", "checksum": "d41d8cd98f00b204e9800998ecf8427e"})))
    add(X("fileimports_create_empty_body", "POST", "/fileimports/", J({})))
    add(X("fileimports_list", "GET", "/fileimports/"))
    add(X("filetypes_list", "GET", "/filetypes/"))
    add(X("filetypes_retrieve_plain_name", "GET", "/filetypes/Unknown/"))
    add(X("filetypes_retrieve_mime_encoded_slash", "GET", "/filetypes/chemical%2Fx-pdb/",
          compare="status",
          quirk="%2F is decoded before routing, so a MIME-type PK never matches -> 404 HTML"))
    add(X("filetypes_retrieve_unknown", "GET", "/filetypes/NoSuchType/"))

    # --- project files on disk -----------------------------------------------------
    add(X("project_file_ok", "GET", "/projects/1/project_file/?path=CCP4_JOBS/job_1/hello.txt",
          compare="status", body_text=True, resp_headers=DOWNLOAD_HEADERS,
          setup_file={"project": "alpha", "rel_path": "CCP4_JOBS/job_1/hello.txt",
                      "text": HELLO_TEXT}))
    add(X("project_file_traversal_dotdot", "GET",
          "/projects/1/project_file/?path=../beta/CCP4_JOBS/secret.txt"))
    add(X("project_file_traversal_absolute", "GET", "/projects/1/project_file/?path=/etc/passwd"))
    add(X("project_file_traversal_encoded", "GET",
          "/projects/1/project_file/?path=%2e%2e%2f%2e%2e%2fetc%2fpasswd"))
    add(X("project_file_missing_file", "GET",
          "/projects/1/project_file/?path=CCP4_JOBS/job_1/absent.txt", compare="status",
          quirk="nonexistent file inside the project -> FileNotFoundError -> 500 HTML"))
    add(X("project_file_no_path_param", "GET", "/projects/1/project_file/", compare="status",
          quirk="missing ?path= -> TypeError -> 500 HTML"))
    add(X("files_by_path_ok", "GET", "/projects/1/files_by_path/CCP4_JOBS/job_1/hello.txt",
          compare="status", body_text=True, resp_headers=DOWNLOAD_HEADERS))
    add(X("files_by_path_nested_html", "GET",
          "/projects/1/files_by_path/CCP4_JOBS/job_1/report/index.html",
          compare="status", body_text=True, resp_headers=DOWNLOAD_HEADERS,
          setup_file={"project": "alpha", "rel_path": "CCP4_JOBS/job_1/report/index.html",
                      "text": NESTED_TEXT}))
    add(X("files_by_path_missing", "GET", "/projects/1/files_by_path/CCP4_JOBS/job_1/absent.txt"))
    add(X("files_by_path_traversal_dotdot", "GET",
          "/projects/1/files_by_path/../../../../etc/passwd"))
    add(X("files_by_path_traversal_encoded", "GET",
          "/projects/1/files_by_path/%2e%2e/%2e%2e/%2e%2e/etc/passwd"))
    add(X("files_by_path_directory", "GET", "/projects/1/files_by_path/CCP4_JOBS",
          compare="status", quirk="a directory path -> IsADirectoryError -> 500 HTML"))
    add(X("project_directory", "GET", "/projects/1/directory/", compare="status",
          quirk="listing holds inode/uid/size/atime/mtime and scandir order; compare status only"))
    add(X("project_directory_unknown", "GET", "/projects/999/directory/", compare="status",
          quirk="Project.DoesNotExist not handled -> 500 HTML"))

    # --- job deletion ----------------------------------------------------------------
    add(X("jobs_bulk_delete_empty", "POST", "/jobs/bulk_delete/", J({})))
    add(X("jobs_bulk_delete", "POST", "/jobs/bulk_delete/", J({"job_ids": [4]})))
    add(X("jobs_delete", "DELETE", "/jobs/3/"))
    add(X("jobs_retrieve_deleted", "GET", "/jobs/3/"))
    add(X("jobs_delete_unknown", "DELETE", "/jobs/999/"))
    add(X("files_delete", "DELETE", "/files/2/"))
    add(X("files_list_after_deletes", "GET", "/files/"))
    add(X("jobs_list_after_deletes", "GET", "/jobs/"))

    # --- project groups (campaigns) ----------------------------------------------------
    add(X("projectgroups_list_empty", "GET", "/projectgroups/"))
    add(X("projectgroups_create", "POST", "/projectgroups/", J({"name": "campaign-a"})))
    add(X("projectgroups_create_fragment", "POST", "/projectgroups/",
          J({"name": "frag-screen", "type": "fragment_set"})))
    add(X("projectgroups_create_bad_type", "POST", "/projectgroups/",
          J({"name": "bad-type", "type": "bogus"})))
    add(X("projectgroups_create_duplicate", "POST", "/projectgroups/", J({"name": "campaign-a"})))
    add(X("projectgroups_create_missing_name", "POST", "/projectgroups/", J({})))
    add(X("projectgroupmemberships_create_parent", "POST", "/projectgroupmemberships/",
          J({"group": 1, "project": 1, "type": "parent"})))
    add(X("projectgroupmemberships_create_member", "POST", "/projectgroupmemberships/",
          J({"group": 1, "project": 2, "type": "member"})))
    add(X("projectgroupmemberships_create_member_other", "POST", "/projectgroupmemberships/",
          J({"group": 2, "project": 3, "type": "member"})))
    add(X("projectgroupmemberships_create_duplicate", "POST", "/projectgroupmemberships/",
          J({"group": 1, "project": 2, "type": "parent"})))
    add(X("projectgroupmemberships_create_bad_type", "POST", "/projectgroupmemberships/",
          J({"group": 2, "project": 1, "type": "owner"})))
    add(X("projectgroups_list", "GET", "/projectgroups/"))
    add(X("projectgroups_list_type_fragment", "GET", "/projectgroups/?type=fragment_set"))
    add(X("projectgroups_list_type_general", "GET", "/projectgroups/?type=general_set"))
    add(X("projectgroups_retrieve", "GET", "/projectgroups/1/"))
    add(X("projectgroups_retrieve_unknown", "GET", "/projectgroups/999/"))
    add(X("projectgroups_patch_sites", "PATCH", "/projectgroups/2/",
          J({"sites": [{"name": "site-1", "origin": [1.5, 2.0, -3.25]}]})))
    add(X("projectgroupmemberships_list", "GET", "/projectgroupmemberships/"))
    add(X("projectgroupmemberships_list_by_group", "GET", "/projectgroupmemberships/?group=1"))
    add(X("projectgroupmemberships_list_by_type", "GET", "/projectgroupmemberships/?type=member"))
    add(X("projectgroupmemberships_list_by_project", "GET", "/projectgroupmemberships/?project=2"))
    add(X("projectgroupmemberships_retrieve", "GET", "/projectgroupmemberships/1/"))
    add(X("projectgroupmemberships_patch", "PATCH", "/projectgroupmemberships/3/",
          J({"type": "parent"})))
    add(X("project_campaigns_get", "GET",
          "/projectgroups/project_campaigns/?project_ids=1,2,3&include_members=true"))
    add(X("project_campaigns_get_parents_only", "GET",
          "/projectgroups/project_campaigns/?project_ids=1,2"))
    add(X("project_campaigns_get_no_ids", "GET", "/projectgroups/project_campaigns/"))
    add(X("project_campaigns_post", "POST", "/projectgroups/project_campaigns/",
          J({"project_ids": [1, 2, 3], "include_members": True})))
    add(X("project_campaigns_post_empty", "POST", "/projectgroups/project_campaigns/", J({})))
    add(X("projectgroupmemberships_delete", "DELETE", "/projectgroupmemberships/2/"))
    add(X("projectgroups_delete", "DELETE", "/projectgroups/2/"))
    add(X("projectgroups_list_after_delete", "GET", "/projectgroups/"))

    # --- routing, redirects, CORS ------------------------------------------------------
    add(X("unknown_route", "GET", "/no-such-route/", compare="status"))
    add(X("redirect_missing_slash_list", "GET", "/projects", compare="status"))
    add(X("redirect_missing_slash_query", "GET", "/projects?name=alpha", compare="status"))
    add(X("redirect_missing_slash_detail", "GET", "/projects/1", compare="status"))
    add(X("post_missing_slash", "POST", "/projects", J({"name": "noslash", "directory": "__default__"}),
          compare="status",
          quirk="APPEND_SLASH cannot redirect a POST in DEBUG -> RuntimeError -> 500 HTML"))
    add(X("cors_preflight", "OPTIONS", "/projects/",
          headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "content-type, authorization"},
          compare="status", resp_headers=CORS_HEADERS + ["content-length"]))
    add(X("cors_simple_get", "GET", "/projects/?name=alpha", headers={"Origin": ORIGIN},
          resp_headers=CORS_HEADERS + SECURITY_HEADERS))
    add(X("projects_list_final", "GET", "/projects/"))
    return s


# ---------------------------------------------------------------------------
# uploads.json: tasks, file uploads into job parameters, digests (--sequence uploads)
# ---------------------------------------------------------------------------

FREER_DATA = "pkg:wrappers/freerflag/test_data"
EDSTATS_DATA = "pkg:wrappers/edstats/test_data"
BRAP_MTZ = "pkg:wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz"
IPAIR_SEL = "/*/*/[I(+),SIGI(+),I(-),SIGI(-)]"
FASTA_TEXT = ">rnase\nDVSGTVCLSALPPEATDTLNLIASDGPFPYSQDGVVFQNRESVLPTQSYGYYHEYTVITPGARTRGTRRIICGEATQEDYYTGDHYATFSLIDQTC\n"
ASU_ORDER = ("part order of a CAsuDataFile (ASU contents) parameter: the reference's order comes from a Python "
             "set and changes from one server process to the next (two recordings differ), so only the status "
             "is compared")
REBUILD = ("digest of a mini-MTZ: upstream regenerates the full unique reflection set of the resolution range "
           "when it splits columns, i2server keeps the source's reflections (crates/i2-formats/src/upload.rs), so "
           "resolution and reflection-derived numbers differ (also in the last digit of highRes)")


def UP(name, job, object_path, file_name=None, source=None, text=None, selector=None, **kw):
    fields = {}
    if object_path is not None:
        fields["object_path"] = object_path
    if selector is not None:
        fields["column_selector"] = selector
    files = {}
    if file_name is not None:
        spec = {"name": file_name}
        if text is not None:
            spec["text"] = text
        else:
            spec["source"] = source
        files["file"] = spec
    return X(name, "POST", "/jobs/%d/upload_file_param/" % job, MULTIF(fields, files), **kw)


def build_upload_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "uploads", "directory": "__default__"})))

    # --- create_task ------------------------------------------------------------
    for task in ["freerflag", "ctruncate", "coordinate_selector", "ProvideSequence", "edstats",
                 "ProvideAsuContents", "freerflag", "modelcraft"]:
        n = sum(1 for x in s if x["name"].startswith("create_task_" + task))
        add(X("create_task_%s%s" % (task, "_%d" % (n + 1) if n else ""), "POST",
              "/projects/1/create_task/", J({"task_name": task})))
    add(X("create_task_no_task_name", "POST", "/projects/1/create_task/", J({})))
    add(X("create_task_unknown_project", "POST", "/projects/99/create_task/", J({"task_name": "freerflag"})))
    add(X("jobs_list_after_create", "GET", "/jobs/?project=1"))
    add(X("container_fresh_freerflag", "GET", "/jobs/1/container/"))
    add(X("params_xml_fresh_ctruncate", "GET", "/jobs/2/params_xml/"))

    # --- uploads that succeed -----------------------------------------------------
    add(UP("upload_fsigf", 1, "freerflag.inputData.F_SIGF", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[F,SIGF]"))
    add(UP("upload_freer", 1, "freerflag.inputData.FREERFLAG", "rnase25_freer.mtz",
           FREER_DATA + "/rnase25_freer.mtz", selector="/*/*/[FREER]"))
    add(UP("upload_ipair", 2, "ctruncate.inputData.OBSIN", "brap_pk_6A_scaled2.mtz", BRAP_MTZ,
           selector=IPAIR_SEL))
    add(UP("upload_fphi", 5, "edstats.inputData.FPHIIN1", "FPHIOUT.mtz", EDSTATS_DATA + "/FPHIOUT.mtz",
           selector="/*/*/[F,PHI]"))
    add(UP("upload_pdb", 3, "coordinate_selector.inputData.XYZIN", "ghcp4i_67_buccaneer_refmac1.pdb",
           EDSTATS_DATA + "/ghcp4i_67_buccaneer_refmac1.pdb"))
    add(UP("upload_seq", 4, "ProvideSequence.inputData.SEQIN", "rnase.fasta", text=FASTA_TEXT))

    # --- uploads that fail (job 7, a second freerflag) ---------------------------
    add(UP("upload_err_wrong_columns", 7, "freerflag.inputData.F_SIGF", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[FP,SIGFP]"))
    add(UP("upload_err_pdb_into_mtz", 7, "freerflag.inputData.F_SIGF", "model.pdb",
           EDSTATS_DATA + "/ghcp4i_67_buccaneer_refmac1.pdb", selector="/*/*/[F,SIGF]",
           deviation="error text: the reference reports gemmi's mmCIF parser error (with the saved path); "
                     "i2server says the file is not an MTZ file (same 400 envelope)"))
    add(UP("upload_err_missing_file", 7, "freerflag.inputData.F_SIGF", selector="/*/*/[F,SIGF]"))
    add(UP("upload_err_bad_object_path", 7, "freerflag.inputData.NOSUCH", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[F,SIGF]"))
    add(UP("upload_err_non_file_param", 7, "freerflag.controlParameters.FRAC", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz"))
    add(UP("upload_err_unknown_job", 99, "freerflag.inputData.F_SIGF", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[F,SIGF]"))

    # --- rows, imports, parameters ------------------------------------------------
    for j in [1, 2, 3, 4, 5, 7]:
        add(X("files_by_job_%d" % j, "GET", "/files/?job=%d" % j))
    add(X("fileimports_list", "GET", "/fileimports/"))
    add(X("container_freerflag_after_uploads", "GET", "/jobs/1/container/"))
    add(X("params_xml_freerflag_after_uploads", "GET", "/jobs/1/params_xml/"))
    add(X("params_xml_ctruncate_after_upload", "GET", "/jobs/2/params_xml/"))
    add(X("params_xml_coordinate_selector_after_upload", "GET", "/jobs/3/params_xml/"))
    add(X("params_xml_ProvideSequence_after_upload", "GET", "/jobs/4/params_xml/", deviation=ASU_ORDER))
    add(X("container_ctruncate_after_upload", "GET", "/jobs/2/container/"))
    add(X("container_errors_job", "GET", "/jobs/7/container/"))
    add(X("get_parameter_uploaded", "GET", "/jobs/1/get_parameter/?object_path=freerflag.inputData.F_SIGF"))

    # --- digests ------------------------------------------------------------------
    for fid, what in [(1, "fsigf"), (2, "freer"), (3, "ipair"), (4, "fphi"), (5, "pdb"), (6, "seq")]:
        add(X("files_digest_%s" % what, "GET", "/files/%d/digest/" % fid,
              **({"deviation": REBUILD} if what in ("fsigf", "freer", "ipair", "fphi") else {})))
    add(X("files_digest_unknown", "GET", "/files/999/digest/"))
    add(X("files_by_uuid_digest_pdb", "GET", "/files_by_uuid/{uuid:files_by_job_3:/0/uuid}/digest/"))
    add(X("files_by_uuid_digest_unknown", "GET", "/files_by_uuid/%s/digest/" % NIL_UUID))
    add(X("jobs_digest_pdb", "GET", "/jobs/3/digest/?object_path=coordinate_selector.inputData.XYZIN"))
    add(X("jobs_digest_container_path", "GET",
          "/jobs/4/digest/?object_path=ProvideSequence.container.inputData.SEQIN"))
    add(X("jobs_digest_trailing_slash", "GET", "/jobs/3/digest/?object_path=coordinate_selector.inputData.XYZIN/"))
    add(X("jobs_digest_mtz", "GET", "/jobs/1/digest/?object_path=freerflag.inputData.F_SIGF", deviation=REBUILD))
    add(X("jobs_digest_unset_param", "GET", "/jobs/7/digest/?object_path=freerflag.inputData.F_SIGF"))
    add(X("jobs_digest_bad_path", "GET", "/jobs/3/digest/?object_path=coordinate_selector.inputData.NOSUCH"))
    add(X("jobs_digest_non_file_param", "GET", "/jobs/1/digest/?object_path=freerflag.controlParameters.FRAC"))
    add(X("jobs_digest_no_object_path", "GET", "/jobs/3/digest/"))
    add(X("jobs_digest_unknown_job", "GET", "/jobs/999/digest/?object_path=freerflag.inputData.F_SIGF"))
    add(X("jobs_digest_param_file_pdb", "GET", "/jobs/3/digest_param_file/?job_param_name=XYZIN_"))
    add(X("jobs_digest_param_file_seq", "GET", "/jobs/4/digest_param_file/?job_param_name=SEQINx"))
    add(X("jobs_digest_param_file_unstripped", "GET", "/jobs/3/digest_param_file/?job_param_name=XYZIN",
          quirk="the last character is stripped: XYZI names no file -> File.DoesNotExist -> 500"))
    add(X("jobs_digest_param_file_unknown_job", "GET", "/jobs/999/digest_param_file/?job_param_name=XYZIN_"))
    add(X("jobs_digest_param_file_no_name", "GET", "/jobs/3/digest_param_file/", compare="status",
          quirk="job_param_name missing: None[:-1] raises TypeError outside the try -> 500 HTML"))
    add(X("files_create_multipdb_row", "POST", "/files/",
          J({"name": "ensemble.pdb", "directory": 2, "type": "MultiPDB", "job": 3})))
    add(X("files_digest_unsupported_type", "GET", "/files/7/digest/"))
    add(X("files_digest_missing_on_disk", "GET", "/files/5/digest/",
          remove_file={"project": "uploads", "rel_path": "CCP4_IMPORTED_FILES/ghcp4i_67_buccaneer_refmac1.pdb"}))
    add(X("jobs_digest_missing_on_disk", "GET", "/jobs/3/digest/?object_path=coordinate_selector.inputData.XYZIN"))

    # --- last: sources from ../shared/fixtures (the replayer stops here without them) ---
    add(UP("upload_hl", 8, "modelcraft.inputData.PHASES", "initial_phases.mtz",
           "shared:gamma/initial_phases.mtz", selector="/*/*/[HLA,HLB,HLC,HLD]"))
    add(UP("upload_asu", 8, "modelcraft.inputData.ASUIN", "gamma.asu.xml", "shared:gamma/gamma.asu.xml",
           deviation=ASU_ORDER))
    add(X("files_by_job_8", "GET", "/files/?job=8"))
    add(X("files_digest_hl", "GET", "/files/8/digest/", deviation=REBUILD))
    add(X("files_digest_asu", "GET", "/files/9/digest/"))
    add(X("container_modelcraft_after_uploads", "GET", "/jobs/8/container/", deviation=ASU_ORDER))
    add(X("params_xml_modelcraft_after_uploads", "GET", "/jobs/8/params_xml/", deviation=ASU_ORDER))
    # upstream creates the job row before it finds out that the task does not exist: keep it last
    # create_task fills a new job's file inputs from the latest job back (auto_context): here
    # modelcraft's F_SIGF, FREERFLAG, PHASES and ASUIN from earlier imports.
    add(X("create_task_after_uploads", "POST", "/projects/1/create_task/", J({"task_name": "modelcraft"})))
    add(X("params_xml_filled_from_project", "GET", "/jobs/9/params_xml/", deviation=ASU_ORDER))
    add(X("create_task_unknown_task", "POST", "/projects/1/create_task/", J({"task_name": "no_such_task"}),
          quirk="unknown task: the job row is created, then 500 'NoneType' object is not callable"))
    return s


# ---------------------------------------------------------------------------
# jobs.json: run_local, regenerate_report, active_jobs (--sequence jobs)
# Only exchanges whose answer does not depend on how fast a job runs: the replay has no
# workers, so a queued job stays queued there (synchronous run_local is tested end to end
# in jobs_routes.rs instead).
# ---------------------------------------------------------------------------

def build_jobs_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "jobsconf", "directory": "__default__"})))
    add(X("create_task_freerflag", "POST", "/projects/1/create_task/", J({"task_name": "freerflag"})))
    add(X("create_task_ctruncate", "POST", "/projects/1/create_task/", J({"task_name": "ctruncate"})))
    add(X("active_jobs_none", "GET", "/active_jobs/"))
    # --- regenerate_report ------------------------------------------------------------
    add(X("regenerate_report_pending", "POST", "/jobs/1/regenerate_report/"))
    add(X("regenerate_report_unknown_job", "POST", "/jobs/99/regenerate_report/"))
    add(X("regenerate_report_get_not_allowed", "GET", "/jobs/1/regenerate_report/", compare="status"))
    # --- run_local ----------------------------------------------------------------------
    add(X("run_local_unknown_job", "POST", "/jobs/99/run_local/"))
    add(X("run_local_needs_ccp4", "POST", "/jobs/2/run_local/", J({})))
    add(X("run_local_needs_ccp4_sync", "POST", "/jobs/2/run_local/", J({"synchronous": True})))
    add(X("run_local_get_not_allowed", "GET", "/jobs/1/run_local/", compare="status"))
    add(X("run_local_queue_fallback", "POST", "/jobs/2/run_local/", J({"on_unavailable": "queue"})))
    add(X("run_local_ccp4_free", "POST", "/jobs/1/run_local/", RAW("application/json", "{not json")))
    # --- run / cancel / report of a job that never ran, and of unknown jobs ---------------
    add(X("create_task_freerflag_pending", "POST", "/projects/1/create_task/", J({"task_name": "freerflag"})))
    add(X("cancel_pending", "POST", "/jobs/3/cancel/"))
    add(X("job_after_cancel_pending", "GET", "/jobs/3/"))
    add(X("report_xml_pending", "GET", "/jobs/3/report_xml/"))
    add(X("cancel_unknown_job", "POST", "/jobs/99/cancel/"))
    add(X("run_unknown_job", "POST", "/jobs/99/run/"))
    add(X("report_xml_unknown_job", "GET", "/jobs/99/report_xml/"))
    add(X("cancel_get_not_allowed", "GET", "/jobs/3/cancel/", compare="status"))
    add(X("run_get_not_allowed", "GET", "/jobs/3/run/", compare="status"))
    return s


# ---------------------------------------------------------------------------
# tasks.json: parameters, validation, context jobs, what_next (--sequence tasks)
# ---------------------------------------------------------------------------

TASKS = ["freerflag", "prosmart_refmac", "phaser_simple", "aimless_pipe", "servalcat_pipe", "modelcraft",
         "ctruncate", "molrep_pipe", "ProvideAsuContents", "edstats", "shelx", "arcimboldo"]
# (job, object path, good value, refused value or None, a parameter to read)
SETS = {
    "freerflag": ("freerflag.controlParameters.FRAC", 0.1, 1.5, "freerflag.controlParameters.GEN_MODE"),
    "prosmart_refmac": ("prosmart_refmac.controlParameters.NCYCLES", 5, -1,
                        "prosmart_refmac.container.controlParameters.NCYCLES"),
    "phaser_simple": ("phaser_simple.inputData.F_OR_I", "F", None, "phaser_simple.inputData.MODE_TY"),
    "aimless_pipe": ("aimless_pipe.controlParameters.WAVELENGTH", 0.9795, 11.0,
                     "aimless_pipe.controlParameters.INFOCONTENTTHRESHOLD"),
    "servalcat_pipe": ("servalcat_pipe.controlParameters.NCYCLES", 3, -2, "servalcat_pipe.controlParameters.WEIGHT"),
    "modelcraft": ("modelcraft.controlParameters.CYCLES", 10, None, "modelcraft.controlParameters.BASIC"),
    "ctruncate": ("ctruncate.controlParameters.NRES", 120, 0, "ctruncate.controlParameters.NRES"),
    "molrep_pipe": ("molrep_pipe.controlParameters.SIM", 0.3, 2.0, "molrep_pipe.controlParameters.BADD"),
    "edstats": ("edstats.controlParameters.SIGMA_RO", 2.0, 0.01, "edstats.controlParameters.SIGMA_RZ_PLUS"),
    "shelx": ("shelx.inputData.ATOM_TYPE", "Se", None, "shelx.inputData.ATOM_TYPE"),
}
CONTAINER_ORDER = ("; the order of a task's own containers after the four standard ones follows a Python set in "
                   "the reference and changes from job to job")
SORTED_REPORT = ("validation reports are compared as sorted lists of <errorReport> entries: upstream's order "
                 "follows Python sets and changes between server processes")


def build_task_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "tasks", "directory": "__default__"})))
    for i, task in enumerate(TASKS, start=1):
        add(X("create_%s" % task, "POST", "/projects/1/create_task/", J({"task_name": task})))
    for i, task in enumerate(TASKS, start=1):
        add(X("validation_fresh_%s" % task, "GET", "/jobs/%d/validation/" % i))
        add(X("run_time_validation_fresh_%s" % task, "GET", "/jobs/%d/run_time_validation/" % i))
        add(X("what_next_%s" % task, "GET", "/jobs/%d/what_next/" % i))
        add(X("i2run_command_%s" % task, "GET", "/jobs/%d/i2run_command/" % i))
    for i, task in enumerate(TASKS, start=1):
        if task not in SETS:
            continue
        path, good, bad, read = SETS[task]
        add(X("get_parameter_before_%s" % task, "GET", "/jobs/%d/get_parameter/?object_path=%s" % (i, read)))
        add(X("set_parameter_%s" % task, "POST", "/jobs/%d/set_parameter/" % i,
              J({"object_path": path, "value": good})))
        if bad is not None:
            add(X("set_parameter_refused_%s" % task, "POST", "/jobs/%d/set_parameter/" % i,
                  J({"object_path": path, "value": bad})))
        add(X("get_parameter_after_%s" % task, "GET", "/jobs/%d/get_parameter/?object_path=%s" % (i, path)))
        add(X("params_xml_after_set_%s" % task, "GET", "/jobs/%d/params_xml/" % i))
        add(X("validation_after_set_%s" % task, "GET", "/jobs/%d/validation/" % i))
    # plugin rules that depend on values
    add(X("set_parameter_phaser_comp_by_asu", "POST", "/jobs/3/set_parameter/",
          J({"object_path": "phaser_simple.inputData.COMP_BY", "value": "ASU"})))
    add(X("validation_phaser_comp_by_asu", "GET", "/jobs/3/validation/"))
    add(X("set_parameter_aimless_mode_match", "POST", "/jobs/4/set_parameter/",
          J({"object_path": "aimless_pipe.controlParameters.MODE", "value": "MATCH"})))
    add(X("set_parameter_aimless_reference_hkl", "POST", "/jobs/4/set_parameter/",
          J({"object_path": "aimless_pipe.controlParameters.REFERENCE_DATASET", "value": "HKL"})))
    add(X("validation_aimless_match_hkl", "GET", "/jobs/4/validation/"))
    # params_xml PUT: a file the runner can read, then one that is not XML
    add(X("params_xml_put_bad", "PUT", "/jobs/7/params_xml/", J({"xml": "<not-closed>"}),
          deviation="the reference quotes Python's expat parser message; i2server names its own parser's"))
    # clone after a change
    add(X("clone_prosmart_refmac", "POST", "/jobs/2/clone/"))
    add(X("params_xml_clone", "GET", "/jobs/13/params_xml/"))
    add(X("validation_clone", "GET", "/jobs/13/validation/"))
    add(X("get_parameter_clone", "GET", "/jobs/13/get_parameter/?object_path=prosmart_refmac.controlParameters.NCYCLES"))
    # create_task with input_params: inputData names are applied, others are not
    add(X("create_task_input_params_phaser", "POST", "/projects/1/create_task/",
          J({"task_name": "phaser_simple", "input_params": {"F_OR_I": "F", "MODE_TY": "MR_FRF"}})))
    add(X("params_xml_input_params_phaser", "GET", "/jobs/14/params_xml/", deviation=ASU_ORDER + CONTAINER_ORDER))
    add(X("create_task_input_params_control", "POST", "/projects/1/create_task/",
          J({"task_name": "freerflag", "input_params": {"FRAC": 0.2}})))
    add(X("params_xml_input_params_control", "GET", "/jobs/15/params_xml/"))
    # a file: validation with it, context jobs from it
    add(UP("upload_fsigf_job1", 1, "freerflag.inputData.F_SIGF", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[F,SIGF]"))
    add(UP("upload_freer_job1", 1, "freerflag.inputData.FREERFLAG", "rnase25_freer.mtz",
           FREER_DATA + "/rnase25_freer.mtz", selector="/*/*/[FREER]"))
    add(X("validation_with_file", "GET", "/jobs/1/validation/"))
    add(X("create_task_context_job", "POST", "/projects/1/create_task/",
          J({"task_name": "prosmart_refmac", "context_job_uuid": "{uuid:create_freerflag:/data/new_job/uuid}"})))
    add(X("params_xml_context_job", "GET", "/jobs/16/params_xml/", deviation=ASU_ORDER + CONTAINER_ORDER))
    add(X("container_context_job", "GET", "/jobs/16/container/", deviation=ASU_ORDER))
    add(X("validation_context_job", "GET", "/jobs/16/validation/"))
    add(X("create_task_no_auto_context", "POST", "/projects/1/create_task/",
          J({"task_name": "servalcat_pipe", "auto_context": False})))
    add(X("params_xml_no_auto_context", "GET", "/jobs/17/params_xml/", deviation=CONTAINER_ORDER))
    add(X("create_task_auto_context", "POST", "/projects/1/create_task/", J({"task_name": "ctruncate"})))
    add(X("params_xml_auto_context", "GET", "/jobs/18/params_xml/"))
    add(X("set_context_job", "POST", "/jobs/17/set_context_job/",
          J({"context_job_uuid": "{uuid:create_freerflag:/data/new_job/uuid}"})))
    add(X("params_xml_after_set_context_job", "GET", "/jobs/17/params_xml/",
          deviation="the reference saves the whole container here; its order of a task's own containers and of "
                    "the parts of CServalcatPerformance follows Python sets and changes from job to job"))
    add(X("validation_after_set_context_job", "GET", "/jobs/17/validation/"))
    # object methods
    add(X("object_method_molecular_weight_empty", "POST", "/jobs/9/object_method/",
          J({"object_path": "ProvideAsuContents.inputData.ASU_CONTENT", "method_name": "molecularWeight"})))
    add(X("object_method_unknown_name", "POST", "/jobs/9/object_method/",
          J({"object_path": "ProvideAsuContents.inputData.ASU_CONTENT", "method_name": "no_such_method"}),
          compare="status", quirk="unknown method name: AttributeError escapes the view -> 500 HTML"))
    add(X("plugin_method_unknown_name", "POST", "/jobs/1/plugin_method/",
          J({"method_name": "no_such_method"}),
          deviation="i2server runs no plugin method; its 400 names the method instead of Python's AttributeError text"))
    # a file gone from disk: mustExist
    add(X("validation_file_missing", "GET", "/jobs/1/validation/",
          remove_file={"project": "tasks", "rel_path": "CCP4_IMPORTED_FILES/rnase25_fsigf.mtz"}))
    # unknown jobs
    add(X("validation_unknown_job", "GET", "/jobs/999/validation/"))
    add(X("run_time_validation_unknown_job", "GET", "/jobs/999/run_time_validation/"))
    add(X("what_next_unknown_job", "GET", "/jobs/999/what_next/"))
    add(X("i2run_command_unknown_job", "GET", "/jobs/999/i2run_command/"))
    return s


# ---------------------------------------------------------------------------
# methods.json: object_method / plugin_method (--sequence methods)
# ---------------------------------------------------------------------------

RNASE_MTZ = FREER_DATA + "/rnase25.mtz"
BUCC_PDB = EDSTATS_DATA + "/ghcp4i_67_buccaneer_refmac1.pdb"
TLS_TEXT = ("TLS    Group 1\nRANGE  'A  21.' 'A 300.' ALL\nRANGE  'A 301.' 'A 727.' MAIN\n"
            "TLS  second\nRANGE  'B  21.' 'B 727.' ALL\n")
UNLOADED_SEQ = ("estimate_num_substructure: upstream never loads the uploaded SEQIN file (its fileContent exists "
                "but is empty) and answers {error: 'Sequence file contains no residues'}; i2server reads the file")
ASU_PARAMS_XML = """<?xml version='1.0' encoding='utf-8'?>
<ns0:ccp4i2 xmlns:ns0="http://www.ccp4.ac.uk/ccp4ns">
  <ccp4i2_header>
    <function>PARAMS</function>
    <pluginName>ProvideAsuContents</pluginName>
  </ccp4i2_header>
  <ccp4i2_body>
    <inputData>
      <ASU_CONTENT>
        <CAsuContentSeq>
          <nCopies>2</nCopies>
          <name>a</name>
          <sequence>MKVLAAGIVGxz</sequence>
        </CAsuContentSeq>
        <CAsuContentSeq>
          <name>r</name>
          <polymerType>RNA</polymerType>
          <sequence>ACGU</sequence>
        </CAsuContentSeq>
      </ASU_CONTENT>
    </inputData>
  </ccp4i2_body>
</ns0:ccp4i2>
"""
OWN_MESSAGE = "i2server's 400 names the method and what is available instead of Python's AttributeError text"


def OM(name, job, path, method, args=None, kwargs=None, **kw):
    body = {"object_path": path, "method_name": method}
    if args is not None:
        body["args"] = args
    if kwargs is not None:
        body["kwargs"] = kwargs
    return X(name, "POST", "/jobs/%d/object_method/" % job, J(body), **kw)


def PM(name, job, method, args=None, kwargs=None, **kw):
    body = {"method_name": method}
    if args is not None:
        body["args"] = args
    if kwargs is not None:
        body["kwargs"] = kwargs
    return X(name, "POST", "/jobs/%d/plugin_method/" % job, J(body), **kw)


def SET(name, job, path, value):
    return X(name, "POST", "/jobs/%d/set_parameter/" % job, J({"object_path": path, "value": value}))


def build_methods_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "methods", "directory": "__default__"})))
    # 1 ProvideAsuContents, 2 ProvideSequence, 3 ProvideTLS, 4 shelx, 5 matthews,
    # 6 ProvideTLS (nothing set), 7 ProvideAsuContents (no HKLIN), 8 shelx (no SEQIN)
    for task in ["ProvideAsuContents", "ProvideSequence", "ProvideTLS", "shelx", "matthews", "ProvideTLS",
                 "ProvideAsuContents", "shelx"]:
        add(X("create_%s_%d" % (task, len(s)), "POST", "/projects/1/create_task/",
              J({"task_name": task, "auto_context": False})))
    add(UP("upload_hklin_asu", 1, "ProvideAsuContents.inputData.HKLIN", "rnase25.mtz", RNASE_MTZ))
    add(UP("upload_hklin_matthews", 5, "matthews.inputData.HKLIN", "rnase25.mtz", RNASE_MTZ))
    add(UP("upload_seqin_shelx", 4, "shelx.inputData.SEQIN", "rnase.fasta", text=FASTA_TEXT, deviation=ASU_ORDER))
    add(UP("upload_xyzin_tls", 3, "ProvideTLS.inputData.XYZIN", "model.pdb", BUCC_PDB))
    add(UP("upload_tlsin_tls", 3, "ProvideTLS.inputData.TLSIN", "groups.tls", text=TLS_TEXT))

    # --- matthewsCoeff (CMtzData, an MTZ file's fileContent) ---------------------------
    hk = "ProvideAsuContents.inputData.HKLIN.fileContent"
    add(OM("matthews_mol_wt", 1, hk, "matthewsCoeff", kwargs={"molWt": 13700.0}))
    add(OM("matthews_n_res", 1, hk, "matthewsCoeff", kwargs={"nRes": 124}))
    add(OM("matthews_nucleic", 1, hk, "matthewsCoeff", kwargs={"molWt": 13700.0, "polymerMode": "D"}))
    add(OM("matthews_complex", 1, hk, "matthewsCoeff", kwargs={"molWt": 9000, "polymerMode": "c"}))
    add(OM("matthews_unknown_mode", 1, hk, "matthewsCoeff", kwargs={"molWt": 13700.0, "polymerMode": "Q"}))
    add(OM("matthews_positional", 1, hk, "matthewsCoeff", args=[None, None, 25000.5]))
    add(OM("matthews_matthews_task", 5, "matthews.inputData.HKLIN.fileContent", "matthewsCoeff",
           kwargs={"molWt": 13700.0}))
    add(OM("matthews_no_weight", 1, hk, "matthewsCoeff"))
    add(OM("matthews_tiny_weight", 1, hk, "matthewsCoeff", kwargs={"molWt": 0.001}))
    add(OM("matthews_seq_file_arg", 1, hk, "matthewsCoeff", args=[13700.0]))
    add(OM("matthews_no_file", 7, hk, "matthewsCoeff", kwargs={"molWt": 13700.0}))
    add(OM("matthews_bad_weight", 1, hk, "matthewsCoeff", kwargs={"molWt": "abc"},
           quirk="float('abc') raises ValueError outside the CException handler -> 500 HTML"))
    add(OM("matthews_on_file_not_content", 1, "ProvideAsuContents.inputData.HKLIN", "matthewsCoeff",
           kwargs={"molWt": 13700.0}, quirk="CMtzDataFile has no matthewsCoeff: AttributeError -> 500 HTML"))

    # --- molecularWeight (ASU contents) ------------------------------------------------
    add(OM("molecular_weight_empty_list", 1, "ProvideAsuContents.inputData.ASU_CONTENT", "molecularWeight"))
    asu = "ProvideAsuContents.inputData.ASU_CONTENT"
    # set_parameter of a whole list is not in i2server yet: the items come in through params_xml
    add(X("put_params_asu_content", "PUT", "/jobs/7/params_xml/", J({"xml": ASU_PARAMS_XML})))
    add(OM("molecular_weight_list", 7, asu, "molecularWeight"))
    add(OM("molecular_weight_item", 7, asu + "[0]", "molecularWeight"))
    add(OM("molecular_weight_item_as_rna", 7, asu + "[1]", "molecularWeight", args=["RNA"]))
    add(OM("molecular_weight_item_kwarg_dna", 7, asu + "[1]", "molecularWeight", kwargs={"polymerType": "DNA"},
           quirk="'U' is not a DNA letter: Biopython's ValueError -> 500 HTML"))
    add(OM("molecular_weight_bad_polymer", 7, asu + "[1]", "molecularWeight", kwargs={"polymerType": "XNA"},
           quirk="Biopython's ValueError for an unknown polymer type -> 500 HTML"))

    # --- atomCount (CPdbDataFile) -------------------------------------------------------
    xyz = "ProvideTLS.inputData.XYZIN"
    for tag, sel in [("empty", ""), ("all", "all"), ("chain_a", "A/"), ("chain_b", "B/"),
                     ("braces_or", "{A/ or B/}"), ("chain_list", "A,C/"), ("any_chain", "*/")]:
        add(OM("atom_count_%s" % tag, 3, xyz, "atomCount", args=[sel]))
    add(OM("atom_count_kwarg", 3, xyz, "atomCount", kwargs={"selection_string": "C/"}))
    add(OM("atom_count_unset_file", 6, xyz, "atomCount", args=["A/"]))
    for tag, sel in [("residue_range", "A/21-30"), ("range_atoms", "A/21-30/CA"), ("name_element", "A/(ALA)/CA[C]"),
                     ("atom_element", "CA[C]"), ("bare_chain", "C"), ("residue_name", "(UNK)"),
                     ("protein", "protein"), ("water", "water"), ("hetero", "hetero"), ("ligand", "ligand"),
                     ("polymer", "POLYMER"), ("backbone", "backbone"), ("sidechain", "sidechain"),
                     ("not_chain", "not A/"), ("and_category", "protein and A/"),
                     ("range_and_backbone", "A/21-30 and backbone"), ("nested", "{A/ or B/} and not (GLY)"),
                     ("grouped", "(A/ or C/) and CA[C]"), ("altloc", "A/*/CA:*"),
                     # upstream answers -1: a model field, a residue-name list, bad syntax
                     ("model", "/1/A"), ("name_list", "(ALA,GLY)"), ("dangling_dot", "A/21."),
                     ("bad_syntax", "bad(("), ("bad_char", "A/#")]:
        add(OM("atom_count_%s" % tag, 3, xyz, "atomCount", args=[sel]))
    add(OM("atom_count_no_selection", 3, xyz, "atomCount",
           quirk="the selection argument is required: TypeError -> 500 HTML"))

    # --- previewSequences (ProvideSequence plugin, through object_method) --------------
    add(OM("preview_no_text", 2, "ProvideSequence", "previewSequences"))
    seq = "ProvideSequence.controlParameters.SEQUENCETEXT"
    for tag, text in [("fasta_one", FASTA_TEXT),
                      ("fasta_aligned", ">a first\nMKVL\n>b\nmkva\n"),
                      ("fasta_unequal", ">a\nMKVLAAG\n>b\nMK V\n"),
                      ("fasta_bad_letter", ">x\nMK1Z\n"),
                      ("fasta_x_unequal", ">x\nMKX\n>y\nM\n"),
                      ("pir", ">P1;rn\nrnase desc\nDVSGTV*\n"),
                      ("plain", "MKV LLA\nGGT\n"),
                      # read by upstream's importAlignment in the installation's Python
                      ("clustal", "CLUSTAL W (1.83) multiple sequence alignment\n\nseqA   MKVLA-G\nseqB   MKV-AAG\n"
                                  "       *** * *\n"),
                      ("stockholm", "# STOCKHOLM 1.0\nseqA MKVLAG\nseqB MKVIAG\n//\n"),
                      ("phylip", " 2 6\nseqA      MKVLAG\nseqB      MKVIAG\n"),
                      ("blank_first_line", "\n>a\nMKVL\n"),
                      ("text_before_fasta", "my sequence\n>a\nMKVL\n"),
                      ("pir_unequal", ">P1;a\nfirst\nMKVLAG*\n>P1;b\nsecond\nMK*\n"),
                      ("crlf_clustal", "CLUSTAL W (1.83) multiple sequence alignment\r\n\r\nseqA   MKVL\r\nseqB   MKVI\r\n")]:
        add(SET("set_sequence_text_%s" % tag, 2, seq, text))
        add(OM("preview_%s" % tag, 2, "ProvideSequence", "previewSequences"))

    # --- errors common to every object method ------------------------------------------
    add(OM("object_method_unknown_name", 1, "ProvideAsuContents.inputData.ASU_CONTENT", "no_such_method",
           quirk="unknown method name: AttributeError escapes the view -> 500 HTML"))
    add(OM("object_method_dunder", 1, "ProvideAsuContents.inputData.ASU_CONTENT", "__class__",
           refused="upstream calls any attribute by name (here it builds a new object and answers 200 {}); "
                   "i2server calls only the methods in its tables and answers 400"))
    add(OM("object_method_bad_path", 1, "ProvideAsuContents.inputData.NOSUCH", "molecularWeight",
           quirk="unknown object path: AttributeError -> 500 HTML"))
    add(OM("object_method_plugin_unknown", 1, "ProvideAsuContents", "previewSequences",
           quirk="the plugin has no such method, so the task name is looked up as a path -> 500 HTML"))

    # --- plugin methods: crank2 / shelx ------------------------------------------------
    add(PM("anomalous_scattering_se", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "SE", "wavelength": 0.9793}))
    add(PM("anomalous_scattering_positional", 4, "compute_anomalous_scattering", args=["S", 1.5418]))
    add(PM("anomalous_scattering_lower_case_text_wavelength", 8, "compute_anomalous_scattering",
           kwargs={"atom_type": "xe", "wavelength": "2.29"}))
    add(PM("anomalous_scattering_heavy_edge", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "Hg", "wavelength": 1.0093}))
    add(PM("anomalous_scattering_unknown_element", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "Qq", "wavelength": 1.0}))
    add(PM("anomalous_scattering_number_as_element", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": 34, "wavelength": 1.0}))
    add(PM("anomalous_scattering_bad_wavelength", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "SE", "wavelength": "abc"}))
    add(PM("anomalous_scattering_null_wavelength", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "SE", "wavelength": None}))
    add(PM("anomalous_scattering_zero_wavelength", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "SE", "wavelength": 0}))
    add(PM("anomalous_scattering_no_wavelength", 4, "compute_anomalous_scattering",
           kwargs={"atom_type": "SE"}, quirk="a missing argument is a TypeError, answered 500 with its message"))
    add(PM("estimate_substructure_se", 4, "estimate_num_substructure", kwargs={"atom_type": "SE"},
           deviation=UNLOADED_SEQ))
    add(PM("estimate_substructure_no_seq", 8, "estimate_num_substructure", kwargs={"atom_type": "S"}))
    add(PM("estimate_substructure_positional_no_seq", 8, "estimate_num_substructure", args=["I"]))
    add(PM("estimate_substructure_no_atom_type", 4, "estimate_num_substructure",
           quirk="a missing argument is a TypeError, answered 500 with its message"))

    # --- plugin methods: ProvideTLS ----------------------------------------------------
    add(PM("import_tls_from_text_default", 6, "import_tls_from_text"))
    add(SET("set_tls_text", 3, "ProvideTLS.controlParameters.TLSTEXT", TLS_TEXT + "junk line\nRANGE 'C 5.' 'C x.' all\n"))
    add(PM("import_tls_from_text_set", 3, "import_tls_from_text"))
    add(PM("import_tls_from_file", 3, "import_tls_from_file"))
    add(PM("import_tls_from_file_unset", 6, "import_tls_from_file"))
    add(PM("suggest_tls_groups", 3, "suggest_tls_groups"))
    add(PM("suggest_tls_groups_unset", 6, "suggest_tls_groups"))
    add(PM("plugin_method_unknown_name", 3, "no_such_method", deviation=OWN_MESSAGE))
    add(PM("plugin_method_other_task", 3, "compute_anomalous_scattering",
           kwargs={"atom_type": "S", "wavelength": 1.54}, deviation=OWN_MESSAGE))
    add(PM("plugin_method_unknown_job", 999, "suggest_tls_groups",
           quirk="Job.DoesNotExist is raised before the view's error handling -> 500 HTML"))
    add(X("plugin_method_no_name", "POST", "/jobs/3/plugin_method/", J({}),
          quirk="a missing method_name is a KeyError -> 500 HTML"))
    # files gone from disk (last: they change the project)
    add(PM("import_tls_from_file_missing", 3, "import_tls_from_file",
           remove_file={"project": "methods", "rel_path": "CCP4_IMPORTED_FILES/groups.tls"}))
    add(PM("suggest_tls_groups_missing", 3, "suggest_tls_groups",
           remove_file={"project": "methods", "rel_path": "CCP4_IMPORTED_FILES/model.pdb"}))
    add(OM("atom_count_missing_file", 3, xyz, "atomCount", args=["A/"]))
    return s


# ---------------------------------------------------------------------------
# lists.json: whole lists through set_parameter (--sequence lists)
# ---------------------------------------------------------------------------

def build_list_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "lists", "directory": "__default__"})))
    # 1 mrbump_basic (a list of strings), 2 arcimboldo (a list of integers), 3 ProvideAsuContents
    for task in ["mrbump_basic", "arcimboldo", "ProvideAsuContents"]:
        add(X("create_%s" % task, "POST", "/projects/1/create_task/", J({"task_name": task})))
    strings = "mrbump_basic.inputData.SELECTEDCHAINS"
    ints = "arcimboldo.inputData.LITE_HELICES_LIST"
    asu = "ProvideAsuContents.inputData.ASU_CONTENT"
    for job, path, tag, values in [(1, strings, "strings", [["A", "B"], ["C"], []]),
                                   (2, ints, "ints", [[3, 5], [7], []])]:
        for n, v in enumerate(values):
            add(SET("set_%s_%d" % (tag, n), job, path, v))
            add(X("params_xml_%s_%d" % (tag, n), "GET", "/jobs/%d/params_xml/" % job))
            add(X("get_parameter_%s_%d" % (tag, n), "GET", "/jobs/%d/get_parameter/?object_path=%s" % (job, path)))
        add(SET("set_%s_scalar" % tag, job, path, "A"))
    add(SET("set_ints_refused", 2, ints, ["x"]))
    add(X("params_xml_ints_refused", "GET", "/jobs/2/params_xml/"))
    seq = {"sequence": "MKVLAAGIVG", "nCopies": 2, "polymerType": "PROTEIN", "name": "A", "description": "d"}
    add(SET("set_asu_one", 3, asu, [seq]))
    add(X("params_xml_asu_one", "GET", "/jobs/3/params_xml/"))
    add(SET("set_asu_two", 3, asu, [seq, dict(seq, name="B", nCopies=1, sequence="ACGU", polymerType="RNA")]))
    add(X("params_xml_asu_two", "GET", "/jobs/3/params_xml/"))
    add(X("container_asu_two", "GET", "/jobs/3/container/", deviation=ASU_ORDER))
    return s


# ---------------------------------------------------------------------------
# runs.json: jobs run to their end by the upstream runner (--sequence runs; the replay runs an
# embedded worker)
# ---------------------------------------------------------------------------

def build_run_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "runs", "directory": "__default__"})))
    add(X("create_task_freerflag", "POST", "/projects/1/create_task/", J({"task_name": "freerflag"})))
    add(UP("upload_fsigf", 1, "freerflag.inputData.F_SIGF", "rnase25_fsigf.mtz",
           FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[F,SIGF]"))
    add(X("run", "POST", "/jobs/1/run/"))
    add(X("job_finished", "GET", "/jobs/1/", wait_terminal=True))
    add(X("report_finished", "GET", "/jobs/1/report_xml/"))
    add(X("files_of_job", "GET", "/files/?job=1"))
    add(X("job_float_values", "GET", "/projects/1/job_float_values/"))
    add(X("job_char_values", "GET", "/projects/1/job_char_values/"))
    add(X("job_tree", "GET", "/projects/1/job_tree/"))
    add(X("cancel_finished", "POST", "/jobs/1/cancel/"))
    # A job the runner fails: freerflag without its reflections.
    add(X("create_task_freerflag_empty", "POST", "/projects/1/create_task/", J({"task_name": "freerflag"})))
    add(X("run_empty", "POST", "/jobs/2/run/"))
    add(X("job_failed", "GET", "/jobs/2/", wait_terminal=True))
    add(X("report_failed", "GET", "/jobs/2/report_xml/"))
    add(X("files_of_failed_job", "GET", "/files/?job=2"))
    add(X("jobs_of_project", "GET", "/jobs/?project=1"))
    # What a run leaves besides outputs: the diagnostic, the files' paths, the export menu.
    add(X("diagnostic_finished", "GET", "/jobs/1/diagnostic_xml/"))
    add(X("diagnostic_failed", "GET", "/jobs/2/diagnostic_xml/"))
    add(X("create_task_freerflag_pending", "POST", "/projects/1/create_task/", J({"task_name": "freerflag"})))
    add(X("diagnostic_pending", "GET", "/jobs/3/diagnostic_xml/"))
    add(X("diagnostic_unknown_job", "GET", "/jobs/99/diagnostic_xml/"))
    add(X("file_path_upload", "GET", "/files/1/file_path/"))
    add(X("file_path_output", "GET", "/files/2/file_path/"))
    add(X("file_path_unknown", "GET", "/files/99/file_path/"))
    add(X("export_job_file_menu", "GET", "/jobs/1/export_job_file_menu/"))
    add(X("export_job_file_menu_unknown_job", "GET", "/jobs/99/export_job_file_menu/"))
    add(X("export_job_file_no_mode", "GET", "/jobs/1/export_job_file/"))
    add(X("export_job_file_pdb", "GET", "/jobs/1/export_job_file/?mode=pdb",
          quirk="upstream's exporter is gone (NameError) -> 500 HTML; i2server: 404, no file for that mode"))
    add(X("export_job_file_unknown_job", "GET", "/jobs/99/export_job_file/?mode=pdb",
          quirk="upstream's exporter is gone (NameError) -> 500 HTML; i2server: 404, job not found"))
    # The web client's other calls, where they refuse.
    add(X("export_job_unknown_job", "GET", "/jobs/99/export_job/"))
    add(X("project_export_unknown_project", "POST", "/projects/99/export/",
          quirk="Project.DoesNotExist escapes the view -> 500 HTML; i2server: 404"))
    add(X("projectexport_download_unknown", "GET", "/projectexports/99/download/"))
    add(X("import_project_no_file", "POST", "/projects/import_project/", MULTI(other="x")))
    add(X("import_project_not_a_zip", "POST", "/projects/import_project/",
          MULTIF({}, {"files": {"name": "notes.txt", "text": "not an archive"}})))
    add(X("molblock_not_a_dictionary", "GET", "/files/1/molblock/"))
    add(X("molblock_unknown_file", "GET", "/files/99/molblock/"))
    add(X("preview_job", "POST", "/jobs/1/preview/", J({"viewer": "coot"}),
          quirk="upstream tries to open the viewer on the server machine (ValueError for coot) -> 500; i2server: 400"))
    add(X("preview_file_unknown_viewer", "POST", "/files/1/preview/", J({"viewer": "nosuchviewer"})))
    return s


# ---------------------------------------------------------------------------
# catalogue.json: the task catalogue, a job's definition, and lookup routes (--sequence catalogue)
# ---------------------------------------------------------------------------

def build_catalogue_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "catalogue", "directory": "__default__"})))
    add(X("create_task_freerflag", "POST", "/projects/1/create_task/", J({"task_name": "freerflag"})))
    add(X("task_lookup", "GET", "/task_lookup/"))
    add(X("def_xml_freerflag", "GET", "/jobs/1/def_xml/"))
    add(X("def_xml_unknown_job", "GET", "/jobs/99/def_xml/"))
    add(X("filetypes_mtz", "GET", "/filetypes/application/CCP4-mtz-observed/", compare="status",
          quirk="a MIME type's slash takes the URL outside the reference's route: Django's HTML 404 page"))
    add(X("filetypes_unknown", "GET", "/filetypes/nothing/"))
    add(X("fileimports_unknown", "GET", "/fileimports/99/"))
    add(X("projectexports_list", "GET", "/projectexports/"))
    add(X("projectexports_unknown", "GET", "/projectexports/99/"))
    add(X("files_by_uuid_list", "GET", "/files_by_uuid/"))
    # Recorded without CCP4 configured (tests/monomer_info.rs compares readings of the library).
    add(X("monomer_info_without_ccp4", "GET", "/monomer-info/ALA/"))
    return s


# ---------------------------------------------------------------------------
# runcheck.json: run_time_validation checks that read the job's files (--sequence runcheck)
# ---------------------------------------------------------------------------

def _pdb_atom(serial, name, res, seq, x, element, het=False, alt=" "):
    rec = "HETATM" if het else "ATOM  "
    name = (" " + name) if len(name) < 4 else name
    return "%s%5d %-4s%s%3s A%4d    %8.3f%8.3f%8.3f  1.00 20.00          %2s\n" % (
        rec, serial, name, alt, res, seq, x, 5.0, 5.0, element)


def _model(ligands):
    """A two-residue peptide (ALA, GLY with OXT), then HETATM ligands [(res, seq, [atom names])] and
    a water."""
    atoms = [("N", "ALA", 1, "N"), ("CA", "ALA", 1, "C"), ("C", "ALA", 1, "C"), ("O", "ALA", 1, "O"),
             ("CB", "ALA", 1, "C"), ("N", "GLY", 2, "N"), ("CA", "GLY", 2, "C"), ("C", "GLY", 2, "C"),
             ("O", "GLY", 2, "O"), ("OXT", "GLY", 2, "O")]
    text = "CRYST1   64.900   78.320   38.790  90.00  90.00  90.00 P 21 21 21\n"
    n = 0
    for i, (name, res, seq, el) in enumerate(atoms):
        n += 1
        text += _pdb_atom(n, name, res, seq, 1.0 + i, el)
    text += "TER\n"
    for res, seq, names in ligands:
        for name in names:
            n += 1
            text += _pdb_atom(n, name, res, seq, 20.0 + n, name[0], het=True)
    n += 1
    text += _pdb_atom(n, "O", "HOH", 201, 40.0, "O", het=True)
    return text + "END\n"


GOL_ATOMS = ["C1", "O1", "C2", "O2", "C3", "O3"]
# GOL with an atom its dictionary does not name (N9) and without O3; QQ9 is in no library.
MODEL_LIGANDS_BAD = _model([("GOL", 101, ["C1", "O1", "C2", "O2", "C3", "N9"]), ("QQ9", 102, ["C1", "O1"])])
MODEL_LIGANDS_OK = _model([("GOL", 101, GOL_ATOMS)])
MODEL_QQ9 = _model([("QQ9", 102, ["C1", "O1"])])
QQ9_DICT = """data_comp_list
loop_
_chem_comp.id
_chem_comp.three_letter_code
_chem_comp.name
_chem_comp.group
_chem_comp.number_atoms_all
_chem_comp.number_atoms_nh
_chem_comp.desc_level
QQ9 QQ9 'test ligand' non-polymer 2 2 .
data_comp_QQ9
loop_
_chem_comp_atom.comp_id
_chem_comp_atom.atom_id
_chem_comp_atom.type_symbol
_chem_comp_atom.type_energy
QQ9 C1 C CH3
QQ9 O1 O OH1
loop_
_chem_comp_bond.comp_id
_chem_comp_bond.atom_id_1
_chem_comp_bond.atom_id_2
_chem_comp_bond.type
_chem_comp_bond.value_dist
_chem_comp_bond.value_dist_esd
QQ9 C1 O1 single 1.43 0.02
"""
RUNCHECK_TASKS = ["freerflag", "freerflag", "modelcraft", "prosmart_refmac", "prosmart_refmac", "servalcat_pipe",
                  "modelcraft"]


def build_runcheck_steps():
    s = []
    add = s.append
    add(X("projects_create", "POST", "/projects/", J({"name": "runcheck", "directory": "__default__"})))
    for i, task in enumerate(RUNCHECK_TASKS, start=1):
        add(X("create_%d_%s" % (i, task), "POST", "/projects/1/create_task/",
              J({"task_name": task, "auto_context": False})))
    fsigf = lambda job, task: UP("upload_fsigf_job%d" % job, job, task + ".inputData.F_SIGF", "rnase25_fsigf.mtz",
                                 FREER_DATA + "/rnase25_fsigf.mtz", selector="/*/*/[F,SIGF]")
    freer = lambda job, task: UP("upload_freer_job%d" % job, job, task + ".inputData.FREERFLAG", "rnase25_freer.mtz",
                                 FREER_DATA + "/rnase25_freer.mtz", selector="/*/*/[FREER]")
    brap = lambda job, task: UP("upload_brap_imean_job%d" % job, job, task + ".inputData.F_SIGF",
                                "brap_pk_6A_scaled2.mtz", BRAP_MTZ, selector="/*/*/[IMEAN,SIGIMEAN]")
    # sameCrystalAs: FREERFLAG names F_SIGF; another crystal's cell fires (210) in modelcraft, the same
    # crystal passes; freerflag's FREERFLAG also has sameCrystalLevel, which upstream reads as text: the
    # comparison fails and the pair is skipped, so freerflag never fires
    add(freer(1, "freerflag"))
    add(X("run_time_validation_freer_only", "GET", "/jobs/1/run_time_validation/"))
    add(fsigf(1, "freerflag"))
    add(X("run_time_validation_same_cell", "GET", "/jobs/1/run_time_validation/"))
    add(brap(2, "freerflag"))
    add(freer(2, "freerflag"))
    add(X("validation_other_cell", "GET", "/jobs/2/validation/"))
    add(X("run_time_validation_other_cell", "GET", "/jobs/2/run_time_validation/"))
    add(brap(3, "modelcraft"))
    add(freer(3, "modelcraft"))
    add(X("run_time_validation_modelcraft_other_cell", "GET", "/jobs/3/run_time_validation/"))
    add(fsigf(7, "modelcraft"))
    add(freer(7, "modelcraft"))
    add(X("run_time_validation_modelcraft_same_cell", "GET", "/jobs/7/run_time_validation/"))
    # monomer coverage: blocked by an earlier error, then fired, then passing
    add(UP("upload_model_bad_job4", 4, "prosmart_refmac.inputData.XYZIN", "ligands.pdb", text=MODEL_LIGANDS_BAD))
    add(X("run_time_validation_monomers_blocked", "GET", "/jobs/4/run_time_validation/"))
    add(fsigf(4, "prosmart_refmac"))
    add(X("run_time_validation_monomers_missing", "GET", "/jobs/4/run_time_validation/"))
    add(X("validation_monomers_missing", "GET", "/jobs/4/validation/"))
    add(fsigf(5, "prosmart_refmac"))
    add(freer(5, "prosmart_refmac"))
    add(UP("upload_model_ok_job5", 5, "prosmart_refmac.inputData.XYZIN", "glycerol.pdb", text=MODEL_LIGANDS_OK))
    add(X("run_time_validation_monomers_covered", "GET", "/jobs/5/run_time_validation/"))
    add(UP("upload_model_qq9_job6", 6, "servalcat_pipe.inputData.XYZIN", "qq9.pdb", text=MODEL_QQ9))
    add(X("run_time_validation_servalcat_no_dictionary", "GET", "/jobs/6/run_time_validation/"))
    add(UP("upload_dict_qq9_job6", 6, "servalcat_pipe.inputData.DICT_LIST[0]", "QQ9.cif", text=QQ9_DICT))
    add(X("run_time_validation_servalcat_with_dictionary", "GET", "/jobs/6/run_time_validation/"))
    return s


# ---------------------------------------------------------------------------
# Machinery
# ---------------------------------------------------------------------------

def encode_body(body):
    """Return (bytes, content_type) for a body spec, or (None, None)."""
    if not body:
        return None, None
    kind = body["kind"]
    if kind == "json":
        return json.dumps(body["value"]).encode("utf-8"), "application/json"
    if kind == "form":
        return urllib.parse.urlencode(body["fields"]).encode("utf-8"), \
            "application/x-www-form-urlencoded"
    if kind == "multipart":
        parts = []
        for k, v in body["fields"].items():
            parts.append((
                "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                % (BOUNDARY, k, v)).encode("utf-8"))
        for field, spec in (body.get("files") or {}).items():
            parts.append((
                "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (BOUNDARY, field, spec["name"])
            ).encode("utf-8") + file_bytes(spec) + b"\r\n")
        parts.append(("--%s--\r\n" % BOUNDARY).encode("utf-8"))
        return b"".join(parts), "multipart/form-data; boundary=" + BOUNDARY
    if kind == "raw":
        return body["text"].encode("utf-8"), body["content_type"]
    raise ValueError("unknown body kind %r" % kind)


def source_roots():
    pkg = os.environ.get("I2_CCP4I2_ROOT")
    if not pkg:
        import glob
        found = glob.glob("/tmp/ccp4i2-reference/venv/lib/python3*/site-packages/ccp4i2")
        pkg = found[0] if found else ""
    here = Path(__file__).resolve().parent
    shared = here.parent.parent.parent / "shared" / "fixtures" / "ccp4i2-demo-data"
    return {"pkg": Path(pkg), "shared": shared}


def file_bytes(spec):
    """The content of a file part: inline text, or a file named by `pkg:`/`shared:` source."""
    if "text" in spec:
        return spec["text"].encode("utf-8")
    prefix, rel = spec["source"].split(":", 1)
    return (source_roots()[prefix] / rel).read_bytes()


def subst(obj, projects_dir):
    """Replace {PROJECTS_DIR} in every string of a JSON-able structure."""
    if isinstance(obj, str):
        return obj.replace("{PROJECTS_DIR}", projects_dir or "{PROJECTS_DIR}")
    if isinstance(obj, list):
        return [subst(v, projects_dir) for v in obj]
    if isinstance(obj, dict):
        return {k: subst(v, projects_dir) for k, v in obj.items()}
    return obj


def json_pointer(doc, pointer):
    cur = doc
    for tok in pointer.lstrip("/").split("/"):
        tok = tok.replace("~1", "/").replace("~0", "~")
        cur = cur[int(tok)] if isinstance(cur, list) else cur[tok]
    return cur


def resolve_path(path, by_name):
    refs = []
    while "{uuid:" in path:
        start = path.index("{uuid:")
        end = path.index("}", start)
        _, exch, pointer = path[start + 1:end].split(":", 2)
        value = json_pointer(by_name[exch]["response"], pointer)
        refs.append({"uuid": value, "exchange": exch, "pointer": pointer})
        path = path[:start] + value + path[end + 1:]
    return path, refs


def send(base, method, path, body_bytes, headers):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    try:
        conn.request(method, path, body=body_bytes, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = v if k not in hdrs else hdrs[k] + ", " + v
        return resp.status, hdrs, data
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="http://127.0.0.1:8765")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sequence", choices=["foundation", "uploads", "jobs", "tasks", "methods", "runcheck", "lists", "catalogue", "runs"],
                    default="foundation",
                    help="foundation.json (default), uploads.json, jobs.json, tasks.json, methods.json, "
                         "runcheck.json, lists.json, catalogue.json or runs.json")
    args = ap.parse_args()

    # Refuse to record against a server that is not fresh: ids would not line up.
    st, _, data = send(args.base, "GET", API + "/projects/", None, {})
    if st != 200 or json.loads(data.decode("utf-8")) != []:
        raise SystemExit("reference server is not fresh (GET projects/ -> %d %r); run "
                         "reference-server.sh reset + start first" % (st, data[:200]))

    exchanges = []
    by_name = {}
    projects_dir = None
    project_dirs = {}  # project name -> absolute directory, learned from responses

    steps = {"foundation": build_steps, "uploads": build_upload_steps, "jobs": build_jobs_steps,
             "tasks": build_task_steps, "methods": build_methods_steps,
             "runcheck": build_runcheck_steps, "lists": build_list_steps,
             "catalogue": build_catalogue_steps, "runs": build_run_steps}[args.sequence]()
    for step in steps:
        name = step["name"]
        assert name not in by_name, "duplicate exchange name " + name
        path, uuid_refs = resolve_path(step["path"], by_name)
        path = subst(path, projects_dir)
        body = subst(step.get("body"), projects_dir)
        if body is not None and "{uuid:" in json.dumps(body):
            text, body_refs = resolve_path(json.dumps(body), by_name)
            body = json.loads(text)
            uuid_refs = uuid_refs + body_refs
        if projects_dir is None and "{PROJECTS_DIR}" in json.dumps(body):
            raise SystemExit("%s needs the projects dir before it is known" % name)

        setup = step.get("setup_file")
        setup_rec = None
        if setup:
            pdir = project_dirs[setup["project"]]
            target = Path(pdir) / setup["rel_path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(setup["text"], encoding="utf-8")
            setup_rec = {"project_subdir": os.path.relpath(pdir, projects_dir),
                         "rel_path": setup["rel_path"], "text": setup["text"]}

        remove = step.get("remove_file")
        remove_rec = None
        if remove:
            pdir = project_dirs[remove["project"]]
            (Path(pdir) / remove["rel_path"]).unlink()
            remove_rec = {"project_subdir": os.path.relpath(pdir, projects_dir),
                          "rel_path": remove["rel_path"]}

        body_bytes, ctype = encode_body(body)
        headers = dict(step.get("headers") or {})
        if ctype:
            headers["Content-Type"] = ctype
        if body_bytes is not None:
            headers["Content-Length"] = str(len(body_bytes))
        status, rh, data = send(args.base, step["method"], path, body_bytes, headers)
        if step.get("wait_terminal"):
            # Poll until the job has ended (Interrupted, Failed or Finished), then give the
            # reference time to register outputs (it shows Finished first) and ask again.
            deadline = time.time() + 300
            while status == 200 and json.loads(data.decode("utf-8")).get("status") not in (4, 5, 6):
                if time.time() > deadline:
                    raise SystemExit("%s: the job did not end within 300 s" % name)
                time.sleep(0.2)
                status, rh, data = send(args.base, step["method"], path, body_bytes, headers)
            time.sleep(3)
            status, rh, data = send(args.base, step["method"], path, body_bytes, headers)

        content_type = rh.get("content-type", "").split(";")[0].strip() or None
        parsed = None
        if content_type == "application/json" and data:
            try:
                parsed = json.loads(data.decode("utf-8"))
            except ValueError:
                parsed = None

        ex = {"name": name, "method": step["method"], "path": path}
        if step.get("headers"):
            ex["headers"] = step["headers"]
        ex["body"] = body
        if setup_rec:
            ex["setup_file"] = setup_rec
        if remove_rec:
            ex["remove_file"] = remove_rec
        if uuid_refs:
            ex["uuid_refs"] = uuid_refs
        ex["status"] = status
        ex["content_type"] = content_type
        ex["location"] = rh.get("location")
        ex["response"] = parsed
        ex["compare"] = step.get("compare", "json")
        if step.get("body_text") and 200 <= status < 300:
            try:
                text = data.decode("utf-8")
                if len(data) <= 65536:
                    ex["body_text"] = text
            except UnicodeDecodeError:
                pass
        if step.get("resp_headers"):
            ex["response_headers"] = {h: rh.get(h) for h in step["resp_headers"]}
        if step.get("quirk"):
            ex["quirk"] = step["quirk"]
        if step.get("deviation"):
            ex["deviation"] = step["deviation"]
        if step.get("wait_terminal"):
            ex["wait_terminal"] = True
        if step.get("known_gap"):
            ex["known_gap"] = step["known_gap"]
        if step.get("refused"):
            ex["refused"] = step["refused"]
        exchanges.append(ex)
        by_name[name] = ex

        # learn project directories (and the projects dir) from project responses
        if isinstance(parsed, dict) and "directory" in parsed and "name" in parsed \
                and isinstance(parsed.get("directory"), str) and path.startswith(API + "/projects/"):
            d = parsed["directory"]
            if projects_dir is None:
                projects_dir = str(Path(d).parent)
            project_dirs[parsed["name"]] = d

        print("%-48s %s %-60s -> %d %s" % (name, step["method"], path[:60], status, content_type),
              file=sys.stderr)

    out = {
        "recorded_from": "ccp4i2==3.0.1 reference server",
        "projects_dir": projects_dir,
        "exchanges": exchanges,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d exchanges to %s" % (len(exchanges), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
