-- +goose Up
-- Behavioural events (the Segment-compatible tracking API), and the sales
-- channel a write key records online orders in.

-- One row per event, kept for good. message_id is unique per tenant, so a
-- resent event is recorded once however late it comes back. customer_id is
-- the customer the event was recorded on; reads follow merges through
-- customers.survivor_id. JSON members are kept as text, as sent.
CREATE TABLE events (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    message_id          TEXT NOT NULL,
    type                TEXT NOT NULL CHECK (type IN ('identify', 'track', 'page', 'screen', 'group', 'alias')),
    name                TEXT NOT NULL DEFAULT '',
    user_id             TEXT NOT NULL DEFAULT '',
    anonymous_id        TEXT NOT NULL DEFAULT '',
    customer_id         TEXT NOT NULL,
    occurred_at         TIMESTAMP NOT NULL,
    original_timestamp  TIMESTAMP,
    sent_at             TIMESTAMP,
    received_at         TIMESTAMP NOT NULL,
    properties          TEXT NOT NULL DEFAULT '{}',
    traits              TEXT NOT NULL DEFAULT '{}',
    context             TEXT NOT NULL DEFAULT '{}',
    integrations        TEXT NOT NULL DEFAULT '{}',
    commerce            TEXT NOT NULL DEFAULT '',
    transaction_id      TEXT,
    key_id              TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX events_message ON events (tenant_id, message_id);
CREATE INDEX events_customer ON events (tenant_id, customer_id, occurred_at);

ALTER TABLE api_keys ADD COLUMN sales_channel_id TEXT;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN sales_channel_id;
DROP TABLE events;
