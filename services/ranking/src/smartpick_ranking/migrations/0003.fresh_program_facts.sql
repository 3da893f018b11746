-- A school's program facts apply to every result computed after they are stored: each school's facts
-- carry a revision, each stored result the revision it was scored with and the profile it scored, and the
-- results a change of facts makes stale wait in rescore_queue until a worker has scored and published them.
CREATE TABLE facts_revisions (
    tenant_id   uuid PRIMARY KEY,
    revision    bigint NOT NULL CHECK (revision > 0),
    update_time timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE recommendations ADD COLUMN facts_revision bigint NOT NULL DEFAULT 0;
ALTER TABLE recommendations ADD COLUMN profile bytea;

-- Only ids and counters: workers claim jobs across schools, then score each in its school's transaction.
CREATE TABLE rescore_queue (
    tenant_id       uuid NOT NULL,
    student_id      uuid NOT NULL,
    profile_version bigint NOT NULL,
    facts_revision  bigint NOT NULL,
    enqueue_time    timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    PRIMARY KEY (student_id, profile_version)
);
CREATE INDEX rescore_queue_by_age ON rescore_queue (enqueue_time);
