-- +goose Up
-- The Stripe account a payment was taken on (Stripe Connect; '' for the
-- platform's own): its refunds and cancels act for that account even after
-- the brand changes its own, and the platform-wide webhook endpoint finds
-- the payment, and so the brand, by its PaymentIntent.
ALTER TABLE payments ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_provider_reference ON payments (provider, reference);

-- +goose Down
DROP INDEX payments_provider_reference;
ALTER TABLE payments DROP COLUMN account;
