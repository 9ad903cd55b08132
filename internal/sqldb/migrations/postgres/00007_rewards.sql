-- +goose Up
-- Rewards, redemptions and coupons (docs/rewards.md). Counters that must
-- never pass a limit (stock, per-location quotas, coupon uses) carry CHECK
-- constraints, and are changed only by conditional UPDATEs, so no
-- interleaving of concurrent redemptions can exceed them on either engine.

CREATE TABLE loyalty_rewards (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    cost              BIGINT NOT NULL CHECK (cost > 0),
    settings          TEXT NOT NULL,
    stock             BIGINT,
    redeemed          BIGINT NOT NULL DEFAULT 0,
    starts_at         TIMESTAMPTZ,
    ends_at           TIMESTAMPTZ,
    coupon_days       INTEGER NOT NULL,
    coupon_prefix     TEXT NOT NULL DEFAULT '',
    per_member_limit  INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (redeemed >= 0 AND (stock IS NULL OR redeemed <= stock))
);

-- Redemptions per reward, location and period ('d:2026-11-23',
-- 'w:2026-W48', 'm:2026-11', in the location's time zone), against the
-- limit in force when the period's first redemption was made.
CREATE TABLE loyalty_reward_quota_usage (
    tenant_id      TEXT NOT NULL,
    reward_id      TEXT NOT NULL,
    location_code  TEXT NOT NULL,
    period         TEXT NOT NULL,
    quota          BIGINT NOT NULL,
    used           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, reward_id, location_code, period),
    CHECK (used >= 0 AND used <= quota)
);

CREATE TABLE loyalty_redemptions (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    reference           TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    reward_id           TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('issued', 'cancelled')),
    points              BIGINT NOT NULL,
    location_code       TEXT NOT NULL,
    sales_channel_code  TEXT NOT NULL,
    quota_periods       TEXT NOT NULL DEFAULT '',
    entry_id            TEXT NOT NULL,
    restore_entry_id    TEXT NOT NULL DEFAULT '',
    coupon_id           TEXT NOT NULL,
    actor               TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMPTZ NOT NULL,
    cancelled_at        TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX loyalty_redemptions_reference ON loyalty_redemptions (tenant_id, reference);
CREATE INDEX loyalty_redemptions_customer ON loyalty_redemptions (tenant_id, customer_id, id);

-- Coupons: issued by a redemption (one use, bound to the member) or
-- generated in a batch. lookup is the code without hyphens, which is what
-- a typed or scanned code is matched on.
CREATE TABLE coupons (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    code              TEXT NOT NULL,
    lookup            TEXT NOT NULL,
    reward_id         TEXT NOT NULL DEFAULT '',
    batch_id          TEXT NOT NULL DEFAULT '',
    redemption_id     TEXT NOT NULL DEFAULT '',
    customer_id       TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('active', 'void')),
    max_uses          BIGINT NOT NULL CHECK (max_uses > 0),
    uses              BIGINT NOT NULL DEFAULT 0,
    per_member_limit  INTEGER NOT NULL DEFAULT 0,
    valid_from        TIMESTAMPTZ NOT NULL,
    valid_until       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (uses >= 0 AND uses <= max_uses)
);
CREATE UNIQUE INDEX coupons_lookup ON coupons (tenant_id, lookup);
CREATE INDEX coupons_batch ON coupons (tenant_id, batch_id, id) WHERE batch_id <> '';

CREATE TABLE coupon_uses (
    tenant_id           TEXT NOT NULL,
    coupon_id           TEXT NOT NULL,
    use_no              INTEGER NOT NULL,
    reference           TEXT NOT NULL,
    customer_id         TEXT NOT NULL DEFAULT '',
    location_code       TEXT NOT NULL DEFAULT '',
    sales_channel_code  TEXT NOT NULL DEFAULT '',
    actor               TEXT NOT NULL DEFAULT '',
    used_at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, coupon_id, use_no)
);
CREATE UNIQUE INDEX coupon_uses_reference ON coupon_uses (tenant_id, coupon_id, reference);

CREATE TABLE coupon_batches (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    reward_id         TEXT NOT NULL DEFAULT '',
    prefix            TEXT NOT NULL DEFAULT '',
    requested         BIGINT NOT NULL,
    generated         BIGINT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('generating', 'ready')),
    max_uses          BIGINT NOT NULL,
    per_member_limit  INTEGER NOT NULL DEFAULT 0,
    valid_from        TIMESTAMPTZ NOT NULL,
    valid_until       TIMESTAMPTZ,
    actor             TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- +goose Down
DROP TABLE coupon_batches;
DROP TABLE coupon_uses;
DROP TABLE coupons;
DROP TABLE loyalty_redemptions;
DROP TABLE loyalty_reward_quota_usage;
DROP TABLE loyalty_rewards;
