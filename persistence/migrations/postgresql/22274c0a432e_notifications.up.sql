-- Osprey schema revision 22274c0a432e (notifications), PostgreSQL, upgrade.
-- Notification policies and the notification delivery outbox
-- Osprey state-change notifications (an Osprey feature, not part of the Prefect schema).
-- notification_policy: which flow run states notify which channels, from config files or the API.
-- notification_outbox: one delivery per (policy, channel, state, kind), leased and retried by the sender.

CREATE TABLE notification_policy (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    name VARCHAR NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT true,
    source VARCHAR(8) NOT NULL DEFAULT 'api',
    state_names JSONB NOT NULL DEFAULT '[]',
    match JSONB NOT NULL DEFAULT '{}',
    channels JSONB NOT NULL DEFAULT '[]',
    message_template TEXT,
    CONSTRAINT pk_notification_policy PRIMARY KEY (id),
    CONSTRAINT uq_notification_policy__name UNIQUE (name),
    CONSTRAINT ck_notification_policy__source CHECK (source IN ('file', 'api'))
);
CREATE INDEX ix_notification_policy__updated ON notification_policy (updated);

CREATE TABLE notification_outbox (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    policy_name VARCHAR NOT NULL,
    channel_name VARCHAR NOT NULL,
    flow_run_id UUID,
    state_id UUID,
    state_name VARCHAR,
    dedup_key VARCHAR,
    kind VARCHAR(8) NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_owner VARCHAR,
    lease_expires_at TIMESTAMPTZ,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    CONSTRAINT pk_notification_outbox PRIMARY KEY (id),
    CONSTRAINT uq_notification_outbox__policy_name_channel_name_state_id_kind
        UNIQUE (policy_name, channel_name, state_id, kind),
    CONSTRAINT ck_notification_outbox__kind CHECK (kind IN ('trigger', 'resolve', 'test')),
    CONSTRAINT ck_notification_outbox__status CHECK (status IN ('pending', 'delivered', 'dead'))
);
CREATE INDEX ix_notification_outbox__updated ON notification_outbox (updated);
CREATE INDEX ix_notification_outbox__status_next_attempt_at ON notification_outbox (status, next_attempt_at);
CREATE INDEX ix_notification_outbox__flow_run_id ON notification_outbox (flow_run_id);
CREATE INDEX ix_notification_outbox__dedup_key ON notification_outbox (dedup_key);
