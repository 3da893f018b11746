-- Every API key expires. Keys issued before expiry existed get the longest lifetime a new key may have
-- (365 days, the default of SMARTPICK_GATEWAY_API_KEY_MAX_DAYS) from this migration on.
ALTER TABLE api_keys ADD COLUMN expire_time timestamptz;
UPDATE api_keys SET expire_time = now() + interval '365 days' WHERE expire_time IS NULL;
ALTER TABLE api_keys ALTER COLUMN expire_time SET NOT NULL;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, create_time DESC);

-- What the retention purge looks for: idempotency records past their window, sessions past their end.
CREATE INDEX idempotency_records_create_time ON idempotency_records (create_time);
CREATE INDEX sessions_expire_time ON sessions (expire_time);
