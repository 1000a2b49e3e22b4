-- Every acquirer transaction is a payment attempt; an invoice is paid by exactly one of them, and
-- money taken by any other is refunded. Unknown values are refused by the database too.

CREATE TABLE payment_attempts (
    id               uuid PRIMARY KEY,
    acquirer         text NOT NULL,
    transaction_id   text NOT NULL,
    -- NULL when the acquirer named an invoice we do not have; claimed_invoice_id keeps what it said.
    invoice_id       uuid REFERENCES invoices (id),
    claimed_invoice_id text,
    amount           bigint NOT NULL CHECK (amount >= 0),
    -- What the acquirer took, in whatever currency it took it (BillingCore.Currency): it goes back in it.
    currency         text NOT NULL CHECK (currency IN ('RUB', 'EUR', 'USD', 'GBP', 'UAH', 'BYN', 'KZT', 'AZN', 'CHF', 'CZK', 'CAD', 'PLN', 'SEK', 'TRY', 'CNY', 'INR', 'BRL', 'ZAR', 'UZS', 'BGN', 'RON', 'AUD', 'HKD', 'GEL', 'KGS', 'AMD', 'TJS')),
    account_id       text,
    status           text NOT NULL CHECK (status IN ('started', 'succeeded', 'declined', 'abandoned')),
    card_first_six   text,
    card_last_four   text,
    card_brand       text,
    decline_code     integer,
    decline_message  text,
    -- When the acquirer says the money was taken (as accepted: see BillingCore.PaymentTime).
    succeeded_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (acquirer, transaction_id)
);
CREATE INDEX payment_attempts_invoice ON payment_attempts (invoice_id);
CREATE INDEX payment_attempts_started ON payment_attempts (created_at) WHERE status = 'started';

ALTER TABLE invoices ADD COLUMN paid_attempt_id uuid REFERENCES payment_attempts (id);
ALTER TABLE invoices ADD CONSTRAINT invoices_currency CHECK (currency IN ('RUB'));
ALTER TABLE invoices ADD CONSTRAINT invoices_paid_by_attempt CHECK (status <> 'paid' OR paid_attempt_id IS NOT NULL) NOT VALID;
ALTER TABLE plans ADD CONSTRAINT plans_currency CHECK (currency IN ('RUB'));

CREATE TABLE refunds (
    id                 uuid PRIMARY KEY,
    attempt_id         uuid NOT NULL REFERENCES payment_attempts (id),
    invoice_id         uuid REFERENCES invoices (id),
    acquirer           text NOT NULL,
    amount             bigint NOT NULL CHECK (amount > 0),
    currency           text NOT NULL CHECK (currency IN ('RUB', 'EUR', 'USD', 'GBP', 'UAH', 'BYN', 'KZT', 'AZN', 'CHF', 'CZK', 'CAD', 'PLN', 'SEK', 'TRY', 'CNY', 'INR', 'BRL', 'ZAR', 'UZS', 'BGN', 'RON', 'AUD', 'HKD', 'GEL', 'KGS', 'AMD', 'TJS')),
    status             text NOT NULL CHECK (status IN ('created', 'pending', 'refunded', 'failed')),
    reason             text NOT NULL CHECK (reason IN (
                           'duplicate_charge', 'amount_mismatch', 'account_mismatch', 'unknown_invoice',
                           'invoice_closed', 'requested_by_operator', 'made_at_acquirer')),
    comment            text,
    -- The refund's own transaction id at the acquirer, once known.
    acquirer_refund_id text,
    failure_message    text,
    actor              text NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    settled_at         timestamptz,
    UNIQUE (acquirer, acquirer_refund_id)
);
CREATE INDEX refunds_attempt ON refunds (attempt_id);
CREATE INDEX refunds_invoice ON refunds (invoice_id);
CREATE INDEX refunds_unsettled ON refunds (created_at) WHERE status IN ('created', 'pending');

-- Until renewals exist nothing renews, so nothing claims to.
ALTER TABLE subscriptions ALTER COLUMN auto_renew SET DEFAULT false;
UPDATE subscriptions SET auto_renew = false;

-- Invoices paid before attempts existed get the attempt that paid them, so the books balance.
INSERT INTO payment_attempts (id, acquirer, transaction_id, invoice_id, claimed_invoice_id, amount, currency, account_id, status, succeeded_at, created_at, updated_at)
SELECT gen_random_uuid(), acquirer, COALESCE(acquirer_transaction_id, 'legacy-' || id::text), id, id::text, amount, currency,
       'acc_' || left(encode(sha256(convert_to('movix-account/' || user_id::text, 'UTF8')), 'hex'), 32),
       'succeeded', paid_at, COALESCE(paid_at, created_at), now()
FROM invoices WHERE status = 'paid';
UPDATE invoices i SET paid_attempt_id = a.id FROM payment_attempts a WHERE a.invoice_id = i.id AND i.status = 'paid';
