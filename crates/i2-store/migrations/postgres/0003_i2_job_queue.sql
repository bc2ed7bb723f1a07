-- i2server's own job queue (not used by upstream code). One row per job that was ever run
-- through i2server. A job's status and its queue row change in one transaction.
-- ON DELETE CASCADE: upstream's ORM deletes jobs without knowing this table exists.
CREATE TABLE i2_job_queue (
    job_id bigint NOT NULL PRIMARY KEY REFERENCES ccp4i2_job (id) ON DELETE CASCADE,
    state varchar(16) NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 3,
    fence bigint NOT NULL DEFAULT 0,
    worker text NULL,
    host text NULL,
    pid integer NULL,
    lease_expires_at timestamp with time zone NULL,
    cancel_requested boolean NOT NULL DEFAULT false,
    enqueued_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone NULL,
    finished_at timestamp with time zone NULL,
    outcome varchar(32) NULL,
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX i2_job_queue_claimable ON i2_job_queue (state, enqueued_at, job_id);
