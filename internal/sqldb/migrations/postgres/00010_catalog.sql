-- +goose Up
-- The catalog: categories, products and their variants (the SKUs), price
-- lists and prices, and the text index of variants for search.

CREATE TABLE catalog_categories (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    code         TEXT NOT NULL,
    parent_code  TEXT NOT NULL DEFAULT '',
    names        TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX catalog_categories_code ON catalog_categories (tenant_id, code);
CREATE INDEX catalog_categories_parent ON catalog_categories (tenant_id, parent_code);

CREATE TABLE catalog_products (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    handle            TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    names             TEXT NOT NULL,
    descriptions      TEXT NOT NULL,
    categories        TEXT NOT NULL,
    attributes        TEXT NOT NULL,
    images            TEXT NOT NULL,
    options           TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX catalog_products_handle ON catalog_products (tenant_id, handle) WHERE handle <> '';

-- Which products are in which category, for the category's own checks.
CREATE TABLE catalog_product_categories (
    tenant_id      TEXT NOT NULL,
    category_code  TEXT NOT NULL,
    product_id     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, category_code, product_id)
);

-- doc numbers a variant in the text index (tenant slot << 32 | n) and
-- version is the catalog version that last wrote it; search_tokens is what
-- the text index holds (catalog.IndexTokens, space separated).
CREATE TABLE catalog_variants (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    product_id     TEXT NOT NULL,
    doc            BIGINT NOT NULL,
    sku            TEXT NOT NULL,
    barcode        TEXT NOT NULL DEFAULT '',
    gtin           TEXT NOT NULL DEFAULT '',
    options        TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    images         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    gift_card      BOOLEAN NOT NULL,
    tax_code       TEXT NOT NULL DEFAULT '',
    position       INTEGER NOT NULL,
    version        BIGINT NOT NULL,
    search_tokens  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX catalog_variants_sku ON catalog_variants (tenant_id, sku);
CREATE UNIQUE INDEX catalog_variants_gtin ON catalog_variants (tenant_id, gtin) WHERE gtin <> '';
CREATE UNIQUE INDEX catalog_variants_doc ON catalog_variants (tenant_id, doc);
CREATE INDEX catalog_variants_product ON catalog_variants (tenant_id, product_id, position);
CREATE INDEX catalog_variants_version ON catalog_variants (tenant_id, version);

-- Per tenant: its slot in the text index's doc numbers, the last doc
-- number given, and the catalog version (raised by every write to
-- products, variants or categories; search caches follow it).
CREATE TABLE catalog_search_state (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    slot        BIGINT NOT NULL,
    next_doc    BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id)
);
CREATE UNIQUE INDEX catalog_search_state_slot ON catalog_search_state (slot);

-- The text index (SQLite's is an FTS5 table of the same name): each
-- variant's search tokens (catalog.IndexTokens, made in Go, CJK bigrams
-- included) taken verbatim as lexemes, so no text search parser or locale
-- is involved, with the tenant's own lexeme. A narrow table of its own
-- rather than an expression index on catalog_variants: a search that finds
-- ten thousand variants reads a few hundred pages of it, not thousands.
CREATE TABLE catalog_search (
    tenant_id  TEXT NOT NULL,
    doc        BIGINT NOT NULL,
    tokens     TSVECTOR NOT NULL,
    PRIMARY KEY (tenant_id, doc)
);
CREATE INDEX catalog_search_tokens ON catalog_search USING gin (tokens);

CREATE TABLE catalog_price_lists (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    sales_channels  TEXT NOT NULL,
    tiers           TEXT NOT NULL,
    starts_at       TIMESTAMPTZ,
    ends_at         TIMESTAMPTZ,
    priority        INTEGER NOT NULL,
    tax_inclusive   BOOLEAN NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX catalog_price_lists_code ON catalog_price_lists (tenant_id, code);

-- Prices by SKU first: checkout reads every list's price of a few SKUs.
CREATE TABLE catalog_prices (
    tenant_id      TEXT NOT NULL,
    sku            TEXT NOT NULL,
    price_list_id  TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount >= 0),
    compare_at     BIGINT NOT NULL CHECK (compare_at >= 0),
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, sku, price_list_id)
);
CREATE INDEX catalog_prices_list ON catalog_prices (tenant_id, price_list_id, sku);

-- +goose Down
DROP TABLE catalog_prices;
DROP TABLE catalog_price_lists;
DROP TABLE catalog_search;
DROP TABLE catalog_search_state;
DROP TABLE catalog_variants;
DROP TABLE catalog_product_categories;
DROP TABLE catalog_products;
DROP TABLE catalog_categories;
