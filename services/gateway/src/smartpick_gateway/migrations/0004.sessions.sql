-- People's sign-in: one-time codes a school issues, the sessions they open, and a school's cohort settings.
CREATE TABLE sign_in_codes (
    code_id      text PRIMARY KEY,
    code_sha256  bytea NOT NULL UNIQUE,
    tenant_id    uuid NOT NULL,
    role         text NOT NULL CHECK (role IN ('school_admin', 'advisor', 'student', 'mentor')),
    student_id   uuid,
    mentor_id    uuid,
    label        text NOT NULL DEFAULT '',
    issued_by    text NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    expire_time  timestamptz NOT NULL,
    use_time     timestamptz,
    CHECK ((role = 'student') = (student_id IS NOT NULL)),
    CHECK ((role = 'mentor') = (mentor_id IS NOT NULL))
);
CREATE INDEX sign_in_codes_tenant ON sign_in_codes (tenant_id, create_time DESC);

CREATE TABLE sessions (
    session_id    text PRIMARY KEY,
    secret_sha256 bytea NOT NULL,
    code_id       text NOT NULL REFERENCES sign_in_codes (code_id),
    tenant_id     uuid NOT NULL,
    role          text NOT NULL,
    student_id    uuid,
    mentor_id     uuid,
    label         text NOT NULL DEFAULT '',
    create_time   timestamptz NOT NULL DEFAULT now(),
    expire_time   timestamptz NOT NULL,
    end_time      timestamptz
);

-- The advisor's view: below this chance of at least one match a student is flagged at risk.
CREATE TABLE cohort_settings (
    tenant_id      uuid PRIMARY KEY,
    risk_threshold double precision NOT NULL CHECK (risk_threshold > 0 AND risk_threshold < 1),
    update_time    timestamptz NOT NULL DEFAULT now()
);

-- Idempotency records belong to a credential: an API key, or a session ("session:<id>").
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_key_id_fkey;
