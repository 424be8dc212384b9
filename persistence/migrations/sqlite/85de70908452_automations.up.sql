-- Osprey schema revision 85de70908452 (automations), SQLite, upgrade.
-- Prefect's automations and the state their trigger evaluation keeps (orm_models.py, Prefect 3.9.1)
-- automation: trigger and the three action lists are Prefect's JSON documents, stored as the API answers them.
-- automation_related_resource: the deployments an automation's run-deployment actions name, and the resource
-- that owns it (owner_resource at creation). The bucket, held-event, child-firing and follower tables are the
-- evaluation state, created now so that the evaluation adds no revision of its own.

CREATE TABLE automation (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    name VARCHAR NOT NULL,
    description VARCHAR NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT 1,
    tags TEXT NOT NULL DEFAULT '[]',
    trigger TEXT NOT NULL,
    actions TEXT NOT NULL,
    actions_on_trigger TEXT NOT NULL DEFAULT '[]',
    actions_on_resolve TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT pk_automation PRIMARY KEY (id)
);
CREATE INDEX ix_automation__updated ON automation (updated);
CREATE INDEX ix_automation__name ON automation (name);

CREATE TABLE automation_bucket (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    automation_id CHAR(36) NOT NULL,
    trigger_id CHAR(36) NOT NULL,
    bucketing_key TEXT NOT NULL DEFAULT '[]',
    last_event TEXT,
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_operation VARCHAR,
    triggered_at TEXT,
    CONSTRAINT pk_automation_bucket PRIMARY KEY (id),
    CONSTRAINT fk_automation_bucket__automation_id__automation FOREIGN KEY (automation_id)
        REFERENCES automation (id) ON DELETE CASCADE
);
CREATE INDEX ix_automation_bucket__updated ON automation_bucket (updated);
CREATE UNIQUE INDEX uq_automation_bucket__automation_id__trigger_id__bucketing_key
    ON automation_bucket (automation_id, trigger_id, bucketing_key);
CREATE INDEX ix_automation_bucket__automation_id__end ON automation_bucket (automation_id, "end");

CREATE TABLE automation_held_event (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    automation_id CHAR(36) NOT NULL,
    trigger_id CHAR(36) NOT NULL,
    bucketing_key TEXT NOT NULL DEFAULT '[]',
    event_id CHAR(36) NOT NULL,
    occurred TEXT NOT NULL,
    CONSTRAINT pk_automation_held_event PRIMARY KEY (id),
    CONSTRAINT fk_automation_held_event__automation_id__automation FOREIGN KEY (automation_id)
        REFERENCES automation (id) ON DELETE CASCADE
);
CREATE INDEX ix_automation_held_event__updated ON automation_held_event (updated);
CREATE UNIQUE INDEX uq_automation_held_event__trigger_key_event
    ON automation_held_event (automation_id, trigger_id, bucketing_key, event_id);
CREATE INDEX ix_automation_held_event__trigger_key_occurred
    ON automation_held_event (automation_id, trigger_id, bucketing_key, occurred, event_id);

CREATE TABLE automation_related_resource (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    automation_id CHAR(36) NOT NULL,
    resource_id VARCHAR,
    automation_owned_by_resource BOOLEAN NOT NULL DEFAULT 0,
    CONSTRAINT pk_automation_related_resource PRIMARY KEY (id),
    CONSTRAINT fk_automation_related_resource__automation_id__automation FOREIGN KEY (automation_id)
        REFERENCES automation (id) ON DELETE CASCADE
);
CREATE INDEX ix_automation_related_resource__updated ON automation_related_resource (updated);
CREATE UNIQUE INDEX uq_automation_related_resource__automation_id__resource_id
    ON automation_related_resource (automation_id, resource_id);
CREATE INDEX ix_automation_related_resource__resource_id ON automation_related_resource (resource_id);

CREATE TABLE composite_trigger_child_firing (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    automation_id CHAR(36) NOT NULL,
    parent_trigger_id CHAR(36) NOT NULL,
    child_trigger_id CHAR(36) NOT NULL,
    child_firing_id CHAR(36) NOT NULL,
    child_fired_at TEXT,
    child_firing TEXT NOT NULL,
    CONSTRAINT pk_composite_trigger_child_firing PRIMARY KEY (id),
    CONSTRAINT fk_composite_trigger_child_firing__automation_id__automation FOREIGN KEY (automation_id)
        REFERENCES automation (id) ON DELETE CASCADE
);
CREATE INDEX ix_composite_trigger_child_firing__updated ON composite_trigger_child_firing (updated);
CREATE UNIQUE INDEX uq_composite_trigger_child_firing__a_id__pt_id__ct__id
    ON composite_trigger_child_firing (automation_id, parent_trigger_id, child_trigger_id);

CREATE TABLE automation_event_follower (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    scope VARCHAR NOT NULL DEFAULT '',
    leader_event_id CHAR(36) NOT NULL,
    follower_event_id CHAR(36) NOT NULL,
    received TEXT NOT NULL,
    follower TEXT NOT NULL,
    CONSTRAINT pk_automation_event_follower PRIMARY KEY (id)
);
CREATE INDEX ix_automation_event_follower__updated ON automation_event_follower (updated);
CREATE UNIQUE INDEX uq_follower_for_scope ON automation_event_follower (scope, follower_event_id);
CREATE INDEX ix_ae_follower_scope_leader ON automation_event_follower (scope, leader_event_id);
CREATE INDEX ix_automation_event_follower__leader_event_id ON automation_event_follower (leader_event_id);
CREATE INDEX ix_automation_event_follower__received ON automation_event_follower (received);
