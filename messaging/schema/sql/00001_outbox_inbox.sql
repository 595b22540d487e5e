-- +goose Up
-- The transactional outbox and the consumer inbox, in every service's database.
CREATE TABLE outbox (
    id           bigserial   PRIMARY KEY,
    -- The writing transaction: rows are relayed only once every transaction
    -- older than the snapshot's xmin has ended (see messaging/outbox).
    txid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    topic        text        NOT NULL,
    key          text        NOT NULL,
    value        bytea       NOT NULL,
    headers      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE inbox (
    message_id  uuid        PRIMARY KEY,
    topic       text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_received_at ON inbox (received_at);

-- +goose Down
DROP TABLE inbox;
DROP TABLE outbox;
