-- Osprey schema revision 1af0c9a9f03a (automation_actions_outbox), SQLite, downgrade.
-- Action jobs have no place in the older outbox: they are dropped, then the table is rebuilt.

DELETE FROM notification_outbox WHERE kind = 'action';
DROP INDEX ix_notification_outbox__updated;
DROP INDEX ix_notification_outbox__status_next_attempt_at;
DROP INDEX ix_notification_outbox__flow_run_id;
DROP INDEX ix_notification_outbox__dedup_key;
ALTER TABLE notification_outbox RENAME TO notification_outbox_old;
CREATE TABLE notification_outbox (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    policy_name VARCHAR NOT NULL,
    channel_name VARCHAR NOT NULL,
    flow_run_id CHAR(36),
    state_id CHAR(36),
    state_name VARCHAR,
    dedup_key VARCHAR,
    kind VARCHAR(8) NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    lease_owner VARCHAR,
    lease_expires_at TEXT,
    last_error TEXT,
    delivered_at TEXT,
    CONSTRAINT pk_notification_outbox PRIMARY KEY (id),
    CONSTRAINT uq_notification_outbox__policy_name_channel_name_state_id_kind
        UNIQUE (policy_name, channel_name, state_id, kind),
    CONSTRAINT ck_notification_outbox__kind CHECK (kind IN ('trigger', 'resolve', 'test')),
    CONSTRAINT ck_notification_outbox__status CHECK (status IN ('pending', 'delivered', 'dead'))
);
INSERT INTO notification_outbox SELECT id, created, updated, policy_name, channel_name, flow_run_id, state_id,
    state_name, dedup_key, kind, payload, status, attempts, next_attempt_at, lease_owner, lease_expires_at, last_error,
    delivered_at FROM notification_outbox_old;
DROP TABLE notification_outbox_old;
CREATE INDEX ix_notification_outbox__updated ON notification_outbox (updated);
CREATE INDEX ix_notification_outbox__status_next_attempt_at ON notification_outbox (status, next_attempt_at);
CREATE INDEX ix_notification_outbox__flow_run_id ON notification_outbox (flow_run_id);
CREATE INDEX ix_notification_outbox__dedup_key ON notification_outbox (dedup_key);
