-- +goose Up
-- Points held as a tender at the till or checkout: held (taken from the
-- member's lots into the held account), then captured (spent) or released
-- (given back to the same lots). A hold that is neither by its expiry is
-- released by a job, so a failed payment never loses points.
CREATE TABLE loyalty_holds (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    points          INTEGER NOT NULL CHECK (points > 0),
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    reference       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('held', 'captured', 'released')),
    hold_entry_id   TEXT NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX loyalty_holds_reference ON loyalty_holds (tenant_id, reference);
CREATE INDEX loyalty_holds_expiring ON loyalty_holds (expires_at) WHERE status = 'held';

-- +goose Down
DROP TABLE loyalty_holds;
