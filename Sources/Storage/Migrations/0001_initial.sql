-- The tables of checkout and payment notifications. Money is bigint minor units, times timestamptz.

CREATE TABLE plans (
    id            uuid PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    tier          text NOT NULL,
    title         text NOT NULL,
    period_months integer NOT NULL CHECK (period_months > 0),
    price_amount  bigint NOT NULL CHECK (price_amount > 0),
    currency      text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    user_id                   uuid PRIMARY KEY,
    email                     text,
    default_payment_method_id uuid,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payment_methods (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES customers (user_id),
    acquirer       text NOT NULL,
    token          text NOT NULL,
    card_first_six text,
    card_last_four text,
    card_brand     text,
    exp_month      integer,
    exp_year       integer,
    revoked        boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (acquirer, token)
);
CREATE INDEX payment_methods_user ON payment_methods (user_id);

ALTER TABLE customers
    ADD CONSTRAINT customers_default_payment_method
    FOREIGN KEY (default_payment_method_id) REFERENCES payment_methods (id);

CREATE TABLE subscriptions (
    id                   uuid PRIMARY KEY,
    user_id              uuid NOT NULL REFERENCES customers (user_id),
    plan_id              uuid NOT NULL REFERENCES plans (id),
    status               text NOT NULL CHECK (status IN ('pending', 'active', 'past_due', 'canceled', 'expired')),
    current_period_start timestamptz,
    current_period_end   timestamptz,
    auto_renew           boolean NOT NULL DEFAULT true,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (current_period_end IS NULL OR current_period_end > current_period_start)
);
-- A viewer has at most one subscription that is not over.
CREATE UNIQUE INDEX subscriptions_one_current_per_user ON subscriptions (user_id) WHERE status <> 'expired';

CREATE TABLE invoices (
    id                     uuid PRIMARY KEY,
    user_id                uuid NOT NULL REFERENCES customers (user_id),
    subscription_id        uuid NOT NULL REFERENCES subscriptions (id),
    plan_id                uuid NOT NULL REFERENCES plans (id),
    kind                   text NOT NULL CHECK (kind IN ('initial', 'renewal')),
    amount                 bigint NOT NULL CHECK (amount > 0),
    currency               text NOT NULL,
    status                 text NOT NULL CHECK (status IN ('created', 'pending', 'paid', 'failed', 'canceled')),
    acquirer               text NOT NULL,
    acquirer_transaction_id text,
    payment_method_id      uuid REFERENCES payment_methods (id),
    period_start           timestamptz,
    period_end             timestamptz,
    failure_code           integer,
    failure_message        text,
    email                  text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    paid_at                timestamptz
);
-- Never two open invoices for one viewer: the database, not only the code, rules out a double charge.
CREATE UNIQUE INDEX invoices_one_open_per_user ON invoices (user_id) WHERE status IN ('created', 'pending');
CREATE INDEX invoices_user_created ON invoices (user_id, created_at DESC);

CREATE TABLE acquiring_log (
    id             bigserial PRIMARY KEY,
    acquirer       text NOT NULL,
    direction      text NOT NULL CHECK (direction IN ('request', 'notification')),
    operation      text NOT NULL,
    transaction_id text,
    invoice_id     text,
    http_status    integer,
    code           text,
    message        text,
    payload        text NOT NULL,
    duration_ms    integer,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX acquiring_log_invoice ON acquiring_log (invoice_id);
CREATE INDEX acquiring_log_transaction ON acquiring_log (transaction_id);

CREATE TABLE state_transitions (
    id         bigserial PRIMARY KEY,
    entity     text NOT NULL,
    entity_id  uuid NOT NULL,
    from_state text,
    to_state   text NOT NULL,
    event      text NOT NULL,
    actor      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX state_transitions_entity ON state_transitions (entity, entity_id, id);

CREATE TABLE outbox_events (
    id            bigserial PRIMARY KEY,
    type          text NOT NULL,
    aggregate_id  uuid NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz
);
CREATE INDEX outbox_events_undispatched ON outbox_events (id) WHERE dispatched_at IS NULL;

CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL,
    key             text NOT NULL,
    request_hash    text NOT NULL,
    response_status integer NOT NULL,
    response_body   text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
