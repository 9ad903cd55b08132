-- +goose Up
-- Two-sided referrals: each member's shareable code, and each friend who
-- joined with one (once), until the friend's first purchase has passed its
-- return window and both earn (or the referral is turned down).
CREATE TABLE loyalty_referral_codes (
    tenant_id    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    code         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE UNIQUE INDEX loyalty_referral_codes_code ON loyalty_referral_codes (tenant_id, code);

CREATE TABLE loyalty_referrals (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    referrer_id      TEXT NOT NULL,
    friend_id        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'purchased', 'converted', 'declined')),
    transaction_id   TEXT,
    qualifies_at     TIMESTAMP,
    reason           TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX loyalty_referrals_friend ON loyalty_referrals (tenant_id, friend_id);
CREATE INDEX loyalty_referrals_referrer ON loyalty_referrals (tenant_id, referrer_id, status);
CREATE INDEX loyalty_referrals_due ON loyalty_referrals (qualifies_at) WHERE status = 'purchased';

-- +goose Down
DROP TABLE loyalty_referrals;
DROP TABLE loyalty_referral_codes;
