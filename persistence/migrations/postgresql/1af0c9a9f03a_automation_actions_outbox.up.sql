-- Osprey schema revision 1af0c9a9f03a (automation_actions_outbox), PostgreSQL, upgrade.
-- The outbox also carries automation actions (kind 'action'), so a firing and its actions commit together.

ALTER TABLE notification_outbox DROP CONSTRAINT ck_notification_outbox__kind;
ALTER TABLE notification_outbox ADD CONSTRAINT ck_notification_outbox__kind
    CHECK (kind IN ('trigger', 'resolve', 'test', 'action'));
