-- Scheduled work for the worker: claimed with FOR UPDATE SKIP LOCKED under a lease, so any number
-- of workers share it and a crashed worker's job is taken again once its lease ends. One job per
-- kind and key: scheduling the same work twice schedules it once.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('renewal', 'dunning_retry', 'expiry')),
    key          text NOT NULL,
    run_at       timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    leased_by    text,
    leased_until timestamptz,
    done_at      timestamptz,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, key)
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL;
