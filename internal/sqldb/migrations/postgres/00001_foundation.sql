-- +goose Up
-- Every table but tenants leads its primary key with tenant_id, and no
-- foreign key crosses tenants, so PostgreSQL can be distributed by tenant.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    JSONB NOT NULL DEFAULT '{}',
    pepper      BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('sk', 'pk')),
    name         TEXT NOT NULL DEFAULT '',
    hint         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE customers (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    survivor_id    TEXT NOT NULL,
    merged_into    TEXT,
    first_name     TEXT,
    last_name      TEXT,
    gender         TEXT,
    birthday       TEXT,
    locale         TEXT,
    home_location  TEXT,
    attributes     JSONB NOT NULL DEFAULT '{}',
    trait_sources  JSONB NOT NULL DEFAULT '{}',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    erased_at      TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customers_survivor ON customers (tenant_id, survivor_id);

-- Lower-cased name prefixes of live customers, for search by name.
CREATE TABLE customer_search_terms (
    tenant_id    TEXT NOT NULL,
    term         TEXT COLLATE "C" NOT NULL,
    customer_id  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, term, customer_id)
);
CREATE INDEX customer_search_terms_customer ON customer_search_terms (tenant_id, customer_id);

CREATE TABLE customer_identifiers (
    tenant_id    TEXT NOT NULL,
    type         TEXT NOT NULL,
    value        TEXT COLLATE "C" NOT NULL,
    customer_id  TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    merge_hits   INTEGER NOT NULL DEFAULT 0,
    flagged_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, type, value),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX customer_identifiers_customer ON customer_identifiers (tenant_id, customer_id, created_at);
CREATE INDEX customer_identifiers_value ON customer_identifiers (tenant_id, value);

-- Erased identifiers, kept only as keyed hashes so the person cannot be
-- silently re-created from the same identifiers.
CREATE TABLE identifier_tombstones (
    tenant_id    TEXT NOT NULL,
    type         TEXT NOT NULL,
    value_hash   BYTEA NOT NULL,
    erased_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, type, value_hash)
);

CREATE TABLE customer_merges (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    group_id       TEXT NOT NULL,
    survivor_id    TEXT NOT NULL,
    merged_id      TEXT NOT NULL,
    linked_by      TEXT NOT NULL,
    snapshot       TEXT NOT NULL,
    request_id     TEXT NOT NULL DEFAULT '',
    actor          TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    undone_at      TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customer_merges_survivor ON customer_merges (tenant_id, survivor_id, created_at);

CREATE TABLE customer_consents (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    message_channel  TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    status           TEXT NOT NULL,
    source           TEXT NOT NULL DEFAULT '',
    evidence         TEXT NOT NULL DEFAULT '',
    occurred_at      TIMESTAMPTZ NOT NULL,
    recorded_at      TIMESTAMPTZ NOT NULL,
    request_id       TEXT NOT NULL DEFAULT '',
    actor            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customer_consents_customer ON customer_consents (tenant_id, customer_id, occurred_at);

CREATE TABLE audit_log (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    action       TEXT NOT NULL,
    changes      TEXT NOT NULL DEFAULT '[]',
    actor        TEXT NOT NULL,
    request_id   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    -- Entries are read per customer, newest first: the key is that order.
    PRIMARY KEY (tenant_id, customer_id, id)
);

CREATE TABLE idempotency_keys (
    tenant_id      TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    status_code    INTEGER,
    response_body  BYTEA,
    content_type   TEXT,
    customer_id    TEXT,
    locked_until   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_customer ON idempotency_keys (tenant_id, customer_id);

-- +goose Down
-- Forward-only: OMO never migrates down.
