-- +goose Up
-- The trace an order belongs to (the W3C traceparent of the outbox write
-- that placed it), so that what the timeout sweep writes for it later
-- continues that trace; empty for orders placed before.
ALTER TABLE orders ADD COLUMN traceparent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE orders DROP COLUMN traceparent;
