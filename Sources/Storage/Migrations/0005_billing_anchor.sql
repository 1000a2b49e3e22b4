-- Where a subscription's billing months are counted from: the start of its first paid period
-- (again after a lapse). Periods bought on top end on the anchor's day of the month, so one from
-- 31 January runs to 28/29 February, then 31 March, instead of drifting to the 28th.
ALTER TABLE subscriptions ADD COLUMN billing_anchor timestamptz;
UPDATE subscriptions SET billing_anchor = current_period_start WHERE current_period_start IS NOT NULL;
