-- +goose Up
-- The relay remembers how far it has published instead of keeping a queue
-- of pending ids: writers take a transaction lock just before they insert
-- their rows (messaging/outbox), so ids are handed out in commit order and
-- every row above the position that a snapshot shows is ready. A message
-- now costs one insert: no queue entry to insert and delete, no queue to
-- vacuum. Rows between the oldest queued one and the newest published one
-- go out again once after this migration (delivery is at least once).
CREATE TABLE outbox_relay (
    singleton    bool   PRIMARY KEY DEFAULT true CHECK (singleton),
    -- Every row up to this id was published or set aside.
    published_to bigint NOT NULL
);
INSERT INTO outbox_relay (published_to)
SELECT coalesce((SELECT min(id) - 1 FROM outbox_pending), (SELECT max(id) FROM outbox), 0);
DROP TABLE outbox_pending;

-- +goose Down
CREATE TABLE outbox_pending (
    id bigint PRIMARY KEY
);
ALTER TABLE outbox_pending SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                                autovacuum_vacuum_cost_delay = 0);
INSERT INTO outbox_pending
SELECT o.id FROM outbox o, outbox_relay r WHERE o.id > r.published_to AND o.failed_at IS NULL;
DROP TABLE outbox_relay;
