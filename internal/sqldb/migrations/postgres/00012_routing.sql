-- +goose Up
-- Sourcing rules, versioned per tenant: every draft and every replacement is
-- a new version, kept forever. The head row hands out version numbers (its
-- row lock serialises concurrent writers) and names the active version; a
-- tenant without one routes by the built-in default.
CREATE TABLE routing_rule_heads (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    last_version    INTEGER NOT NULL,
    active_version  INTEGER,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id)
);
CREATE TABLE routing_rule_versions (
    tenant_id     TEXT NOT NULL,
    version       INTEGER NOT NULL,
    definition    TEXT NOT NULL,
    note          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    activated_at  TIMESTAMPTZ,
    activated_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, version)
);

-- How many orders a location fulfils per local day (0: no limit), and how
-- many it took each day (day is YYYY-MM-DD in the location's time zone).
CREATE TABLE location_capacities (
    tenant_id       TEXT NOT NULL,
    location_id     TEXT NOT NULL,
    daily_capacity  BIGINT NOT NULL CHECK (daily_capacity >= 0),
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, location_id),
    FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id)
);
CREATE TABLE location_capacity_usage (
    tenant_id    TEXT NOT NULL,
    location_id  TEXT NOT NULL,
    day          TEXT NOT NULL,
    used         BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (tenant_id, location_id, day)
);
CREATE INDEX location_capacity_usage_day ON location_capacity_usage (tenant_id, day);

-- +goose Down
DROP TABLE location_capacity_usage;
DROP TABLE location_capacities;
DROP TABLE routing_rule_versions;
DROP TABLE routing_rule_heads;
