-- +goose Up
-- Batch imports: the uploaded file (kept in the database so any worker
-- process can read it), the import's progress and counts, its rejected rows,
-- and saved mappings.

CREATE TABLE import_mappings (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    mapping      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE imports (
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    id                   TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    mapping              TEXT NOT NULL,
    mapping_name         TEXT NOT NULL DEFAULT '',
    origin               TEXT NOT NULL DEFAULT 'api',
    file_name            TEXT NOT NULL DEFAULT '',
    file_size            BIGINT NOT NULL,
    file_sha256          TEXT NOT NULL,
    file_chunks          INTEGER NOT NULL,
    checkpoint           BIGINT NOT NULL DEFAULT 0,
    rows_read            BIGINT NOT NULL DEFAULT 0,
    accepted             BIGINT NOT NULL DEFAULT 0,
    rejected             BIGINT NOT NULL DEFAULT 0,
    duplicates           BIGINT NOT NULL DEFAULT 0,
    customers_created    BIGINT NOT NULL DEFAULT 0,
    customers_matched    BIGINT NOT NULL DEFAULT 0,
    transactions_created BIGINT NOT NULL DEFAULT 0,
    error                TEXT NOT NULL DEFAULT '',
    actor                TEXT NOT NULL DEFAULT '',
    created_at           TIMESTAMPTZ NOT NULL,
    started_at           TIMESTAMPTZ,
    finished_at          TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE import_file_chunks (
    tenant_id    TEXT NOT NULL,
    import_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, import_id, seq)
);

CREATE TABLE import_rejections (
    tenant_id    TEXT NOT NULL,
    import_id    TEXT NOT NULL,
    line         BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    raw          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, import_id, line)
);

-- +goose Down
DROP TABLE import_rejections;
DROP TABLE import_file_chunks;
DROP TABLE imports;
DROP TABLE import_mappings;
