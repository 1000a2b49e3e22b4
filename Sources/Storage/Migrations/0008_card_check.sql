-- Changing the card for renewals (issue 8): a `card_check` invoice charges 1 ruble to save a new
-- card through the acquirer's form, and that ruble is refunded at once (reason `card_check`).
-- It buys no period and may be paid whatever the subscription's state.
ALTER TABLE invoices DROP CONSTRAINT invoices_kind_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_kind_check CHECK (kind IN ('initial', 'renewal', 'card_check'));
ALTER TABLE refunds DROP CONSTRAINT refunds_reason_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_reason_check CHECK (reason IN (
    'duplicate_charge', 'amount_mismatch', 'account_mismatch', 'unknown_invoice',
    'invoice_closed', 'requested_by_operator', 'made_at_acquirer', 'cancellation', 'card_check'));
