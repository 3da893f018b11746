-- API credentials (secrets hashed) and idempotency records.
CREATE TABLE api_keys (
    key_id        text PRIMARY KEY,
    tenant_id     uuid,
    role          text NOT NULL CHECK (role IN ('operator', 'school_admin', 'advisor', 'student')),
    student_id    uuid,
    secret_sha256 bytea NOT NULL,
    label         text NOT NULL DEFAULT '',
    create_time   timestamptz NOT NULL DEFAULT now(),
    revoke_time   timestamptz,
    CHECK ((role = 'operator') = (tenant_id IS NULL)),
    CHECK ((role = 'student') = (student_id IS NOT NULL))
);

CREATE TABLE idempotency_records (
    key_id          text NOT NULL REFERENCES api_keys (key_id),
    idempotency_key text NOT NULL,
    tenant_id       uuid,
    request_sha256  bytea NOT NULL,
    status_code     integer NOT NULL,
    response        jsonb NOT NULL,
    create_time     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, idempotency_key)
);

