-- +goose Up
CREATE TABLE accounts (
    id            text        PRIMARY KEY,
    currency      text        NOT NULL,
    -- No overdraft, whatever the code does.
    balance_cents bigint      NOT NULL DEFAULT 0 CONSTRAINT accounts_no_overdraft CHECK (balance_cents >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deposits (
    id           bigserial   PRIMARY KEY,
    account_id   text        NOT NULL REFERENCES accounts (id),
    amount_cents bigint      NOT NULL CHECK (amount_cents > 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per order that payment has acted on. CHARGED took the money;
-- REFUNDED gave it back; CANCELLED is a tombstone: the refund arrived first,
-- so a later charge has no effect.
CREATE TABLE charges (
    order_id     text        PRIMARY KEY,
    account_id   text        NOT NULL,
    amount_cents bigint      NOT NULL DEFAULT 0,
    status       text        NOT NULL CHECK (status IN ('CHARGED', 'REFUNDED', 'CANCELLED')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE charges;
DROP TABLE deposits;
DROP TABLE accounts;
