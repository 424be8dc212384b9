-- Osprey schema revision b589394fae2d (automation_replay), PostgreSQL, upgrade.
-- The trigger evaluator's progress: a mark per evaluated event (written with its evaluation, so an event is
-- evaluated once) and the received time through which every event was handled. After a crash the events
-- received since are read back in received order (ix_events__received) and the unmarked ones evaluated.

CREATE TABLE automation_evaluated_event (
    event_id UUID NOT NULL,
    received TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_automation_evaluated_event PRIMARY KEY (event_id)
);
CREATE INDEX ix_automation_evaluated_event__received ON automation_evaluated_event (received);

CREATE TABLE automation_evaluation_progress (
    id INTEGER NOT NULL,
    handled_through TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT pk_automation_evaluation_progress PRIMARY KEY (id),
    CONSTRAINT ck_automation_evaluation_progress__one_row CHECK (id = 1)
);

CREATE INDEX ix_events__received ON events (received);
