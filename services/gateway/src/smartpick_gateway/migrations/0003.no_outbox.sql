-- The gateway owns no event any more: the profile service writes ProfileUpdated in its own outbox, in the
-- version's transaction. An upgraded database must not drop events the old gateway had not sent yet.
DO $$
DECLARE
    unsent bigint := 0;
BEGIN
    IF to_regclass('outbox') IS NOT NULL THEN
        EXECUTE 'SELECT count(*) FROM outbox WHERE publish_time IS NULL' INTO unsent;
    END IF;
    IF unsent > 0 THEN
        RAISE EXCEPTION 'the gateway outbox still holds % unpublished events: run the previous gateway until '
            'smartpick_outbox_pending is 0, then upgrade', unsent;
    END IF;
END $$;
DROP TABLE IF EXISTS outbox;
