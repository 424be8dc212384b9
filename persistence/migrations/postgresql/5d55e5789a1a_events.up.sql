-- Osprey schema revision 5d55e5789a1a (events), PostgreSQL, upgrade.
-- Events and event resources
-- events.id is the client-assigned event id (duplicates are dropped with ON CONFLICT DO NOTHING).
-- event_resources has one row per resource of an event, resource_role is empty for the primary resource.

CREATE TABLE events (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    occurred TIMESTAMPTZ NOT NULL,
    event TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource JSONB NOT NULL DEFAULT '{}',
    related_resource_ids JSONB NOT NULL DEFAULT '[]',
    related JSONB NOT NULL DEFAULT '[]',
    payload JSONB NOT NULL DEFAULT '{}',
    received TIMESTAMPTZ NOT NULL,
    recorded TIMESTAMPTZ NOT NULL,
    follows UUID,
    CONSTRAINT pk_events PRIMARY KEY (id)
);
CREATE INDEX ix_events__updated ON events (updated);
CREATE INDEX ix_events__occurred ON events (occurred);
CREATE INDEX ix_events__occurred_id ON events (occurred, id);
CREATE INDEX ix_events__event__id ON events (event, id);
CREATE INDEX ix_events__event_occurred ON events (event, occurred);
CREATE INDEX ix_events__event_occurred_id ON events (event, occurred, id);
CREATE INDEX ix_events__event_resource_id_occurred ON events (event, resource_id, occurred);
CREATE INDEX ix_events__related_resource_ids_gin ON events USING gin (related_resource_ids);
CREATE INDEX ix_events__related_gin ON events USING gin (related);

CREATE TABLE event_resources (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    occurred TIMESTAMPTZ NOT NULL,
    resource_id TEXT NOT NULL,
    resource_role TEXT NOT NULL DEFAULT '',
    resource JSONB NOT NULL DEFAULT '{}',
    event_id UUID NOT NULL,
    CONSTRAINT pk_event_resources PRIMARY KEY (id)
);
CREATE INDEX ix_event_resources__updated ON event_resources (updated);
CREATE INDEX ix_event_resources__resource_id__occurred ON event_resources (resource_id, occurred);
CREATE INDEX ix_event_resources__occurred ON event_resources (occurred);
CREATE INDEX ix_event_resources__event_id ON event_resources (event_id);
