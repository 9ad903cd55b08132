-- +goose Up
-- The embedded sFTP server: its host key (one per installation, shared by
-- every process) and the SSH public keys tenants log in with.

CREATE TABLE sftp_host_keys (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    private_key  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE sftp_authorized_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    fingerprint  TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX sftp_authorized_keys_fingerprint ON sftp_authorized_keys (tenant_id, fingerprint);

-- +goose Down
DROP TABLE sftp_authorized_keys;
DROP TABLE sftp_host_keys;
