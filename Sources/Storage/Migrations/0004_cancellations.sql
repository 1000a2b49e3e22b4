-- A viewer's cancellation: the quote they confirmed (what comes back, until when they keep
-- access) and the refunds it opened. One per subscription unless resumed, so however often and
-- however concurrently cancel is asked, one cancellation and one refund come of it.

CREATE TABLE cancellations (
    id              uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES subscriptions (id),
    user_id         uuid NOT NULL REFERENCES customers (user_id),
    policy          text NOT NULL CHECK (policy IN ('prorated', 'none')),
    rule            text NOT NULL CHECK (rule IN ('within_first_hour', 'unused_months', 'nothing_unused', 'no_refunds')),
    refund_amount   bigint NOT NULL CHECK (refund_amount >= 0),
    currency        text NOT NULL CHECK (currency IN ('RUB')),
    unused_months   integer NOT NULL CHECK (unused_months >= 0),
    access_until    timestamptz NOT NULL,
    -- Where the paid access ended before the cancellation cut it.
    period_end      timestamptz NOT NULL,
    -- Resuming restores the viewer's renewal choice.
    auto_renew_before boolean NOT NULL,
    idempotency_key text,
    actor           text NOT NULL,
    requested_at    timestamptz NOT NULL,
    resumed_at      timestamptz,
    UNIQUE (user_id, idempotency_key)
);
CREATE UNIQUE INDEX cancellations_one_per_subscription ON cancellations (subscription_id) WHERE resumed_at IS NULL;

ALTER TABLE refunds ADD COLUMN cancellation_id uuid REFERENCES cancellations (id);
CREATE INDEX refunds_cancellation ON refunds (cancellation_id) WHERE cancellation_id IS NOT NULL;
ALTER TABLE refunds DROP CONSTRAINT refunds_reason_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_reason_check CHECK (reason IN (
    'duplicate_charge', 'amount_mismatch', 'account_mismatch', 'unknown_invoice',
    'invoice_closed', 'requested_by_operator', 'made_at_acquirer', 'cancellation'));
-- A cancellation's refund belongs to it; other refunds to none.
ALTER TABLE refunds ADD CONSTRAINT refunds_cancellation_reason CHECK ((reason = 'cancellation') = (cancellation_id IS NOT NULL));

-- When a refund was first sent: the acquirer replays its answer to a resend (same request id) for
-- an hour only; after that a resend could refund twice, so reconciliation stops resending.
ALTER TABLE refunds ADD COLUMN submitted_at timestamptz;
UPDATE refunds SET submitted_at = updated_at WHERE status <> 'created';

-- Access refunded in full ends the moment it is cancelled: a period may shrink to nothing.
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_period CHECK (current_period_end IS NULL OR current_period_end >= current_period_start);
