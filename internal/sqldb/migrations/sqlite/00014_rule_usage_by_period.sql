-- +goose Up
-- A member's rule usage is read by period (all time, the sale's day and
-- month); with the period before the rule in the key those are three short
-- ranges, however many days of history the member has.
CREATE TABLE loyalty_rule_usage_by_period (
    tenant_id    TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    period       TEXT NOT NULL,
    uses         INTEGER NOT NULL CHECK (uses >= 0),
    PRIMARY KEY (tenant_id, customer_id, period, rule_id)
) WITHOUT ROWID;
INSERT INTO loyalty_rule_usage_by_period (tenant_id, rule_id, customer_id, period, uses)
    SELECT tenant_id, rule_id, customer_id, period, uses FROM loyalty_rule_usage;
DROP TABLE loyalty_rule_usage;
ALTER TABLE loyalty_rule_usage_by_period RENAME TO loyalty_rule_usage;

-- +goose Down
CREATE TABLE loyalty_rule_usage_by_rule (
    tenant_id    TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    period       TEXT NOT NULL,
    uses         INTEGER NOT NULL CHECK (uses >= 0),
    PRIMARY KEY (tenant_id, customer_id, rule_id, period)
) WITHOUT ROWID;
INSERT INTO loyalty_rule_usage_by_rule (tenant_id, rule_id, customer_id, period, uses)
    SELECT tenant_id, rule_id, customer_id, period, uses FROM loyalty_rule_usage;
DROP TABLE loyalty_rule_usage;
ALTER TABLE loyalty_rule_usage_by_rule RENAME TO loyalty_rule_usage;
