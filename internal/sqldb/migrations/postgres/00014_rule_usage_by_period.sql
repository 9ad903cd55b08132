-- +goose Up
-- A member's rule usage is read by period (all time, the sale's day and
-- month); with the period before the rule in the key those are three short
-- ranges, however many days of history the member has.
ALTER TABLE loyalty_rule_usage DROP CONSTRAINT loyalty_rule_usage_pkey;
ALTER TABLE loyalty_rule_usage ADD PRIMARY KEY (tenant_id, customer_id, period, rule_id);

-- +goose Down
ALTER TABLE loyalty_rule_usage DROP CONSTRAINT loyalty_rule_usage_pkey;
ALTER TABLE loyalty_rule_usage ADD PRIMARY KEY (tenant_id, customer_id, rule_id, period);
