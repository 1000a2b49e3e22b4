-- Automatic renewals (issue 8).
-- While a renewal of the current period is under way and unpaid, access lasts to the end of the
-- grace that follows the period (past_due), not to the period's end.
ALTER TABLE subscriptions ADD COLUMN grace_until timestamptz;

-- One renewal invoice per subscription period, whoever creates it: two workers, a retry after a
-- crash and a late notification cannot bill (or pay) a period twice. A canceled one (closed by a
-- cancellation that was then taken back) can never be paid, so it does not count. A renewal knows
-- its period from the start.
CREATE UNIQUE INDEX invoices_one_renewal_per_period ON invoices (subscription_id, period_start) WHERE kind = 'renewal' AND status <> 'canceled';
ALTER TABLE invoices ADD CONSTRAINT invoices_renewal_period CHECK (kind <> 'renewal' OR (period_start IS NOT NULL AND period_end > period_start));

-- Subscriptions that were paid before renewals existed get their renewal job: 24 hours (the
-- default lead) before their period ends. Whether it charges is decided when it runs.
INSERT INTO jobs (kind, key, run_at)
SELECT 'renewal', id::text || '/' || round(extract(epoch FROM current_period_end) * 1000000)::bigint, current_period_end - interval '24 hours'
FROM subscriptions WHERE status = 'active' AND current_period_end IS NOT NULL
ON CONFLICT (kind, key) DO NOTHING;


-- Done jobs are purged after a month (`JobRepository.purge`).
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;
