-- The launch catalog: Movix Premium for 1, 3, 6 and 12 months. Fixed ids so that every
-- environment, and every link the web app keeps, names the same plan.
INSERT INTO plans (id, code, tier, title, period_months, price_amount, currency) VALUES
    ('0b9f6a64-7d5e-4c1a-9a51-000000000001', 'premium_1m',  'premium', 'Movix Premium, 1 month',   1,  29900, 'RUB'),
    ('0b9f6a64-7d5e-4c1a-9a51-000000000003', 'premium_3m',  'premium', 'Movix Premium, 3 months',  3,  79900, 'RUB'),
    ('0b9f6a64-7d5e-4c1a-9a51-000000000006', 'premium_6m',  'premium', 'Movix Premium, 6 months',  6, 149000, 'RUB'),
    ('0b9f6a64-7d5e-4c1a-9a51-000000000012', 'premium_12m', 'premium', 'Movix Premium, 12 months', 12, 269000, 'RUB')
ON CONFLICT (code) DO NOTHING;
