-- +goose Up
-- Inventory: stock per SKU and location, the append-only journal of every
-- change to the units on hand, reservations that hold units for a cart or
-- an order, safety stock kept back from sales channels, low-stock
-- thresholds, and the low-stock and back-in-stock facts.

-- Units on hand and reserved of a SKU at a location. Only movements change
-- on_hand (so it always equals the sum of the journal); only reservations
-- change reserved (so it always equals the open reservation lines).
-- reserved may exceed on_hand when a till sold units a cart holds: what is
-- available never goes below zero, and the order is short.
CREATE TABLE inventory_levels (
    tenant_id    TEXT NOT NULL,
    sku          TEXT NOT NULL,
    location_id  TEXT NOT NULL,
    on_hand      INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, sku, location_id)
) WITHOUT ROWID;
CREATE INDEX inventory_levels_location ON inventory_levels (tenant_id, location_id, sku);

-- The journal: one row per change to on_hand, never updated. natural_key
-- (a delivery note line, a shipment line, a return line) makes a resend
-- apply nothing; request_hash tells a resend from another movement that
-- reuses its key.
CREATE TABLE inventory_movements (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    sku             TEXT NOT NULL,
    location_id     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('receipt', 'sale', 'return', 'adjustment', 'transfer_out', 'transfer_in', 'count')),
    quantity        INTEGER NOT NULL,
    on_hand_before  INTEGER NOT NULL,
    on_hand_after   INTEGER NOT NULL CHECK (on_hand_after >= 0),
    reason          TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    reference       TEXT NOT NULL DEFAULT '',
    natural_key     TEXT,
    request_hash    TEXT NOT NULL,
    transfer_id     TEXT NOT NULL DEFAULT '',
    reservation_id  TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    occurred_at     TIMESTAMP NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (on_hand_after = on_hand_before + quantity)
);
CREATE UNIQUE INDEX inventory_movements_key ON inventory_movements (tenant_id, natural_key) WHERE natural_key IS NOT NULL;
CREATE INDEX inventory_movements_level ON inventory_movements (tenant_id, sku, location_id, id);
CREATE INDEX inventory_movements_location ON inventory_movements (tenant_id, location_id, id);

-- Units held for a cart or an order until committed (sold), released, or
-- past expires_at (the job releases them). ref is unique among open holds.
CREATE TABLE inventory_reservations (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    ref            TEXT NOT NULL,
    sales_channel  TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('held', 'committed', 'released', 'expired')),
    reason         TEXT NOT NULL DEFAULT '',
    expires_at     TIMESTAMP,
    actor          TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX inventory_reservations_ref ON inventory_reservations (tenant_id, ref) WHERE status = 'held';
CREATE INDEX inventory_reservations_expiring ON inventory_reservations (expires_at) WHERE status = 'held' AND expires_at IS NOT NULL;

CREATE TABLE inventory_reservation_lines (
    tenant_id       TEXT NOT NULL,
    reservation_id  TEXT NOT NULL,
    line_no         INTEGER NOT NULL,
    sku             TEXT NOT NULL,
    location_id     TEXT NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    status          TEXT NOT NULL CHECK (status IN ('held', 'committed', 'released')),
    settled_at      TIMESTAMP,
    PRIMARY KEY (tenant_id, reservation_id, line_no)
);
CREATE INDEX inventory_reservation_lines_held ON inventory_reservation_lines (tenant_id, sku, location_id) WHERE status = 'held';

-- Units a sales channel may not sell: per SKU or every SKU (''), per
-- location, per location type, or everywhere ('' and ''). The most
-- specific rule applies (inventory.SafetyStock).
CREATE TABLE inventory_safety_stock (
    tenant_id         TEXT NOT NULL,
    sales_channel_id  TEXT NOT NULL,
    sku               TEXT NOT NULL,
    location_id       TEXT NOT NULL,
    location_type     TEXT NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity >= 0),
    actor             TEXT NOT NULL DEFAULT '',
    updated_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, sales_channel_id, sku, location_id, location_type),
    CHECK (location_id = '' OR location_type = '')
);

-- Low-stock thresholds per SKU or every SKU (''), per location or every
-- location (''); ('', '') is the tenant's default.
CREATE TABLE inventory_thresholds (
    tenant_id    TEXT NOT NULL,
    sku          TEXT NOT NULL,
    location_id  TEXT NOT NULL,
    low_stock    INTEGER NOT NULL CHECK (low_stock >= 0),
    actor        TEXT NOT NULL DEFAULT '',
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, sku, location_id)
);

-- Low-stock facts (a location's available units reached its threshold) and
-- back-in-stock facts (a sales channel can sell a SKU again), recorded in
-- the transaction of the change; an inventory.facts job carries them on.
CREATE TABLE inventory_facts (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('low_stock', 'back_in_stock')),
    sku               TEXT NOT NULL,
    location_id       TEXT NOT NULL,
    sales_channel     TEXT NOT NULL DEFAULT '',
    available_before  INTEGER NOT NULL,
    available_after   INTEGER NOT NULL,
    threshold         INTEGER,
    cause             TEXT NOT NULL,
    occurred_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX inventory_facts_sku ON inventory_facts (tenant_id, sku, id);

-- +goose Down
DROP TABLE inventory_facts;
DROP TABLE inventory_thresholds;
DROP TABLE inventory_safety_stock;
DROP TABLE inventory_reservation_lines;
DROP TABLE inventory_reservations;
DROP TABLE inventory_movements;
DROP TABLE inventory_levels;
