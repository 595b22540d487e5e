-- +goose Up
-- A row the broker refuses for good (too large, an invalid topic) is set
-- aside: its id leaves outbox_pending, so the rows behind it go out, and the
-- row keeps when and why it failed until an operator retries it
-- (`sagactl outbox retry`), which puts its id back in the queue.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz, ADD COLUMN error text;
CREATE INDEX outbox_failed ON outbox (id) WHERE failed_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_failed;
ALTER TABLE outbox DROP COLUMN error, DROP COLUMN failed_at;
