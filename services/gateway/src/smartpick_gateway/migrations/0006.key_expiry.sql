-- Every API key expires. Keys issued before expiry existed get the longest lifetime a new key may have
-- (365 days, the default of SMARTPICK_GATEWAY_API_KEY_MAX_DAYS) from this migration on.
ALTER TABLE api_keys ADD COLUMN expire_time timestamptz;
UPDATE api_keys SET expire_time = now() + interval '365 days' WHERE expire_time IS NULL;
ALTER TABLE api_keys ALTER COLUMN expire_time SET NOT NULL;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, create_time DESC);

-- What the retention purge looks for: idempotency records past their window, sessions past their end.
CREATE INDEX idempotency_records_create_time ON idempotency_records (create_time);
CREATE INDEX sessions_expire_time ON sessions (expire_time);

-- The retention purge (smartpick_platform.retention): one bounded batch of a school's and the platform's rows
-- past their time, whatever school the calling transaction acts for. SECURITY DEFINER, as the purge acts for
-- no school: the functions run as the tables' owner, which row-level security on these tables does not bind.
CREATE FUNCTION purge_idempotency_records(batch_rows integer, keep interval) RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM idempotency_records WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM idempotency_records WHERE create_time < now() - keep
                LIMIT batch_rows FOR UPDATE SKIP LOCKED))
            RETURNING 1)
        SELECT count(*) FROM gone
    $$;

CREATE FUNCTION purge_sessions(batch_rows integer, keep interval) RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM sessions WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM sessions WHERE coalesce(end_time, expire_time) < now() - keep
                LIMIT batch_rows FOR UPDATE SKIP LOCKED))
            RETURNING 1)
        SELECT count(*) FROM gone
    $$;
