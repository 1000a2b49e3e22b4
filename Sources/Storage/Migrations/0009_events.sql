-- Events delivered (issue 9): the outbox is published in order, fanned out to webhook endpoints
-- and to email, and every delivery attempt is recorded. docs/events.md describes the format.

-- Published events carry a stable public id, the subscription whose events keep their order, the
-- time they happened (the service's clock) and the format version. `sequence` is the order of
-- publication, given by one publisher at a time (an advisory lock), so `GET /internal/v1/events`
-- pages through a list that never grows behind a reader: ids are taken when a transaction writes,
-- not when it commits, so id order is not commit order.
ALTER TABLE outbox_events
    ADD COLUMN event_id        uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN subscription_id uuid,
    ADD COLUMN user_id         uuid,
    ADD COLUMN occurred_at     timestamptz,
    ADD COLUMN schema_version  integer NOT NULL DEFAULT 0,
    ADD COLUMN sequence        bigint;

-- Events written before delivery existed (version 0: every field a string) are published as
-- they are, without fan-out: a receiver registered now, or an email sent now, for a payment made
-- months ago would be news to nobody.
UPDATE outbox_events SET
    subscription_id = aggregate_id,
    occurred_at = created_at,
    dispatched_at = coalesce(dispatched_at, now()),
    sequence = numbered.n
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM outbox_events) AS numbered
WHERE numbered.id = outbox_events.id;

ALTER TABLE outbox_events ALTER COLUMN occurred_at SET NOT NULL;
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_event_id UNIQUE (event_id);
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_sequence UNIQUE (sequence);
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_published CHECK ((sequence IS NULL) = (dispatched_at IS NULL));

-- Receivers of signed webhooks. The secret signs every delivery; the API shows it once.
CREATE TABLE webhook_endpoints (
    id            uuid PRIMARY KEY,
    url           text NOT NULL,
    event_types   text[] NOT NULL CHECK (cardinality(event_types) > 0),
    secret        text NOT NULL,
    description   text,
    -- Set when deliveries have failed for the failing threshold (3 days) without a success.
    failing_since timestamptz,
    created_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);

-- One event for one endpoint: due at `next_attempt_at`, taken by one worker at a time under a
-- lease, done when `delivered_at` is set. `sequence` copies the event's, so a subscription's
-- messages to an endpoint go out in order: only the earliest undelivered one is ever taken.
CREATE TABLE webhook_messages (
    id              bigserial PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id),
    event_id        bigint NOT NULL REFERENCES outbox_events (id),
    ordering_key    uuid NOT NULL,
    sequence        bigint NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until    timestamptz,
    first_failed_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX webhook_messages_queue ON webhook_messages (endpoint_id, ordering_key, sequence) WHERE delivered_at IS NULL;
CREATE INDEX webhook_messages_event ON webhook_messages (event_id);

-- Every attempt to deliver a message: what the receiver answered, or why there was no answer.
CREATE TABLE webhook_deliveries (
    id           bigserial PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES webhook_messages (id),
    endpoint_id  uuid NOT NULL REFERENCES webhook_endpoints (id),
    event_id     bigint NOT NULL REFERENCES outbox_events (id),
    attempt      integer NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, attempted_at);

-- The viewer's language, for email: set at checkout.
ALTER TABLE customers ADD COLUMN language text NOT NULL DEFAULT 'ru' CHECK (language IN ('ru', 'en'));

-- Mail to viewers, rendered when its event is published: one per event and template, so an event
-- published once is mailed once; sent by the worker with retries.
CREATE TABLE emails (
    id              uuid PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES outbox_events (id),
    template        text NOT NULL,
    user_id         uuid NOT NULL,
    recipient       text NOT NULL,
    language        text NOT NULL CHECK (language IN ('ru', 'en')),
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    UNIQUE (event_id, template)
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX emails_user ON emails (user_id, created_at);

-- The notice owed before a renewal charges the card.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('renewal', 'dunning_retry', 'expiry', 'renewal_notice'));

-- Renewals already scheduled get their notice, at the default 3 days before the charge (a notice
-- whose time has passed runs at once and says nothing once the charge is due).
INSERT INTO jobs (kind, key, run_at)
SELECT 'renewal_notice', key, run_at - interval '3 days' FROM jobs WHERE kind = 'renewal' AND done_at IS NULL
ON CONFLICT (kind, key) DO NOTHING;
