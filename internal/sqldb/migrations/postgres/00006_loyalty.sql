-- +goose Up
-- The loyalty engine: program, tiers, rules (versioned), and the ledger:
-- journal entries of balanced postings, cached account balances, lots of
-- earned points with their expiry, and the record of every take from a lot.

CREATE TABLE loyalty_programs (
    tenant_id    TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
    settings     TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE loyalty_tiers (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    rank         INTEGER NOT NULL,
    threshold    BIGINT NOT NULL,
    multiplier   BIGINT NOT NULL,
    benefits     TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX loyalty_tiers_code ON loyalty_tiers (tenant_id, code);
CREATE UNIQUE INDEX loyalty_tiers_rank ON loyalty_tiers (tenant_id, rank);

-- The current version of each rule; every version is kept in
-- loyalty_rule_versions, and entries name the version that awarded them.
CREATE TABLE loyalty_rules (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    version      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    definition   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE loyalty_rule_versions (
    tenant_id    TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    actor        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, version)
);

-- How often a rule awarded a member, per period ('all', 'd:2026-11-23',
-- 'm:2026-11'), for its limits.
CREATE TABLE loyalty_rule_usage (
    tenant_id    TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    period       TEXT NOT NULL,
    uses         BIGINT NOT NULL CHECK (uses >= 0),
    PRIMARY KEY (tenant_id, customer_id, rule_id, period)
);

-- Cached balances. Member accounts (available, pending, held) and rule
-- budgets never go below zero; owed and the program's accounts may.
CREATE TABLE loyalty_accounts (
    tenant_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    balance      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, owner),
    CHECK (kind NOT IN ('available', 'pending', 'held', 'budget') OR balance >= 0)
);

CREATE TABLE loyalty_entries (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    kind            TEXT NOT NULL,
    customer_id     TEXT NOT NULL DEFAULT '',
    natural_key     TEXT NOT NULL,
    transaction_id  TEXT,
    reason          TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    details         TEXT NOT NULL DEFAULT '',
    occurred_at     TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX loyalty_entries_key ON loyalty_entries (tenant_id, natural_key);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (tenant_id, customer_id, id);

CREATE TABLE loyalty_postings (
    tenant_id      TEXT NOT NULL,
    entry_id       TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    account_kind   TEXT NOT NULL,
    account_owner  TEXT NOT NULL,
    points         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, entry_id, seq)
);

-- Earned points, pending then available, until spent or expired.
-- origin_customer_id is who earned them: a merge moves lots to the
-- survivor and an unmerge moves back what is left of them.
CREATE TABLE loyalty_lots (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    origin_customer_id  TEXT NOT NULL,
    entry_id            TEXT NOT NULL,
    points              BIGINT NOT NULL,
    remaining           BIGINT NOT NULL CHECK (remaining >= 0),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'available')),
    available_at        TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ,
    earned_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (remaining <= points)
);
CREATE INDEX loyalty_lots_customer ON loyalty_lots (tenant_id, customer_id, status) WHERE remaining > 0;
CREATE INDEX loyalty_lots_entry ON loyalty_lots (tenant_id, entry_id);
CREATE INDEX loyalty_lots_maturing ON loyalty_lots (available_at) WHERE status = 'pending' AND remaining > 0;
CREATE INDEX loyalty_lots_expiring ON loyalty_lots (expires_at) WHERE status = 'available' AND remaining > 0;

-- Every take from a lot (spending, expiry, clawback), so a reversal gives
-- back exactly the lots it took from, with their original expiry.
CREATE TABLE loyalty_lot_takes (
    tenant_id   TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    lot_id      TEXT NOT NULL,
    points      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, entry_id, lot_id)
);

-- What each line of a purchase earned, per award, and how much of it
-- returns have clawed back.
CREATE TABLE loyalty_award_lines (
    tenant_id       TEXT NOT NULL,
    entry_id        TEXT NOT NULL,
    award_no        INTEGER NOT NULL,
    line_number     INTEGER NOT NULL,
    rule_id         TEXT NOT NULL,
    budgeted        BOOLEAN NOT NULL,
    status          BOOLEAN NOT NULL,
    points          BIGINT NOT NULL,
    clawed          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, entry_id, award_no, line_number),
    CHECK (clawed >= 0 AND clawed <= points)
);

-- A member's standing: tier (base_tier_id is the tier kept at the last
-- review, which returns cannot take away), when the period is next
-- reviewed, lifetime points earned.
CREATE TABLE loyalty_members (
    tenant_id         TEXT NOT NULL,
    customer_id       TEXT NOT NULL,
    tier_id           TEXT NOT NULL DEFAULT '',
    base_tier_id      TEXT NOT NULL DEFAULT '',
    tier_since        TIMESTAMPTZ NOT NULL,
    review_at         TIMESTAMPTZ NOT NULL,
    lifetime_earned   BIGINT NOT NULL,
    joined_at         TIMESTAMPTZ NOT NULL,
    last_activity_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE INDEX loyalty_members_review ON loyalty_members (review_at);

-- Qualifying value per member and day (the sale's local date): net spend
-- in the tiering currency and status points.
CREATE TABLE loyalty_qualifying (
    tenant_id      TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    day            TEXT NOT NULL,
    spend          BIGINT NOT NULL,
    status_points  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, day)
);

CREATE TABLE loyalty_tier_changes (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    from_tier_id  TEXT NOT NULL,
    to_tier_id    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX loyalty_tier_changes_customer ON loyalty_tier_changes (tenant_id, customer_id, id);

-- +goose Down
DROP TABLE loyalty_tier_changes;
DROP TABLE loyalty_qualifying;
DROP TABLE loyalty_members;
DROP TABLE loyalty_award_lines;
DROP TABLE loyalty_lot_takes;
DROP TABLE loyalty_lots;
DROP TABLE loyalty_postings;
DROP TABLE loyalty_entries;
DROP TABLE loyalty_accounts;
DROP TABLE loyalty_rule_usage;
DROP TABLE loyalty_rule_versions;
DROP TABLE loyalty_rules;
DROP TABLE loyalty_tiers;
DROP TABLE loyalty_programs;
