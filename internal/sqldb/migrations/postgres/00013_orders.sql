-- +goose Up
-- Headless commerce: a brand's commerce settings, carts (a document per
-- cart, edited under a version), orders with their shipments, payments,
-- returns and refunds, and every order change as an append-only fact.
CREATE TABLE commerce_settings (
    tenant_id   TEXT NOT NULL PRIMARY KEY,
    settings    TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE carts (
    tenant_id          TEXT NOT NULL,
    id                 TEXT NOT NULL,
    customer_id        TEXT NOT NULL DEFAULT '',
    sales_channel_code TEXT NOT NULL,
    currency           TEXT NOT NULL,
    location_id        TEXT NOT NULL DEFAULT '',
    associate_id       TEXT NOT NULL DEFAULT '',
    doc                TEXT NOT NULL,
    share_token        TEXT,
    status             TEXT NOT NULL CHECK (status IN ('open', 'completed')),
    version            BIGINT NOT NULL,
    order_id           TEXT NOT NULL DEFAULT '',
    hold_id            TEXT NOT NULL DEFAULT '',
    hold_until         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX carts_share_token ON carts (share_token) WHERE share_token IS NOT NULL;

CREATE TABLE orders (
    tenant_id          TEXT NOT NULL,
    id                 TEXT NOT NULL,
    cart_id            TEXT,
    customer_id        TEXT NOT NULL DEFAULT '',
    sales_channel_code TEXT NOT NULL,
    location_id        TEXT NOT NULL DEFAULT '',
    associate_id       TEXT NOT NULL DEFAULT '',
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    payment_status     TEXT NOT NULL,
    total              BIGINT NOT NULL CHECK (total >= 0),
    refunded           BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= total),
    doc                TEXT NOT NULL,
    reservation_id     TEXT NOT NULL DEFAULT '',
    transaction_id     TEXT NOT NULL DEFAULT '',
    hold_id            TEXT NOT NULL DEFAULT '',
    payment_due_at     TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX orders_cart ON orders (tenant_id, cart_id) WHERE cart_id IS NOT NULL;
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, id);
CREATE INDEX orders_awaiting ON orders (payment_due_at) WHERE status = 'awaiting_payment';

CREATE TABLE shipments (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    order_id         TEXT NOT NULL,
    location_id      TEXT NOT NULL,
    method           TEXT NOT NULL,
    status           TEXT NOT NULL,
    lines            TEXT NOT NULL,
    carrier          TEXT NOT NULL DEFAULT '',
    tracking_number  TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX shipments_order ON shipments (tenant_id, order_id);
CREATE INDEX shipments_location ON shipments (tenant_id, location_id, status, id);

CREATE TABLE payments (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    provider     TEXT NOT NULL,
    method       TEXT NOT NULL,
    reference    TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    captured     BIGINT NOT NULL DEFAULT 0 CHECK (captured >= 0 AND captured <= amount),
    refunded     BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= captured),
    points       BIGINT NOT NULL DEFAULT 0,
    failure      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX payments_order ON payments (tenant_id, order_id);
CREATE INDEX payments_reference ON payments (tenant_id, provider, reference);

CREATE TABLE order_returns (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    order_id         TEXT NOT NULL,
    location_id      TEXT NOT NULL DEFAULT '',
    via              TEXT NOT NULL CHECK (via IN ('store', 'post', 'cancellation')),
    refund_total     BIGINT NOT NULL,
    doc              TEXT NOT NULL,
    transaction_id   TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX order_returns_order ON order_returns (tenant_id, order_id);

CREATE TABLE refunds (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    return_id    TEXT NOT NULL DEFAULT '',
    payment_id   TEXT NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    points       BIGINT NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    reference    TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX refunds_order ON refunds (tenant_id, order_id);

CREATE TABLE order_events (
    tenant_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    request_id  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, order_id, seq)
);

CREATE TABLE payment_webhook_events (
    tenant_id    TEXT NOT NULL,
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider, event_id)
);

-- +goose Down
DROP TABLE payment_webhook_events;
DROP TABLE order_events;
DROP TABLE refunds;
DROP TABLE order_returns;
DROP TABLE payments;
DROP TABLE shipments;
DROP TABLE orders;
DROP TABLE carts;
DROP TABLE commerce_settings;
