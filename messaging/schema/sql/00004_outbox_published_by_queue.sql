-- +goose Up
-- A row is published once its id has left outbox_pending (and it was not
-- set aside): the relay no longer writes the row again to mark it, which
-- cost as much as the insert.
ALTER TABLE outbox DROP COLUMN published_at;

-- +goose Down
ALTER TABLE outbox ADD COLUMN published_at timestamptz;
UPDATE outbox o SET published_at = now()
WHERE o.failed_at IS NULL AND NOT EXISTS (SELECT FROM outbox_pending p WHERE p.id = o.id);
