-- Used and expired sign-in codes are purged too (smartpick_platform.retention), `keep` after their use or, unused,
-- their expiry, and only once no session names them any more (the sessions' purge, which runs first, lets go
-- of ended and expired ones). A code the purge could take can never open a session again: open_session takes
-- only unused codes before their expiry.
CREATE INDEX sign_in_codes_spent_time ON sign_in_codes ((coalesce(use_time, expire_time)));
-- Also what a code's delete checks its foreign key with.
CREATE INDEX sessions_code_id ON sessions (code_id);

CREATE FUNCTION purge_sign_in_codes(batch_rows integer, keep interval) RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM sign_in_codes WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM sign_in_codes AS code
                WHERE coalesce(code.use_time, code.expire_time) < now() - keep
                  AND NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.code_id = code.code_id)
                LIMIT batch_rows FOR UPDATE SKIP LOCKED))
            RETURNING 1)
        SELECT count(*) FROM gone
    $$;
