-- +goose Up
-- The catalog read model, fed by the compacted items topic.
CREATE TABLE catalog (
    item_id     text        PRIMARY KEY,
    name        text        NOT NULL,
    price_cents bigint      NOT NULL,
    currency    text        NOT NULL,
    available   bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The saga: one row per order, the persisted state machine.
CREATE TABLE orders (
    id                 uuid        PRIMARY KEY,
    customer_id        text        NOT NULL,
    lines              jsonb       NOT NULL,
    amount_cents       bigint      NOT NULL,
    currency           text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
    failure_reason     text        NOT NULL DEFAULT '',
    stock_status       text        NOT NULL,
    stock_reason       text        NOT NULL DEFAULT '',
    stock_updated_at   timestamptz NOT NULL DEFAULT now(),
    payment_status     text        NOT NULL,
    payment_reason     text        NOT NULL DEFAULT '',
    payment_updated_at timestamptz NOT NULL DEFAULT now(),
    idempotency_key    text        UNIQUE,
    request_hash       text        NOT NULL DEFAULT '',
    deadline           timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_pending_deadline ON orders (deadline) WHERE status = 'PENDING';

-- +goose Down
DROP TABLE orders;
DROP TABLE catalog;
