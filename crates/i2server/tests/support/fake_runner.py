"""A stand-in job runner for the job-engine tests: a real process that behaves like the
upstream runner where it matters (it writes the job's status and outputs to the same
database, from its own process), with timings the tests control.

usage: fake_runner.py JOB_UUID MODE
  early   write Finished first, then (0.7 s later) an output file row and a KPI, then exit 0
          (the order upstream's runner has been seen to commit in)
  slow    sleep 3 s, then complete
  quick   complete at once
  hang    start two grandchildren and wait forever
'complete' = in one transaction: status Finished and a completion marker (a JobCharValue,
unique per job, so a second completion of the same job fails loudly).
"""
import os
import subprocess
import sys
import time
import uuid as uuidlib

url = os.environ["DATABASE_URL"]
job_uuid, mode = sys.argv[1], sys.argv[2]


def connect():
    if url.startswith("sqlite://"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite://"):], timeout=30, isolation_level=None)
        return conn, "?", job_uuid.replace("-", "")
    import psycopg2

    return psycopg2.connect(url), "%s", str(uuidlib.UUID(job_uuid))


def run(sqls):
    conn, ph, u = connect()
    cur = conn.cursor()
    if url.startswith("sqlite://"):
        cur.execute("BEGIN IMMEDIATE")
    cur.execute(f"SELECT id FROM ccp4i2_job WHERE uuid = {ph}", (u,))
    job_id = cur.fetchone()[0]
    for sql, args in sqls:
        cur.execute(sql.replace("?", ph), tuple(job_id if a == "JOB" else a for a in args))
    conn.commit()
    conn.close()


def complete():
    run([
        ("UPDATE ccp4i2_job SET status = 6 WHERE id = ?", ("JOB",)),
        ("INSERT INTO ccp4i2_jobcharvalue (value, job_id, key_id) VALUES ('done', ?, 'Unknown')", ("JOB",)),
    ])


if mode == "early":
    run([("UPDATE ccp4i2_job SET status = 6 WHERE id = ?", ("JOB",))])
    time.sleep(0.7)
    run([
        ("INSERT INTO ccp4i2_file (uuid, name, directory, annotation, job_param_name, job_id, type_id) "
         "VALUES (?, 'OUT.txt', 1, '', 'OUT', ?, 'text/plain')", (uuidlib.uuid4().hex, "JOB")),
        ("INSERT INTO ccp4i2_jobfloatvalue (value, job_id, key_id) VALUES (0.25, ?, 'RFree')", ("JOB",)),
    ])
elif mode == "slow":
    time.sleep(3)
    complete()
elif mode == "quick":
    complete()
elif mode == "hang":
    for _ in range(2):
        subprocess.Popen(["sleep", "600"])
    print("started", flush=True)
    time.sleep(600)
else:
    sys.exit(f"unknown mode {mode}")
