-- CreateSchool is idempotent on the caller's request id: a replay finds the school the first call made.
ALTER TABLE schools ADD COLUMN request_id text UNIQUE;
