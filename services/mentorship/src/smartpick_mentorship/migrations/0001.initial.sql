-- Mentors, mentee requests and what the students' events said, schools' matching policies, rounds,
-- matches with every transition. (The outbox of MentorshipMatched events is the platform's own migration.)

-- The school (and, for a mentor's own calls, the mentor) a transaction acts for; set per transaction.
CREATE FUNCTION app_tenant() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION app_mentor() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.mentor_id', true), '')::uuid $$;

CREATE TABLE mentors (
    mentor_id                    uuid PRIMARY KEY,
    tenant_id                    uuid,  -- NULL: a platform-wide mentor
    display_name                 text NOT NULL,
    specialty                    text NOT NULL,
    subspecialties               text[] NOT NULL DEFAULT '{}',
    institution                  text NOT NULL DEFAULT '',
    state                        text NOT NULL DEFAULT '',
    research_interests           text[] NOT NULL DEFAULT '{}',
    languages                    text[] NOT NULL DEFAULT '{}',
    goals                        text[] NOT NULL DEFAULT '{}',
    capacity                     integer NOT NULL CHECK (capacity BETWEEN 0 AND 50),
    availability_hours_per_month double precision NOT NULL CHECK (availability_hours_per_month >= 0),
    accepting_new_mentees        boolean NOT NULL DEFAULT true,
    accepts_other_schools        boolean NOT NULL DEFAULT false,
    create_time                  timestamptz NOT NULL DEFAULT now(),
    update_time                  timestamptz NOT NULL DEFAULT now()
);

-- Slots each mentor has in use, across every school (draft and proposed offers, accepted matches).
-- Counts only, no school's data: schools share platform-wide mentors, so this table has no row-level security.
CREATE TABLE mentor_load (
    mentor_id uuid PRIMARY KEY REFERENCES mentors (mentor_id),
    held      integer NOT NULL DEFAULT 0 CHECK (held >= 0)
);

CREATE TABLE matching_policies (
    tenant_id               uuid PRIMARY KEY,
    weights                 jsonb NOT NULL,
    require_specialty_match boolean NOT NULL,
    require_shared_language boolean NOT NULL,
    min_score               double precision NOT NULL CHECK (min_score BETWEEN 0 AND 1),
    update_time             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mentee_requests (
    tenant_id   uuid NOT NULL,
    student_id  uuid PRIMARY KEY,
    request     jsonb NOT NULL,  -- smartpick.mentorship.v1.MenteeRequest as JSON
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now()
);

-- What the student's latest events said; each part moves only forward in profile version, so a
-- redelivered or older event changes nothing.
CREATE TABLE student_signals (
    tenant_id               uuid NOT NULL,
    student_id              uuid PRIMARY KEY,
    profile_version         bigint NOT NULL DEFAULT 0,
    profile_specialties     text[] NOT NULL DEFAULT '{}',
    profile_states          text[] NOT NULL DEFAULT '{}',
    recommendations_version bigint NOT NULL DEFAULT 0,
    recommended_specialties text[] NOT NULL DEFAULT '{}',
    recommended_states      text[] NOT NULL DEFAULT '{}',
    recommended_programs    text[] NOT NULL DEFAULT '{}',
    update_time             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rounds (
    round_id      uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn')),
    cohort_size   integer NOT NULL,
    kept_matches  integer NOT NULL,
    unassigned    uuid[] NOT NULL DEFAULT '{}',
    total_score   double precision NOT NULL,
    create_time   timestamptz NOT NULL DEFAULT now(),
    publish_time  timestamptz
);

CREATE TABLE matches (
    match_id        uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    student_id      uuid NOT NULL,
    mentor_id       uuid NOT NULL REFERENCES mentors (mentor_id),
    round_id        uuid REFERENCES rounds (round_id),
    status          text NOT NULL
                    CHECK (status IN ('draft', 'proposed', 'accepted', 'declined', 'ended', 'withdrawn')),
    score           double precision NOT NULL,
    reasons         jsonb NOT NULL,
    profile_version bigint NOT NULL DEFAULT 0,
    note            text NOT NULL DEFAULT '',
    rating          integer NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    create_time     timestamptz NOT NULL DEFAULT now(),
    update_time     timestamptz NOT NULL DEFAULT now()
);
-- A student has at most one match holding a slot at a time.
CREATE UNIQUE INDEX matches_one_open_per_student ON matches (student_id)
    WHERE status IN ('draft', 'proposed', 'accepted');
CREATE INDEX matches_by_mentor ON matches (mentor_id, status);
CREATE INDEX matches_by_round ON matches (round_id);

CREATE TABLE match_transitions (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    match_id    uuid NOT NULL REFERENCES matches (match_id),
    mentor_id   uuid NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    event_id    uuid,  -- the MentorshipMatched event it published, if any
    create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX match_transitions_by_match ON match_transitions (match_id, id);

-- Row-level security (FORCEd, so it binds the owning role the service connects as too).
-- A school sees its own mentors, platform-wide ones and other schools' mentors who take outside students;
-- it changes only its own (or, acting for no school, platform-wide ones).
ALTER TABLE mentors ENABLE ROW LEVEL SECURITY;
ALTER TABLE mentors FORCE ROW LEVEL SECURITY;
CREATE POLICY mentors_visible ON mentors FOR SELECT
    USING (tenant_id IS NULL OR tenant_id = app_tenant() OR accepts_other_schools OR mentor_id = app_mentor());
CREATE POLICY mentors_insert ON mentors FOR INSERT WITH CHECK (tenant_id IS NOT DISTINCT FROM app_tenant());
CREATE POLICY mentors_update ON mentors FOR UPDATE
    USING (tenant_id IS NOT DISTINCT FROM app_tenant()) WITH CHECK (tenant_id IS NOT DISTINCT FROM app_tenant());

-- A match belongs to the student's school; its mentor (maybe of another school) sees it too.
ALTER TABLE matches ENABLE ROW LEVEL SECURITY;
ALTER TABLE matches FORCE ROW LEVEL SECURITY;
CREATE POLICY match_parties ON matches
    USING (tenant_id = app_tenant() OR mentor_id = app_mentor())
    WITH CHECK (tenant_id = app_tenant() OR mentor_id = app_mentor());

ALTER TABLE match_transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE match_transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY match_parties ON match_transitions
    USING (tenant_id = app_tenant() OR mentor_id = app_mentor())
    WITH CHECK (tenant_id = app_tenant() OR mentor_id = app_mentor());

ALTER TABLE matching_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE matching_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON matching_policies USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

ALTER TABLE mentee_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE mentee_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mentee_requests USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

ALTER TABLE student_signals ENABLE ROW LEVEL SECURITY;
ALTER TABLE student_signals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON student_signals USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

ALTER TABLE rounds ENABLE ROW LEVEL SECURITY;
ALTER TABLE rounds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rounds USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
