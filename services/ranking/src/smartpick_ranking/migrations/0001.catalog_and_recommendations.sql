-- The program catalog (public, shared by every school), the public specialty figures, the facts each
-- school adds about programs, and one stored result per (student, profile version).
CREATE TABLE programs (
    program_id  text PRIMARY KEY CHECK (program_id ~ '^[0-9]{10}$'),
    name        text NOT NULL,
    specialty   text NOT NULL,
    city        text,
    state       text,
    latitude    double precision,
    longitude   double precision,
    positions   integer,
    program_type text,
    source      text NOT NULL,
    import_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX programs_specialty ON programs (specialty);
CREATE INDEX programs_state ON programs (state);

CREATE TABLE specialty_stats (
    specialty   text PRIMARY KEY,
    stats       jsonb NOT NULL,
    import_time timestamptz NOT NULL DEFAULT now()
);

-- What one school knows about a program; NULL stays unknown. Seen only by that school.
CREATE TABLE program_facts (
    tenant_id     uuid NOT NULL,
    program_id    text NOT NULL REFERENCES programs (program_id),
    positions     integer CHECK (positions > 0),
    program_type  text CHECK (program_type IN ('academic', 'community')),
    sponsors_visa boolean,
    img_share     double precision CHECK (img_share BETWEEN 0 AND 1),
    do_share      double precision CHECK (do_share BETWEEN 0 AND 1),
    update_time   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, program_id)
);

CREATE TABLE recommendations (
    tenant_id       uuid NOT NULL,
    student_id      uuid NOT NULL,
    profile_version bigint NOT NULL CHECK (profile_version > 0),
    model_version   text NOT NULL,
    event_id        uuid NOT NULL UNIQUE,
    result          bytea NOT NULL,
    create_time     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, profile_version)
);

ALTER TABLE program_facts ENABLE ROW LEVEL SECURITY;
ALTER TABLE program_facts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON program_facts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE recommendations ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommendations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON recommendations
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
