-- The transactional outbox of smartpick_platform.outbox, in the database of every service that publishes.
-- IF NOT EXISTS: a database made before the table moved here has it from the service's first migration.
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    tenant_id    uuid NOT NULL,
    topic        text NOT NULL,
    message_key  text NOT NULL,
    payload      bytea NOT NULL,
    headers      jsonb NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    publish_time timestamptz
);

-- A row Kafka refuses for good (too large, say) is set aside with the reason, so the rows behind it go on.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS set_aside_time timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS set_aside_reason text;

DROP INDEX IF EXISTS outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE publish_time IS NULL AND set_aside_time IS NULL;
