-- +goose Up
CREATE TABLE items (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    currency    text        NOT NULL,
    on_hand     bigint      NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved    bigint      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- No oversell, whatever the code does: available = on_hand - reserved >= 0.
    CONSTRAINT items_no_oversell CHECK (reserved <= on_hand)
);

-- One row per order that stock has acted on. RESERVED holds units;
-- RELEASED gave them back; CANCELLED is a tombstone: the release arrived
-- first, so a later reserve has no effect.
CREATE TABLE reservations (
    order_id   text        PRIMARY KEY,
    status     text        NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'CANCELLED')),
    lines      jsonb       NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE reservations;
DROP TABLE items;
