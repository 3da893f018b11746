-- Row-level security on the gateway's tables of a school, with the setting every service uses (app.tenant_id,
-- set per transaction): a transaction sees the rows of the school it acts for, or, naming none, the rows that
-- belong to no school (operator keys, platform-wide mentors' keys, operators' idempotency records).
--
-- Not FORCEd: the tables' owner is the migration role, which no serving process uses, and only through the
-- SECURITY DEFINER functions below, the sign-in lookups that come before the caller's school is known. The
-- runtime role owns nothing, so the policies always hold for it.
CREATE FUNCTION app_tenant() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id IS NOT DISTINCT FROM app_tenant()) WITH CHECK (tenant_id IS NOT DISTINCT FROM app_tenant());

ALTER TABLE idempotency_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_records
    USING (tenant_id IS NOT DISTINCT FROM app_tenant()) WITH CHECK (tenant_id IS NOT DISTINCT FROM app_tenant());

ALTER TABLE sign_in_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sign_in_codes
    USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

ALTER TABLE cohort_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cohort_settings
    USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

-- The lookups of a credential by its id, before its school is known: one row at most, by an id the caller
-- holds (its secret is still checked, against the hash, by the gateway).
CREATE FUNCTION api_key_by_id(wanted text) RETURNS SETOF api_keys
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT * FROM api_keys WHERE key_id = wanted $$;

CREATE FUNCTION session_by_id(wanted text) RETURNS SETOF sessions
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT * FROM sessions WHERE session_id = wanted $$;

-- Uses a sign-in code (once: the update and the insert are one statement) and opens its session in the
-- code's school; no row when the code is unknown, used or expired.
CREATE FUNCTION open_session(code_hash bytea, new_session_id text, new_secret_sha256 bytea, lifetime interval)
    RETURNS SETOF sessions
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH used AS (
            UPDATE sign_in_codes SET use_time = now()
            WHERE code_sha256 = code_hash AND use_time IS NULL AND expire_time > now()
            RETURNING code_id, tenant_id, role, student_id, mentor_id, label)
        INSERT INTO sessions
            (session_id, secret_sha256, code_id, tenant_id, role, student_id, mentor_id, label, expire_time)
        SELECT new_session_id, new_secret_sha256, code_id, tenant_id, role, student_id, mentor_id, label,
               now() + lifetime
        FROM used
        RETURNING *
    $$;
