-- +goose Up
-- An order's steps in one column, an object keyed by step name, each
-- {status, reason, updated_at}, so that a step added to the saga needs no
-- new column. The times are written as order-service writes them
-- (RFC 3339, UTC).
ALTER TABLE orders ADD COLUMN steps jsonb;
UPDATE orders SET steps = jsonb_build_object(
    'stock', jsonb_build_object('status', stock_status, 'reason', stock_reason,
        'updated_at', to_char(stock_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
    'payment', jsonb_build_object('status', payment_status, 'reason', payment_reason,
        'updated_at', to_char(payment_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')));
ALTER TABLE orders
    ALTER COLUMN steps SET NOT NULL,
    ADD CONSTRAINT orders_steps_object CHECK (jsonb_typeof(steps) = 'object'),
    DROP COLUMN stock_status,
    DROP COLUMN stock_reason,
    DROP COLUMN stock_updated_at,
    DROP COLUMN payment_status,
    DROP COLUMN payment_reason,
    DROP COLUMN payment_updated_at;

-- +goose Down
-- Only the stock and payment steps have columns to go back to.
ALTER TABLE orders
    ADD COLUMN stock_status       text,
    ADD COLUMN stock_reason       text        NOT NULL DEFAULT '',
    ADD COLUMN stock_updated_at   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN payment_status     text,
    ADD COLUMN payment_reason     text        NOT NULL DEFAULT '',
    ADD COLUMN payment_updated_at timestamptz NOT NULL DEFAULT now();
UPDATE orders SET
    stock_status = steps->'stock'->>'status',
    stock_reason = coalesce(steps->'stock'->>'reason', ''),
    stock_updated_at = coalesce((steps->'stock'->>'updated_at')::timestamptz, updated_at),
    payment_status = steps->'payment'->>'status',
    payment_reason = coalesce(steps->'payment'->>'reason', ''),
    payment_updated_at = coalesce((steps->'payment'->>'updated_at')::timestamptz, updated_at);
ALTER TABLE orders
    ALTER COLUMN stock_status SET NOT NULL,
    ALTER COLUMN payment_status SET NOT NULL,
    DROP COLUMN steps;
