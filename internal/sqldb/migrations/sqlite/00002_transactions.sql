-- +goose Up
-- Locations, sales channels, and the purchases and returns recorded at them.

CREATE TABLE locations (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    code         TEXT NOT NULL,
    type         TEXT NOT NULL,
    names        TEXT NOT NULL,
    time_zone    TEXT NOT NULL,
    currency     TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '{}',
    latitude     REAL,
    longitude    REAL,
    status       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX locations_code ON locations (tenant_id, code);

CREATE TABLE sales_channels (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    code         TEXT NOT NULL,
    type         TEXT NOT NULL,
    names        TEXT NOT NULL,
    active       INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX sales_channels_code ON sales_channels (tenant_id, code);

-- A purchase or a return. receipt_key is the natural key of a receipt
-- (location or sales channel, register, receipt number); external_id the
-- sending system's own id. Either one makes a resend apply nothing twice.
CREATE TABLE transactions (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('purchase', 'return')),
    sales_channel_id  TEXT NOT NULL,
    location_id       TEXT,
    register          TEXT NOT NULL DEFAULT '',
    receipt_number    TEXT,
    external_id       TEXT,
    receipt_key       TEXT,
    occurred_at       TIMESTAMP NOT NULL,
    utc_offset        INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    tax_inclusive     INTEGER NOT NULL,
    subtotal          INTEGER NOT NULL,
    discount_total    INTEGER NOT NULL,
    tax_total         INTEGER NOT NULL,
    total             INTEGER NOT NULL,
    customer_id       TEXT,
    associate_id      TEXT NOT NULL DEFAULT '',
    original_id       TEXT,
    original_ref      TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL DEFAULT '',
    request_hash      TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX transactions_receipt ON transactions (tenant_id, receipt_key) WHERE receipt_key IS NOT NULL;
CREATE UNIQUE INDEX transactions_external ON transactions (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX transactions_customer ON transactions (tenant_id, customer_id, occurred_at) WHERE customer_id IS NOT NULL;
CREATE INDEX transactions_original ON transactions (tenant_id, original_id) WHERE original_id IS NOT NULL;

CREATE TABLE transaction_lines (
    tenant_id       TEXT NOT NULL,
    transaction_id  TEXT NOT NULL,
    line_number     INTEGER NOT NULL,
    sku             TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT '',
    quantity        INTEGER NOT NULL,
    unit_price      INTEGER NOT NULL,
    discount        INTEGER NOT NULL,
    tax             INTEGER NOT NULL,
    total           INTEGER NOT NULL,
    original_line   INTEGER,
    returned        INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0 AND returned <= quantity),
    PRIMARY KEY (tenant_id, transaction_id, line_number)
);

CREATE TABLE transaction_tenders (
    tenant_id       TEXT NOT NULL,
    transaction_id  TEXT NOT NULL,
    position        INTEGER NOT NULL,
    type            TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    reference       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, transaction_id, position)
);

-- Purchase aggregates per customer as recorded, currency, sales channel and
-- location ('' for none). A profile sums the rows of its merge group, so a
-- merge or an unmerge moves nothing.
CREATE TABLE customer_sales (
    tenant_id          TEXT NOT NULL,
    customer_id        TEXT NOT NULL,
    currency           TEXT NOT NULL,
    sales_channel_id   TEXT NOT NULL,
    location_id        TEXT NOT NULL,
    purchases          INTEGER NOT NULL,
    returns            INTEGER NOT NULL,
    spent              INTEGER NOT NULL,
    refunded           INTEGER NOT NULL,
    first_purchase_at  TIMESTAMP,
    last_purchase_at   TIMESTAMP,
    PRIMARY KEY (tenant_id, customer_id, currency, sales_channel_id, location_id)
);

-- +goose Down
DROP TABLE customer_sales;
DROP TABLE transaction_tenders;
DROP TABLE transaction_lines;
DROP TABLE transactions;
DROP TABLE sales_channels;
DROP TABLE locations;
