-- +goose Up
-- The relay's queue: the ids of unpublished outbox rows, in a table of its
-- own. Marking a row published deletes its id here, so the relay's scan,
-- which starts at the lowest id, never wades through the entries of rows
-- published long ago (as a partial index on published_at IS NULL does until
-- a vacuum); the relay vacuums this small table itself. The outbox keeps
-- every row, with published_at, until the purge.
CREATE TABLE outbox_pending (
    id bigint PRIMARY KEY
);
ALTER TABLE outbox_pending SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                                autovacuum_vacuum_cost_delay = 0);
INSERT INTO outbox_pending SELECT id FROM outbox WHERE published_at IS NULL;
DROP INDEX outbox_unpublished;
-- The purge finds old rows by created_at, which never changes, so that
-- marking a row published touches no index.
DROP INDEX outbox_published_at;
CREATE INDEX outbox_created_at ON outbox (created_at);

-- +goose Down
DROP INDEX outbox_created_at;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
DROP TABLE outbox_pending;
