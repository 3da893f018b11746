-- Schools (tenants), their students and the students' immutable profile versions.
CREATE TABLE schools (
    school_id   uuid PRIMARY KEY,
    name        text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE students (
    tenant_id      uuid NOT NULL REFERENCES schools (school_id),
    student_id     uuid PRIMARY KEY,
    external_ref   text NOT NULL,
    display_name   text NOT NULL,
    email          text NOT NULL DEFAULT '',
    latest_version bigint NOT NULL DEFAULT 0,
    create_time    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, external_ref)
);

CREATE TABLE profile_versions (
    tenant_id   uuid NOT NULL,
    student_id  uuid NOT NULL REFERENCES students (student_id),
    version     bigint NOT NULL CHECK (version > 0),
    profile     jsonb NOT NULL,
    request_id  text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, version),
    UNIQUE (student_id, request_id)
);

-- Row-level security: a transaction sees only the tenant named by app.tenant_id (set per transaction).
-- FORCE makes it hold for the owning role too, which is the role the service connects as.
ALTER TABLE students ENABLE ROW LEVEL SECURITY;
ALTER TABLE students FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON students
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE profile_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE profile_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON profile_versions
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
